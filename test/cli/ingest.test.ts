import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { IngestError, ingestClient } from "../../src/client/ingest.ts";
import type { CredentialConfig } from "../../src/config/index.ts";
import { builtCli } from "../support/built-cli.ts";
import { secondOf } from "../support/records.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * `opentrail ingest` on a copy of a CloudTrail bucket as it lies on disk: log files of several
 * accounts, digest files, the local store's sidecars and a stray file or two.
 */

const REGION = "us-east-1";
const ACCOUNTS = ["111122223333", "123456789012", "444455556666"] as const;
let counter = 0;

function record(account: string | undefined): Record<string, unknown> {
  counter++;
  return {
    eventVersion: "1.08",
    userIdentity: { type: "Root", principalId: account ?? "x", arn: `arn:aws:iam::${account}:root` },
    eventTime: secondOf(new Date(Date.now() - 3_600_000 - counter * 1000)),
    eventSource: "ec2.amazonaws.com",
    eventName: "RunInstances",
    awsRegion: REGION,
    sourceIPAddress: "203.0.113.5",
    userAgent: "cli-ingest-test",
    eventID: `cli-ingest-${counter}-${process.pid}`,
    eventType: "AwsApiCall",
    managementEvent: true,
    ...(account ? { recipientAccountId: account } : {}),
  };
}

function put(path: string, body: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
}

/** A bucket copy: 2 records per account and one without an account; what else such a copy holds. */
function bucketCopy(): { dir: string; byAccount: Map<string, string[]> } {
  const dir = mkdtempSync(join(tmpdir(), "opentrail-bucket-copy-"));
  const byAccount = new Map<string, string[]>();
  for (const account of ACCOUNTS) {
    const records = [record(account), record(account)];
    byAccount.set(
      account,
      records.map((r) => r.eventID as string),
    );
    const day = join(dir, "AWSLogs", account, "CloudTrail", REGION, "2026", "12", "01");
    const log = join(day, `${account}_CloudTrail_${REGION}_20261201T0000Z_abc.json.gz`);
    put(log, gzipSync(JSON.stringify({ Records: records })));
    put(`${log}.metadata.json`, JSON.stringify({ "Content-Type": "application/json" }));
    const digest = join(
      dir,
      "AWSLogs",
      account,
      "CloudTrail-Digest",
      REGION,
      "2026",
      "12",
      "01",
      `${account}_CloudTrail-Digest_${REGION}_t_${REGION}_20261201T010000Z.json.gz`,
    );
    put(digest, gzipSync(JSON.stringify({ digestStartTime: "x", logFiles: [] })));
    put(`${digest}.metadata.json`, JSON.stringify({ signature: "00" }));
  }
  // a record without an account goes to the signer's: the development key's account
  const loose = record(undefined);
  byAccount.get("123456789012")!.push(loose.eventID as string);
  put(join(dir, "loose.json"), JSON.stringify({ Records: [loose] }));
  put(join(dir, "settings.json"), JSON.stringify({ not: "a log file" }));
  put(join(dir, "README.txt"), "a copy of my bucket");
  return { dir, byAccount };
}

async function idsOf(server: TestServer, accessKeyId: string, secretAccessKey: string): Promise<string[]> {
  const api = httpClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId, secretAccessKey },
  });
  try {
    const { Events = [] } = await api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventSource", AttributeValue: "ec2.amazonaws.com" }],
    });
    return Events.map((e) => e.EventId!).sort();
  } finally {
    api.client.destroy();
  }
}

describe("opentrail ingest on a bucket copy, development mode", () => {
  let server: TestServer;
  let copy: ReturnType<typeof bucketCopy>;
  beforeAll(async () => {
    server = await startTestServer();
    copy = bucketCopy();
  });
  afterAll(async () => {
    await server?.close();
    rmSync(copy.dir, { recursive: true, force: true });
  });

  it("stores every account's records, passing over digests, sidecars and other files with a note", async () => {
    const cli = await builtCli();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [cli, "ingest", copy.dir, "--endpoint", server.url, "--batch-size", "3"],
      { env },
    );
    expect(stdout).toBe("ingested 4 files: 7 records, 7 stored, 0 already stored; 11 other files skipped\n");
    expect(stderr).toBe(
      [
        `opentrail ingest: skipped ${join(copy.dir, "settings.json")}: not a CloudTrail log file (no "Records" list)`,
        "opentrail ingest: skipped 3 digest files (CloudTrail-Digest), 6 .metadata.json sidecars, 1 file not named *.json or *.json.gz",
        "",
      ].join("\n"),
    );
    // each account sees its own: a 12-digit access key id with any secret is that account's root
    for (const account of ACCOUNTS) {
      expect(await idsOf(server, account, "any secret")).toEqual(copy.byAccount.get(account)!.slice().sort());
    }
    expect(await idsOf(server, "test", "test")).toEqual(copy.byAccount.get("123456789012")!.slice().sort());
  }, 120_000);

  it("exits 1 when no log file is found", async () => {
    const cli = await builtCli();
    const empty = mkdtempSync(join(tmpdir(), "opentrail-empty-"));
    try {
      writeFileSync(join(empty, "notes.txt"), "nothing");
      await expect(
        promisify(execFile)(process.execPath, [cli, "ingest", empty, "--endpoint", server.url]),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("no CloudTrail log files found") });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("configured credentials and ingestAccounts", () => {
  const KEY: CredentialConfig = {
    accessKeyId: "AKIAREPLAYER0001",
    secretAccessKey: "replayer-secret",
    accountId: "111122223333",
    type: "IAMUser",
    userName: "replayer",
    ingestAccounts: ["444455556666"],
  };
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ credentials: [KEY], development: false });
  });
  afterAll(async () => server?.close());

  const client = () =>
    ingestClient({
      endpoint: server.url,
      region: REGION,
      credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey },
      attempts: 1,
    });

  it("stores records for the key's own account and the accounts it lists", async () => {
    const own = record("111122223333");
    const listed = record("444455556666");
    await client().send([own], "111122223333");
    await client().send([listed], "444455556666");
    expect(await idsOf(server, KEY.accessKeyId, KEY.secretAccessKey)).toEqual([own.eventID]);
  });

  it("refuses records for an account the key does not list", async () => {
    const err = await client()
      .send([record("123456789012")], "123456789012")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestError);
    expect((err as IngestError).status).toBe(400);
    expect(JSON.parse((err as IngestError).body)).toEqual({
      __type: "AccessDeniedException",
      message: `Access key ${KEY.accessKeyId} may not ingest records for account 123456789012; list the account in the key's ingestAccounts`,
    });
  });

  it("knows no account keys beyond development mode", async () => {
    const err = await ingestClient({ endpoint: server.url, accountKeys: true, attempts: 1 })
      .send([record("111122223333")], "111122223333")
      .catch((e: unknown) => e);
    expect((err as IngestError).body).toContain("UnrecognizedClientException");
  });
});
