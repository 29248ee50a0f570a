import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import { clockedClient } from "../support/clocked-client.ts";
import { createBucket, type S3TestServer, s3Client, startMoto } from "../support/s3-servers.ts";
import { testStores } from "../support/server.ts";

/*
 * The official check: `aws cloudtrail validate-logs` (AWS CLI v1) against the service's own digests
 * and log files in moto's S3. The service runs on a clock the test steps through hours in the
 * recent past (the CLI ends its range at the real now and asks for keys up to two hours later),
 * then lets the clock follow real time so that the CLI's signatures are within the allowed skew.
 */

const run = promisify(execFile);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUCKET_1 = "ot-integrity-1";
const BUCKET_2 = "ot-integrity-2";
const TRAIL_2 = "integrity-2";
const PREFIX_2 = "p2";

interface DigestDoc {
  digestStartTime: string;
  digestEndTime: string;
  digestS3Object: string;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestSignature: string | null;
  logFiles: unknown[];
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

async function keysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

describe("aws cloudtrail validate-logs on the service's digests", () => {
  let s3: S3TestServer;
  let client: S3Client;
  let app: OpenTrail;
  let dataDir: string;
  let stores: Awaited<ReturnType<typeof testStores>> | undefined;
  let cliDir: string;
  let trailArn: string;
  // the service's clock: stepped by the test, or real time once `real` is set
  const t0 = Math.floor((Date.now() - 7 * HOUR) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };

  const api = () => clockedClient(app.url, clock);
  const at = (ms: number) => {
    t = t0 + ms;
  };
  const deliverAndDigest = async () => {
    await app.delivery.drain();
    await app.digests.drain();
  };

  async function validate(extra: string[] = []): Promise<CliResult> {
    const args = [
      "-m",
      "awscli",
      "cloudtrail",
      "validate-logs",
      "--trail-arn",
      trailArn,
      "--start-time",
      iso(t0 - MINUTE),
      "--endpoint-url",
      app.url,
      "--verbose",
      ...extra,
    ];
    const env = {
      PATH: process.env.PATH,
      HOME: cliDir,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(cliDir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(cliDir, "credentials"),
    };
    try {
      const { stdout, stderr } = await run("python3", args, { env, timeout: 120_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    }
  }

  beforeAll(async () => {
    s3 = await startMoto();
    client = s3Client(s3);
    await createBucket(s3, BUCKET_1);
    await createBucket(s3, BUCKET_2);
    cliDir = mkdtempSync(join(tmpdir(), "opentrail-cli-"));
    writeFileSync(join(cliDir, "config"), "[default]\ns3 =\n  addressing_style = path\n");
    writeFileSync(join(cliDir, "credentials"), "");
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-integrity-"));
    stores = await testStores();
    const config = {
      ...loadConfig({ flags: { port: 0, dataDir } }),
      ...stores.config,
      // log files only when the test drains
      deliveryIntervalMs: 3_600_000,
      // buckets without a CloudTrail policy: these tests are about validation
      policyChecks: "off" as const,
      s3: {
        endpoint: s3.endpoint,
        region: "us-east-1",
        accessKeyId: "test",
        secretAccessKey: "test",
        forcePathStyle: true,
      },
    };
    app = await startOpenTrail(config, { clock, log: pino({ level: "silent" }) });

    // chain 1 in bucket 1: two periods with log files, an empty one, then StopLogging
    const created = await api().createTrail({
      Name: "integrity",
      S3BucketName: BUCKET_1,
      EnableLogFileValidation: true,
    });
    trailArn = created.TrailARN!;
    await api().startLogging({ Name: trailArn });
    // trail 2 (bucket 2 under a prefix): validation turned off and on again, then deleted
    await api().createTrail({
      Name: TRAIL_2,
      S3BucketName: BUCKET_2,
      S3KeyPrefix: PREFIX_2,
      EnableLogFileValidation: true,
    });
    await api().startLogging({ Name: TRAIL_2 });
    at(10 * MINUTE);
    await api().describeTrails({});
    await api().getTrailStatus({ Name: trailArn });
    await deliverAndDigest();
    at(HOUR + 5 * MINUTE);
    await api().listTrails({});
    await deliverAndDigest();
    at(2 * HOUR + 30 * MINUTE);
    await deliverAndDigest();
    await api().updateTrail({ Name: TRAIL_2, EnableLogFileValidation: false });
    await deliverAndDigest();
    at(3 * HOUR + 30 * MINUTE);
    await deliverAndDigest();
    await api().updateTrail({ Name: TRAIL_2, EnableLogFileValidation: true });
    await deliverAndDigest();
    at(3 * HOUR + 40 * MINUTE);
    await api().stopLogging({ Name: trailArn });
    await deliverAndDigest();

    // chain 2 in bucket 1, ended by a change of bucket; chain 3 in bucket 2
    at(4 * HOUR);
    await api().startLogging({ Name: trailArn });
    await deliverAndDigest();
    at(4 * HOUR + 10 * MINUTE);
    await api().describeTrails({});
    await deliverAndDigest();
    await api().updateTrail({ Name: trailArn, S3BucketName: BUCKET_2 });
    await deliverAndDigest();
    at(4 * HOUR + 20 * MINUTE);
    await api().getTrailStatus({ Name: trailArn });
    await deliverAndDigest();
    await api().deleteTrail({ Name: TRAIL_2 });
    await deliverAndDigest();
    at(5 * HOUR + 10 * MINUTE);
    await deliverAndDigest();
    at(5 * HOUR + 15 * MINUTE);
    await api().stopLogging({ Name: trailArn });
    await deliverAndDigest();

    // the CLI signs with real time
    real = true;
  }, 120_000);

  it("shows the latest digest in GetTrailStatus", async () => {
    const status = await api().getTrailStatus({ Name: trailArn });
    expect(status.LatestDigestDeliveryTime).toBeInstanceOf(Date);
    expect(status.LatestDigestDeliveryError).toBeUndefined();
  });

  afterAll(async () => {
    await app?.close();
    await stores?.drop();
    client?.destroy();
    await s3?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (cliDir) rmSync(cliDir, { recursive: true, force: true });
  });

  it("writes the digests each chain needs", async () => {
    const digests1 = await keysUnder(client, BUCKET_1, "AWSLogs/");
    const digests2 = await keysUnder(client, BUCKET_2, "AWSLogs/");
    const count = (keys: string[]) => keys.filter((k) => k.includes("/CloudTrail-Digest/")).length;
    // chain 1: three hourly digests and a final one; chain 2: a final one
    expect(count(digests1)).toBe(5);
    // chain 3: one hourly digest and a final one
    expect(count(digests2)).toBe(2);
  });

  it("ends a chain when validation is turned off or the trail deleted, and starts a new one", async () => {
    const keys = (await keysUnder(client, BUCKET_2, `${PREFIX_2}/AWSLogs/`)).filter((k) =>
      k.includes("/CloudTrail-Digest/"),
    );
    const digests: { key: string; doc: DigestDoc; bytes: Buffer; signature?: string }[] = [];
    for (const key of keys) {
      const got = await client.send(new GetObjectCommand({ Bucket: BUCKET_2, Key: key }));
      const bytes = gunzipSync(Buffer.from(await got.Body!.transformToByteArray()));
      digests.push({
        key,
        bytes,
        doc: JSON.parse(bytes.toString("utf8")),
        signature: got.Metadata?.signature,
      });
    }
    // two hourly digests and a final one; after re-enabling one hourly digest and a final one
    expect(digests.map((d) => d.doc.digestS3Object)).toEqual(keys);
    expect(digests.length).toBe(5);
    const starts = digests.filter((d) => d.doc.previousDigestS3Object === null).map((d) => d.key);
    expect(starts).toEqual([keys[0], keys[3]]);
    for (const i of [1, 2, 4]) {
      const prev = digests[i - 1]!;
      expect(digests[i]!.doc.previousDigestS3Object).toBe(prev.key);
      expect(digests[i]!.doc.previousDigestHashValue).toBe(
        createHash("sha256").update(prev.bytes).digest("hex"),
      );
      expect(digests[i]!.doc.previousDigestSignature).toBe(prev.signature);
    }
    // periods follow each other within a chain; the new chain starts where the old one ended
    for (const i of [1, 2, 3, 4]) {
      expect(digests[i]!.doc.digestStartTime).toBe(digests[i - 1]!.doc.digestEndTime);
    }
    expect(digests[0]!.doc.digestStartTime).toBe(iso(t0));
    expect(digests[1]!.doc.digestEndTime).toBe(iso(t0 + 2 * HOUR));
  });

  it("reports every digest and log file of the current bucket valid", async () => {
    const r = await validate();
    expect(r.stderr).not.toContain("INVALID");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("2/2 digest files valid");
    const logs = /(\d+)\/(\d+) log files valid/.exec(r.stdout);
    expect(logs?.[1]).toBe(logs?.[2]);
    expect(Number(logs?.[1])).toBeGreaterThanOrEqual(1);
  });

  it("reports every digest and log file of the earlier bucket valid", async () => {
    const r = await validate(["--s3-bucket", BUCKET_1]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("5/5 digest files valid");
    const logs = /(\d+)\/(\d+) log files valid/.exec(r.stdout);
    expect(logs?.[1]).toBe(logs?.[2]);
    expect(Number(logs?.[1])).toBeGreaterThanOrEqual(3);
  });

  it("reports a changed, a deleted and a moved file as INVALID and exits 1", async () => {
    const logKeys = (await keysUnder(client, BUCKET_1, "AWSLogs/")).filter((k) => k.includes("/CloudTrail/"));
    const digestKeys = (await keysUnder(client, BUCKET_1, "AWSLogs/")).filter((k) =>
      k.includes("/CloudTrail-Digest/"),
    );
    expect(logKeys.length).toBeGreaterThanOrEqual(2);
    const [changed, deleted] = logKeys;
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET_1,
        Key: changed,
        Body: gzipSync(Buffer.from('{"Records":[]}')),
      }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET_1, Key: deleted }));
    // chain 1's empty digest (the third), moved one second earlier in its folder (the CLI, not finding it
    // where the next digest points, goes on with the next older key it listed): the log files of
    // the first two digests are still checked
    const moved = digestKeys[2]!;
    const stamp = moved.slice(-24, -8);
    const earlier = new Date(
      Date.UTC(
        Number(stamp.slice(0, 4)),
        Number(stamp.slice(4, 6)) - 1,
        Number(stamp.slice(6, 8)),
        Number(stamp.slice(9, 11)),
        Number(stamp.slice(11, 13)),
        Number(stamp.slice(13, 15)) - 1,
      ),
    );
    const earlierStamp = earlier
      .toISOString()
      .replace(/[-:]/g, "")
      .replace(/\.\d{3}Z$/, "Z");
    const movedTo = moved.slice(0, -24) + earlierStamp + moved.slice(-8);
    await client.send(
      new CopyObjectCommand({ Bucket: BUCKET_1, Key: movedTo, CopySource: `${BUCKET_1}/${moved}` }),
    );
    await client.send(new DeleteObjectCommand({ Bucket: BUCKET_1, Key: moved }));
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET_1, Key: movedTo }));
    expect(got.Metadata?.signature).toMatch(/^[0-9a-f]+$/);

    const r = await validate(["--s3-bucket", BUCKET_1]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain(`s3://${BUCKET_1}/${changed}\tINVALID: hash value doesn't match`);
    expect(r.stderr).toContain(`s3://${BUCKET_1}/${deleted}\tINVALID: not found`);
    expect(r.stderr).toContain(`s3://${BUCKET_1}/${moved}\tINVALID: not found`);
    expect(r.stderr).toContain(
      `s3://${BUCKET_1}/${movedTo}\tINVALID: has been moved from its original location`,
    );
  });
});
