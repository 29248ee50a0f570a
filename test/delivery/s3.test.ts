import { spawn } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import {
  createBucket,
  type S3TestServer,
  s3Client,
  s3Settings,
  startMoto,
  startS3rver,
} from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import {
  ACCOUNT,
  type CloudTrailRecord,
  idsOf,
  KEY_PATTERN,
  logFileRecords,
  managementRecord,
  wholeSecond,
} from "./fixtures.ts";

/*
 * Delivery through S3ObjectStore to a real S3-compatible server, read back with the S3 SDK as a
 * consumer of the bucket would: keys, headers, bodies; then the bucket going away and coming back,
 * and (moto) the endpoint going away and coming back on the same port.
 */

interface DeliveredObject {
  key: string;
  contentType?: string;
  contentEncoding?: string;
  records: CloudTrailRecord[];
}

async function listKeys(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function readObjects(client: S3Client, bucket: string): Promise<DeliveredObject[]> {
  const out: DeliveredObject[] = [];
  for (const key of await listKeys(client, bucket)) {
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    out.push({
      key,
      contentType: got.ContentType,
      contentEncoding: got.ContentEncoding,
      records: logFileRecords(bytes),
    });
  }
  return out;
}

async function emptyAndDeleteBucket(client: S3Client, bucket: string): Promise<void> {
  for (const key of await listKeys(client, bucket)) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

const MOTO_READY_TRIES = 150;

/**
 * moto again on a port it was stopped on (a restarted endpoint keeps its address). Its state is in
 * memory, so it comes back without buckets.
 */
async function motoOnPort(previous: S3TestServer): Promise<S3TestServer> {
  const port = new URL(previous.endpoint).port;
  const child = spawn("python3", ["-m", "moto.server", "-p", port, "-H", "127.0.0.1"], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; i < MOTO_READY_TRIES; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${previous.endpoint}/moto-api/data.json`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (res.ok) return { ...previous, stop };
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  await stop();
  throw new Error(`moto did not come back on port ${port}`);
}

interface Target {
  name: string;
  start: () => Promise<S3TestServer>;
  /** Can the endpoint be stopped and started again on its port? */
  restartable: boolean;
}

const TARGETS: Target[] = [
  { name: "moto", start: startMoto, restartable: true },
  { name: "s3rver", start: startS3rver, restartable: false },
];

describe.each(TARGETS)("delivery to $name", ({ name, start, restartable }) => {
  let s3: S3TestServer;
  let server: TestServer;
  let client: S3Client;
  let n = 0;
  const bucket = () => `ot-${name}-delivery-${n}`;
  const api = () => httpClient({ endpoint: server.url });
  const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);
  const delivered = async () => (await readObjects(client, bucket())).flatMap((o) => o.records);
  /** A trail logging into this test's bucket, reading or writing calls only when asked. */
  async function loggingTrail(
    name: string,
    opts: { readWrite?: "ReadOnly" | "WriteOnly"; prefix?: string } = {},
  ): Promise<void> {
    await api().createTrail({ Name: name, S3BucketName: bucket(), S3KeyPrefix: opts.prefix });
    if (opts.readWrite) {
      await api().putEventSelectors({ TrailName: name, EventSelectors: [{ ReadWriteType: opts.readWrite }] });
    }
    await api().startLogging({ Name: name });
  }

  beforeAll(async () => {
    s3 = await start();
    client = s3Client(s3);
    server = await startTestServer({
      // files are written when a test drains, never behind its back
      deliveryIntervalMs: 3_600_000,
      // the buckets have no CloudTrail policy: these tests are about delivery (test/policy/ checks them)
      policyChecks: "off",
      s3: s3Settings(s3),
    });
  });

  afterAll(async () => {
    await server?.close();
    client?.destroy();
    await s3?.stop();
  });

  beforeEach(async () => {
    n++;
    await createBucket(s3, bucket());
    for (const t of (await api().describeTrails({})).trailList ?? [])
      await api().deleteTrail({ Name: t.TrailARN });
    await server.app.delivery.drain();
  });

  it("writes nothing for a trail that is not logging", async () => {
    await api().createTrail({ Name: `quiet-${n}`, S3BucketName: bucket() });
    await ingest([managementRecord(1_000 + n)]);
    await server.app.delivery.drain();
    expect(await listKeys(client, bucket())).toEqual([]);
  });

  it("delivers exactly the selected records, gzipped JSON under the AWS key layout", async () => {
    const trail = `logged-${n}`;
    await loggingTrail(trail, { readWrite: "WriteOnly", prefix: "audit/logs" });
    const records = Array.from({ length: 40 }, (_, i) => managementRecord(2_000 + n * 100 + i));
    await ingest(records);
    // read-only calls of the test itself are recorded too, and a write-only trail leaves them out
    await api().getTrail({ Name: trail });
    const before = new Date();
    await server.app.delivery.drain();
    const after = new Date();

    const objects = await readObjects(client, bucket());
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects) {
      const m = KEY_PATTERN.exec(o.key);
      expect(m, o.key).not.toBeNull();
      const [, prefix, account, region, yyyy, mm, dd, date, hhmm] = m!;
      expect([prefix, account, region]).toEqual(["audit/logs", ACCOUNT, "us-east-1"]);
      expect(date).toBe(`${yyyy}${mm}${dd}`);
      // the folders and the stamp are the minute of delivery
      const stamp = Date.parse(`${yyyy}-${mm}-${dd}T${hhmm!.slice(0, 2)}:${hhmm!.slice(2)}:00Z`);
      expect(stamp).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 60_000) * 60_000);
      expect(stamp).toBeLessThanOrEqual(after.getTime());
      expect(o.contentType).toBe("application/json");
      expect(o.contentEncoding).toBe("gzip");
      expect(o.records.every((r) => r.awsRegion === "us-east-1")).toBe(true);
    }

    const got = objects.flatMap((o) => o.records);
    const writes = records.filter((r) => r.readOnly === false);
    const own = got.filter((r) => r.eventSource === "cloudtrail.amazonaws.com");
    expect(own.map((r) => r.eventName)).toEqual(["StartLogging"]);
    expect(idsOf(got)).toEqual(idsOf([...writes, ...own]));
    // records reach the bucket as they were sent
    for (const r of writes) expect(got).toContainEqual(r);

    const status = await api().getTrailStatus({ Name: trail });
    expect(status.LatestDeliveryTime).toBeInstanceOf(Date);
    expect(status.LatestDeliveryError).toBeUndefined();
  });

  it("delivers the StopLogging call itself, and nothing after it", async () => {
    const trail = `stopping-${n}`;
    await loggingTrail(trail);
    await api().stopLogging({ Name: trail });
    await api().getTrail({ Name: trail });
    // records carry whole seconds: one dated a second after the stop is after it whatever the milliseconds
    await ingest([managementRecord(3_000 + n, { eventTime: wholeSecond(new Date(Date.now() + 1_000)) })]);
    await server.app.delivery.drain();
    expect((await delivered()).map((r) => r.eventName)).toEqual(["StartLogging", "StopLogging"]);
  });

  it("delivers each record once, however often delivery runs", async () => {
    const trail = `once-${n}`;
    await loggingTrail(trail, { readWrite: "ReadOnly" });
    const records = Array.from({ length: 300 }, (_, i) => managementRecord(10_000 + n * 1_000 + i * 2));
    await ingest(records);
    await Promise.all([
      server.app.delivery.drain(),
      server.app.delivery.drain(),
      server.app.delivery.runOnce(),
    ]);
    await server.app.delivery.drain();
    const got = (await delivered()).filter((r) => r.eventSource === "ec2.amazonaws.com");
    expect(idsOf(got)).toEqual(idsOf(records));
  });

  it("keeps records while the bucket is gone (NoSuchBucket), and delivers them once it is back", async () => {
    const trail = `outage-${n}`;
    await loggingTrail(trail, { readWrite: "WriteOnly" });
    await server.app.delivery.drain();
    const first = await api().getTrailStatus({ Name: trail });
    expect(first.LatestDeliveryTime).toBeInstanceOf(Date);

    await emptyAndDeleteBucket(client, bucket());
    const records = Array.from({ length: 5 }, (_, i) => managementRecord(20_001 + n * 100 + i * 2));
    await ingest(records);
    await server.app.delivery.drain();
    const failed = await api().getTrailStatus({ Name: trail });
    expect(failed.LatestDeliveryError).toBe("NoSuchBucket");
    expect(failed.LatestDeliveryTime).toEqual(first.LatestDeliveryTime);
    expect(failed.LatestDeliveryAttemptTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // a second failed pass neither loses nor delivers anything
    await server.app.delivery.drain();
    expect((await api().getTrailStatus({ Name: trail })).LatestDeliveryError).toBe("NoSuchBucket");

    await createBucket(s3, bucket());
    await server.app.delivery.drain();
    const back = await api().getTrailStatus({ Name: trail });
    expect(back.LatestDeliveryError).toBeUndefined();
    expect(back.LatestDeliveryTime!.getTime()).toBeGreaterThan(first.LatestDeliveryTime!.getTime());
    expect(back.LatestDeliveryAttemptSucceeded).toBe(back.LatestDeliveryAttemptTime);
    expect(idsOf(await delivered())).toEqual(idsOf(records));
  });

  it.runIf(restartable)(
    "reports an S3 error code while the endpoint is down, and delivers the backlog once it is back on its port",
    async () => {
      const trail = `endpoint-${n}`;
      await loggingTrail(trail, { readWrite: "WriteOnly" });
      await server.app.delivery.drain();
      const first = await api().getTrailStatus({ Name: trail });

      await s3.stop();
      const records = Array.from({ length: 5 }, (_, i) => managementRecord(30_001 + n * 100 + i * 2));
      await ingest(records);
      await server.app.delivery.drain();
      const down = await api().getTrailStatus({ Name: trail });
      expect(down.LatestDeliveryError).toBe("ServiceUnavailable");
      expect(down.LatestDeliveryTime).toEqual(first.LatestDeliveryTime);

      s3 = await motoOnPort(s3);
      await createBucket(s3, bucket());
      await server.app.delivery.drain();
      const back = await api().getTrailStatus({ Name: trail });
      expect(back.LatestDeliveryError).toBeUndefined();
      expect(back.LatestDeliveryTime!.getTime()).toBeGreaterThan(first.LatestDeliveryTime!.getTime());
      expect(idsOf(await delivered())).toEqual(idsOf(records));
    },
  );
});
