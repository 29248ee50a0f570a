import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { principalFor } from "../../src/adapters/credentials.ts";
import type { CloudTrailApi, ErrorCode } from "../../src/api/index.ts";
import { httpClient } from "../../src/client/http.ts";
import { inProcessClient } from "../../src/client/in-process.ts";
import { type CredentialConfig, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import {
  createBucket as createS3Bucket,
  freePort,
  type S3TestServer,
  s3Client,
  startS3rver,
} from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * One conformance suite, two targets: the official SDK over HTTP against a real server on port 0,
 * and the same server's service called in process. Both targets share one server per file;
 * every test starts from an empty server.
 */

export const TARGET_KINDS = ["http", "in-process"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const REGION = "us-east-1";
export const ACCOUNT = "123456789012";
export const OTHER_ACCOUNT = "210987654321";

const CREDENTIALS: readonly CredentialConfig[] = [
  { accessKeyId: "test", secretAccessKey: "test", accountId: ACCOUNT, type: "IAMUser", userName: "alice" },
  {
    accessKeyId: "other",
    secretAccessKey: "other-secret",
    accountId: OTHER_ACCOUNT,
    type: "IAMUser",
    userName: "bob",
  },
];

export interface Target {
  readonly kind: TargetKind;
  /** Account ACCOUNT in us-east-1. */
  readonly api: CloudTrailApi;
  /** Account ACCOUNT in another region. */
  apiIn(region: string): CloudTrailApi;
  /** The other target onto the same server (account ACCOUNT, us-east-1), to compare answers. */
  readonly peer: CloudTrailApi;
  /** Another account (OTHER_ACCOUNT), us-east-1 unless told. */
  apiAs(accountId: string, region?: string): CloudTrailApi;
  /** Regions the server serves (multi-Region trails have a shadow in each). */
  readonly regions: readonly string[];
  createBucket(name: string): Promise<void>;
  deleteBucket(name: string): Promise<void>;
  /** Forgets every trail of both accounts and every bucket. */
  reset(): Promise<void>;
  /** Closes the server and starts a new one over the same data directory. */
  restart(): Promise<void>;
}

export interface HarnessOptions {
  /**
   * Where buckets live: local directories (default), s3rver, an S3 endpoint nobody listens on
   * (every bucket probe fails to connect), or one that answers every request with 403.
   */
  objectStore?: "local" | "s3rver" | "unreachable" | "forbidding";
}

function credentialOf(accountId: string): CredentialConfig {
  const found = CREDENTIALS.find((c) => c.accountId === accountId);
  if (!found) throw new Error(`no credential for account ${accountId}`);
  return found;
}

const UNCHECKED_S3_KEY = { accessKeyId: "test", secretAccessKey: "test" };

/** Both accounts as configured credentials, read through loadConfig as a deployment would. */
function twoAccountConfig() {
  const dir = mkdtempSync(join(tmpdir(), "opentrail-conformance-config-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ credentials: CREDENTIALS }));
    // startTestServer brings its own data directory
    const { dataDir: _dataDir, ...config } = loadConfig({ flags: { config: file, port: 0 } });
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The server of one file, and the clients onto it (rebuilt after a restart). */
class Fixture {
  server: TestServer | undefined;
  app: OpenTrail | undefined;
  s3: S3TestServer | undefined;
  #stub: Server | undefined;
  readonly #clients = new Map<string, CloudTrailApi>();
  #sdkClients: { destroy(): void }[] = [];
  readonly options: HarnessOptions;

  constructor(options: HarnessOptions) {
    this.options = options;
  }

  /** An endpoint that never holds a bucket: nothing to create there and nothing to clean up. */
  get #bucketless(): boolean {
    return this.options.objectStore === "unreachable" || this.options.objectStore === "forbidding";
  }

  async start(): Promise<void> {
    let config = twoAccountConfig();
    if (this.options.objectStore === "s3rver") {
      this.s3 = await startS3rver();
      config = {
        ...config,
        // s3rver buckets carry no CloudTrail policy; test/policy/ covers the checks
        policyChecks: "off",
        s3: {
          endpoint: this.s3.endpoint,
          region: this.s3.region,
          ...this.s3.credentials,
          forcePathStyle: true,
        },
      };
    } else if (this.#bucketless) {
      const endpoint =
        this.options.objectStore === "unreachable"
          ? `http://127.0.0.1:${await freePort()}`
          : await this.#forbid();
      config = { ...config, s3: { endpoint, region: REGION, ...UNCHECKED_S3_KEY, forcePathStyle: true } };
    }
    this.server = await startTestServer(config);
    this.app = this.server.app;
  }

  #forgetClients(): void {
    for (const client of this.#sdkClients) client.destroy();
    this.#sdkClients = [];
    this.#clients.clear();
  }

  async stop(): Promise<void> {
    this.#forgetClients();
    await this.app?.close();
    await this.server?.close();
    await this.s3?.stop();
    const stub = this.#stub;
    if (stub) {
      stub.closeAllConnections();
      await new Promise<void>((resolve) => stub.close(() => resolve()));
    }
  }

  /** An endpoint that refuses everything, as S3 does for a bucket whose policy shuts us out. */
  async #forbid(): Promise<string> {
    const stub = createServer((_req, res) => {
      res.writeHead(403).end();
    });
    this.#stub = stub;
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  }

  async restart(): Promise<void> {
    const app = this.#app();
    await app.close();
    this.#forgetClients();
    this.app = await startOpenTrail(app.config, { log: pino({ level: "silent" }) });
  }

  #app(): OpenTrail {
    if (!this.app) throw new Error("the conformance server has not started");
    return this.app;
  }

  client(kind: TargetKind, accountId: string, region: string): CloudTrailApi {
    const key = `${kind} ${accountId} ${region}`;
    let api = this.#clients.get(key);
    if (!api) {
      const credential = credentialOf(accountId);
      if (kind === "http") {
        const http = httpClient({
          endpoint: this.#app().url,
          region,
          credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
          // a 5xx must show, not be retried away
          clientConfig: { maxAttempts: 1 },
        });
        this.#sdkClients.push(http.client);
        api = http;
      } else {
        api = inProcessClient(this.#app().service, { principal: principalFor(credential, region), region });
      }
      this.#clients.set(key, api);
    }
    return api;
  }

  async createBucket(name: string): Promise<void> {
    if (this.#bucketless) throw new Error("no bucket can be created on this object store");
    if (this.s3) await createS3Bucket(this.s3, name);
    else mkdirSync(join(this.#bucketsDir(), name), { recursive: true });
  }

  async deleteBucket(name: string): Promise<void> {
    if (this.s3) {
      const client = s3Client(this.s3);
      try {
        await client.send(new DeleteBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
    } else rmSync(join(this.#bucketsDir(), name), { recursive: true, force: true });
  }

  #bucketsDir(): string {
    return join(this.#app().config.dataDir, "buckets");
  }

  /**
   * With configured credentials the server is not in development mode, so there is no reset
   * route: every trail is deleted through the API instead, from its home region.
   */
  async reset(): Promise<void> {
    for (const { accountId } of CREDENTIALS) {
      const api = this.client("in-process", accountId, REGION);
      let NextToken: string | undefined;
      do {
        const page = await api.listTrails({ NextToken });
        for (const trail of page.Trails ?? []) {
          await this.client("in-process", accountId, trail.HomeRegion!).deleteTrail({ Name: trail.TrailARN });
        }
        NextToken = page.NextToken;
      } while (NextToken !== undefined);
    }
    await this.#removeBuckets();
  }

  async #removeBuckets(): Promise<void> {
    if (this.#bucketless) return;
    if (!this.s3) {
      // a delivery may be writing into a bucket meanwhile (ENOTEMPTY): rmSync tries again
      rmSync(this.#bucketsDir(), { recursive: true, force: true, maxRetries: 5 });
      mkdirSync(this.#bucketsDir(), { recursive: true });
      return;
    }
    const client = s3Client(this.s3);
    try {
      const { Buckets = [] } = await client.send(new ListBucketsCommand({}));
      for (const { Name: Bucket } of Buckets) {
        // once the service delivers log files, buckets hold objects that must go first
        const { Contents = [] } = await client.send(new ListObjectsV2Command({ Bucket }));
        for (const { Key } of Contents) await client.send(new DeleteObjectCommand({ Bucket, Key }));
        await client.send(new DeleteBucketCommand({ Bucket }));
      }
    } finally {
      client.destroy();
    }
  }
}

function targetOf(fixture: Fixture, kind: TargetKind): Target {
  return {
    kind,
    get api() {
      return fixture.client(kind, ACCOUNT, REGION);
    },
    get peer() {
      return fixture.client(kind === "http" ? "in-process" : "http", ACCOUNT, REGION);
    },
    apiIn: (region) => fixture.client(kind, ACCOUNT, region),
    apiAs: (accountId, region = REGION) => fixture.client(kind, accountId, region),
    get regions() {
      return fixture.app?.config.regions ?? [];
    },
    createBucket: (name) => fixture.createBucket(name),
    deleteBucket: (name) => fixture.deleteBucket(name),
    reset: () => fixture.reset(),
    restart: () => fixture.restart(),
  };
}

/**
 * `describe(name)` holding one server, with the suite `body` declared once per target; each
 * test starts from an empty server.
 */
export function forEachTarget(name: string, body: (t: Target) => void, options: HarnessOptions = {}): void {
  describe(name, () => {
    const fixture = new Fixture(options);
    beforeAll(() => fixture.start());
    afterAll(() => fixture.stop());
    for (const kind of TARGET_KINDS) {
      describe(kind, () => {
        const target = targetOf(fixture, kind);
        beforeEach(() => target.reset());
        body(target);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Comparing answers

/** An answer without `$metadata` and without undefined members, so both targets compare alike. */
export function stripped<T>(value: T): T {
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(stripped) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k !== "$metadata" && v !== undefined) out[k] = stripped(v);
    }
    return out as T;
  }
  return value;
}

/** What the official client adds to every answer; the in-process target has none. */
export function metadataOf(answer: unknown): { httpStatusCode?: number; requestId?: string } | undefined {
  return (answer as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
}

/** Asserts the exact answer: members absent on one side must be absent on the other. */
export async function expectAnswer<T>(call: Promise<T>, expected: unknown): Promise<T> {
  const answer = await call;
  expect(stripped(answer)).toStrictEqual(expected);
  return answer;
}

/** Asserts the AWS error code, the exact message and a client fault. */
export async function expectError(
  call: Promise<unknown>,
  code: ErrorCode,
  message: string | RegExp,
): Promise<void> {
  let caught: unknown;
  try {
    await call;
  } catch (e) {
    caught = e;
  }
  if (caught === undefined) throw new Error(`expected ${code}, but the call succeeded`);
  const { name, message: actual, $fault } = caught as { name?: unknown; message?: unknown; $fault?: unknown };
  expect({ name, message: actual }).toEqual({
    name: code,
    message: typeof message === "string" ? message : expect.stringMatching(message),
  });
  expect($fault).toBe(code === "InternalFailure" || code === "ServiceUnavailable" ? "server" : "client");
}

/**
 * HTTP only: a member of the wrong JSON type is refused by the wire before the service sees it
 * (the in-process target has no wire and trusts the types).
 */
export function wrongJsonType(
  t: Target,
  what: string,
  call: (api: CloudTrailApi) => Promise<unknown>,
  message: string,
): void {
  it.runIf(t.kind === "http")(`refuses ${what} with SerializationException`, async () => {
    await expectError(call(t.api), "SerializationException", message);
  });
}
