import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { pino } from "pino";
import { CLI_PATH } from "../../bench/support/server-process.ts";
import { LocalFsObjectStore } from "../../src/adapters/localfs/object-store.ts";
import { S3ObjectStore } from "../../src/adapters/s3/object-store.ts";
import { SqliteKeyStore } from "../../src/adapters/sqlite/key-store.ts";
import { runValidateLogs, type ValidateLogsFlags, type ValidateLogsIo } from "../../src/cli/validate-logs.ts";
import { loadConfig } from "../../src/config/index.ts";
import { signDigest, signingString } from "../../src/domain/digest.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import type { ObjectStore, StoredObject } from "../../src/ports/index.ts";
import { clockedClient } from "../support/clocked-client.ts";
import { createBucket, type S3TestServer, startMoto } from "../support/s3-servers.ts";
import { Screen } from "../support/terminal.ts";

/*
 * One trail logged through several digest periods by the service on a stepped clock, in the local
 * store or in moto's S3: chain 1 in bucket 1 (three hourly digests and a final one at StopLogging),
 * chain 2 in bucket 1 (started again, ended by a change of bucket), chain 3 in bucket 2 (an hourly
 * digest and a final one). Tests tamper with the objects through the ObjectStore port and put
 * them back afterwards.
 */

const run = promisify(execFile);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const BUCKET_1 = "ot-validate-1";
export const BUCKET_2 = "ot-validate-2";
const REGION = "us-east-1";

export type Backend = "local" | "moto";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Scenario {
  trailArn: string;
  t0: number;
  /** The end of the validated range: a fixed time after the last digest, so every run prints the same. */
  end: string;
  objects: ObjectStore;
  digestKeys(bucket: string): Promise<string[]>;
  logKeys(bucket: string): Promise<string[]>;
  /** Replaces an object's body, keeping its metadata. */
  change(bucket: string, key: string, body: Buffer): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  /** Puts an object that was not there. */
  add(bucket: string, key: string, body: Buffer, metadata?: Record<string, string>): Promise<void>;
  /** A digest re-signed with the service's private key after `edit` changed its JSON. */
  forgeDigest(bucket: string, key: string, edit: (doc: Record<string, unknown>) => void): Promise<void>;
  /** Undoes every change since the last restore. */
  restore(): Promise<void>;
  /** opentrail validate-logs in this process. */
  validate(extra?: Partial<ValidateLogsFlags>, env?: Record<string, string>): Promise<RunResult>;
  /** The same, with stdout and stderr on one terminal: what it shows at the end. */
  validateOnTerminal(extra?: Partial<ValidateLogsFlags>): Promise<{ code: number; screen: string }>;
  /** opentrail validate-logs: the built CLI as a child process. */
  validateBuilt(args?: string[]): Promise<RunResult>;
  /** aws cloudtrail validate-logs: moto's S3, or the local buckets through the server's S3 read API. */
  validateAws(args?: string[]): Promise<RunResult>;
  close(): Promise<void>;
}

export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

async function exec(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(command, args, { env, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

async function keysOf(objects: ObjectStore, bucket: string, folder: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of objects.listKeys(bucket, "AWSLogs/")) if (k.includes(folder)) keys.push(k);
  return keys;
}

export async function startScenario(backend: Backend): Promise<Scenario> {
  const dataDir = mkdtempSync(join(tmpdir(), "opentrail-validate-"));
  const cliDir = mkdtempSync(join(tmpdir(), "opentrail-validate-cli-"));
  writeFileSync(join(cliDir, "config"), "[default]\ns3 =\n  addressing_style = path\n");
  writeFileSync(join(cliDir, "credentials"), "");
  let s3: S3TestServer | undefined;
  if (backend === "moto") {
    s3 = await startMoto();
    await createBucket(s3, BUCKET_1);
    await createBucket(s3, BUCKET_2);
  }
  const t0 = Math.floor((Date.now() - 7 * HOUR) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };
  const config = {
    ...loadConfig({ flags: { port: 0, dataDir } }),
    deliveryIntervalMs: 3_600_000,
    // buckets without a CloudTrail policy: these tests are about digests
    policyChecks: "off" as const,
    ...(s3
      ? {
          s3: {
            endpoint: s3.endpoint,
            region: REGION,
            accessKeyId: "test",
            secretAccessKey: "test",
            forcePathStyle: true,
          },
        }
      : {}),
  };
  if (!s3) {
    mkdirSync(join(dataDir, "buckets", BUCKET_1), { recursive: true });
    mkdirSync(join(dataDir, "buckets", BUCKET_2), { recursive: true });
  }
  const app: OpenTrail = await startOpenTrail(config, { clock, log: pino({ level: "silent" }) });
  const objects: ObjectStore = s3
    ? new S3ObjectStore({ endpoint: s3.endpoint, credentials: s3.credentials })
    : new LocalFsObjectStore(join(dataDir, "buckets"));

  const api = () => clockedClient(app.url, clock);
  const at = (ms: number) => {
    t = t0 + ms;
  };
  const drain = async () => {
    await app.delivery.drain();
    await app.digests.drain();
  };

  const created = await api().createTrail({
    Name: "validated",
    S3BucketName: BUCKET_1,
    EnableLogFileValidation: true,
  });
  const trailArn = created.TrailARN!;
  await api().startLogging({ Name: trailArn });
  for (const [when, call] of [
    [10 * MINUTE, () => api().describeTrails({})],
    [HOUR + 5 * MINUTE, () => api().listTrails({})],
    [2 * HOUR + 5 * MINUTE, () => api().getTrailStatus({ Name: trailArn })],
    [3 * HOUR + 5 * MINUTE, () => api().describeTrails({})],
    [3 * HOUR + 40 * MINUTE, () => api().stopLogging({ Name: trailArn })],
    [4 * HOUR, () => api().startLogging({ Name: trailArn })],
    [4 * HOUR + 10 * MINUTE, () => api().describeTrails({})],
  ] as const) {
    at(when);
    await call();
    await drain();
  }
  await api().updateTrail({ Name: trailArn, S3BucketName: BUCKET_2 });
  await drain();
  at(4 * HOUR + 20 * MINUTE);
  await api().getTrailStatus({ Name: trailArn });
  await drain();
  at(5 * HOUR + 25 * MINUTE);
  await drain();
  at(5 * HOUR + 30 * MINUTE);
  await api().stopLogging({ Name: trailArn });
  await drain();
  real = true;

  const end = iso(t0 + 6 * HOUR);
  const undo: (() => Promise<void>)[] = [];
  const saved = async (bucket: string, key: string): Promise<StoredObject> => {
    const got = await objects.getObject(bucket, key);
    if (!got) throw new Error(`no object ${bucket}/${key}`);
    undo.push(() =>
      objects.putObject(bucket, key, got.body, {
        metadata: got.metadata,
        ...(got.contentType ? { contentType: got.contentType } : {}),
      }),
    );
    return got;
  };
  const s3Env = s3 ? { AWS_ENDPOINT_URL_S3: s3.endpoint } : {};

  const inProcess = (
    extra: Partial<ValidateLogsFlags>,
    io: Pick<ValidateLogsIo, "stdout" | "stderr" | "progressEveryMs">,
    env: Record<string, string> = {},
  ) =>
    runValidateLogs(
      {
        trailArn,
        startTime: iso(t0 - MINUTE),
        endTime: end,
        endpoint: app.url,
        dataDir,
        concurrency: "16",
        ...extra,
      },
      { env: { AWS_DEFAULT_REGION: REGION, ...s3Env, ...env }, cwd: dataDir, ...io },
    );
  const scenario: Scenario = {
    trailArn,
    t0,
    end,
    objects,
    digestKeys: (bucket) => keysOf(objects, bucket, "/CloudTrail-Digest/"),
    logKeys: (bucket) => keysOf(objects, bucket, "/CloudTrail/"),
    async change(bucket, key, body) {
      const got = await saved(bucket, key);
      await objects.putObject(bucket, key, body, { metadata: got.metadata });
    },
    async remove(bucket, key) {
      await saved(bucket, key);
      await objects.deleteObject(bucket, key);
    },
    async add(bucket, key, body, metadata = {}) {
      undo.push(() => objects.deleteObject(bucket, key));
      await objects.putObject(bucket, key, body, { metadata });
    },
    async forgeDigest(bucket, key, edit) {
      const got = await saved(bucket, key);
      const doc = JSON.parse(gunzipSync(got.body).toString("utf8")) as Record<string, unknown>;
      edit(doc);
      const bytes = Buffer.from(JSON.stringify(doc));
      const db = new Database(join(dataDir, "opentrail.db"));
      try {
        const signing = await new SqliteKeyStore(db).activeKey(REGION, new Date());
        const hash = createHash("sha256").update(bytes).digest("hex");
        const toSign = signingString(
          String(doc.digestEndTime),
          bucket,
          key,
          hash,
          (doc.previousDigestSignature as string | null) ?? null,
        );
        const signature = signDigest(signing.privateKeyPem, toSign);
        await objects.putObject(bucket, key, gzipSync(bytes), {
          metadata: { ...got.metadata, signature },
        });
      } finally {
        db.close();
      }
    },
    async restore() {
      for (const step of undo.splice(0).reverse()) await step();
    },
    async validate(extra = {}, env = {}) {
      let stdout = "";
      let stderr = "";
      const code = await inProcess(
        { verbose: true, ...extra },
        {
          stdout: { write: (s: string) => (stdout += s) },
          stderr: { write: (s: string) => (stderr += s) },
        },
        env,
      );
      return { code, stdout, stderr };
    },
    async validateOnTerminal(extra = {}) {
      const screen = new Screen();
      const code = await inProcess(extra, { stdout: screen, stderr: screen, progressEveryMs: 0 });
      return { code, screen: screen.text() };
    },
    validateBuilt(args = []) {
      return exec(
        process.execPath,
        [
          CLI_PATH,
          "validate-logs",
          "--trail-arn",
          trailArn,
          "--start-time",
          iso(t0 - MINUTE),
          "--end-time",
          end,
          "--endpoint",
          app.url,
          "--data-dir",
          dataDir,
          "--verbose",
          ...args,
        ],
        {
          PATH: process.env.PATH,
          AWS_DEFAULT_REGION: REGION,
          // the SDK's notice about Node versions is no output of the validator's
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          ...s3Env,
        },
      );
    },
    validateAws(args = []) {
      // the local buckets are read through the server's own S3 read API, on the same endpoint
      return exec(
        "python3",
        [
          "-m",
          "awscli",
          "cloudtrail",
          "validate-logs",
          "--trail-arn",
          trailArn,
          "--start-time",
          iso(t0 - MINUTE),
          "--end-time",
          end,
          "--endpoint-url",
          app.url,
          "--verbose",
          ...args,
        ],
        {
          PATH: process.env.PATH,
          HOME: cliDir,
          AWS_ENDPOINT_URL_S3: s3?.endpoint ?? app.url,
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
          AWS_DEFAULT_REGION: REGION,
          AWS_CONFIG_FILE: join(cliDir, "config"),
          AWS_SHARED_CREDENTIALS_FILE: join(cliDir, "credentials"),
        },
      );
    },
    async close() {
      await app.close();
      await objects.close();
      await s3?.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(cliDir, { recursive: true, force: true });
    },
  };
  return scenario;
}
