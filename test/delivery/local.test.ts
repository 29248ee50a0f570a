import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const ACCOUNT = "123456789012";
const KEY_PATTERN =
  /^(?:(.+)\/)?AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\2_CloudTrail_\3_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$/;

let server: TestServer;

function objectsIn(bucket: string): string[] {
  const root = join(server.bucketsDir, bucket);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".json.gz")) out.push(relative(root, path));
    }
  };
  if (existsSync(root)) walk(root);
  return out.sort();
}

function recordsIn(bucket: string): Record<string, unknown>[] {
  return objectsIn(bucket).flatMap((key) => {
    const body = gunzipSync(readFileSync(join(server.bucketsDir, bucket, key))).toString("utf8");
    return (JSON.parse(body) as { Records: Record<string, unknown>[] }).Records;
  });
}

function managementRecord(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "IAMUser", accountId: ACCOUNT, userName: "alice" },
    eventTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    eventSource: "ec2.amazonaws.com",
    eventName: i % 2 === 0 ? "DescribeInstances" : "RunInstances",
    awsRegion: "us-east-1",
    sourceIPAddress: "192.0.2.1",
    requestParameters: null,
    responseElements: null,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    readOnly: i % 2 === 0,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    ...extra,
  };
}

beforeAll(async () => {
  server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
});
afterAll(async () => server?.close());

describe("delivery to the local directory", () => {
  const api = () => httpClient({ endpoint: server.url });
  let n = 0;
  const bucket = () => `bucket-${n}`;

  beforeEach(async () => {
    n++;
    server.createBucket(bucket());
    for (const t of (await api().describeTrails({})).trailList ?? [])
      await api().deleteTrail({ Name: t.TrailARN });
  });

  it("writes nothing for a trail that is not logging, and never an empty file", async () => {
    await api().createTrail({ Name: `quiet-${n}`, S3BucketName: bucket() });
    await ingestClient({ endpoint: server.url }).send([managementRecord(1_000 + n)]);
    await server.app.delivery.drain();
    expect(objectsIn(bucket())).toEqual([]);
  });

  it("delivers the records a logging trail selects, in gzip files under the AWS key layout", async () => {
    const trail = `logged-${n}`;
    await api().createTrail({ Name: trail, S3BucketName: bucket(), S3KeyPrefix: "audit/logs" });
    await api().startLogging({ Name: trail });
    const records = [managementRecord(2_000 + n * 10), managementRecord(2_001 + n * 10)];
    await ingestClient({ endpoint: server.url }).send(records);
    await server.app.delivery.drain();

    const keys = objectsIn(bucket());
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      const m = KEY_PATTERN.exec(key);
      expect(m, key).not.toBeNull();
      expect(m![1]).toBe("audit/logs");
      expect(m![2]).toBe(ACCOUNT);
      expect(m![3]).toBe("us-east-1");
      expect(m![7]).toBe(`${m![4]}${m![5]}${m![6]}`);
      const raw = readFileSync(join(server.bucketsDir, bucket(), key));
      expect([raw[0], raw[1]]).toEqual([0x1f, 0x8b]);
    }
    const delivered = recordsIn(bucket());
    for (const r of records) expect(delivered).toContainEqual(r);
    // the trail's own StartLogging call is a management event it selects
    expect(delivered.map((r) => r.eventName)).toContain("StartLogging");
    const ids = delivered.map((r) => r.eventID);
    expect(new Set(ids).size).toBe(ids.length);

    const status = await api().getTrailStatus({ Name: trail });
    expect(status.LatestDeliveryTime).toBeInstanceOf(Date);
    expect(status.LatestDeliveryError).toBeUndefined();
    expect(status.LatestDeliveryAttemptSucceeded).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it.each([["logs/"], ["/rooted"], ["a//b/."]])(
    "delivers under a prefix %j as S3 would name the keys (prefix, '/', AWSLogs/...)",
    async (prefix) => {
      const trail = `prefixed-${n}`;
      await api().createTrail({ Name: trail, S3BucketName: bucket(), S3KeyPrefix: prefix });
      await api().startLogging({ Name: trail });
      const record = managementRecord(5_000 + n);
      await ingestClient({ endpoint: server.url }).send([record]);
      await server.app.delivery.drain();
      const keys: string[] = [];
      for await (const key of server.app.objects.listKeys(bucket(), "")) keys.push(key);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        expect(key.startsWith(`${prefix}/AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/`), key).toBe(true);
      }
      const records = await Promise.all(
        keys.map(async (key) => {
          const object = await server.app.objects.getObject(bucket(), key);
          return (JSON.parse(gunzipSync(object!.body).toString("utf8")) as { Records: unknown[] }).Records;
        }),
      );
      expect(records.flat()).toContainEqual(record);
      expect((await api().getTrailStatus({ Name: trail })).LatestDeliveryError).toBeUndefined();
    },
  );

  it("follows the selectors: write-only trails get no read events", async () => {
    const trail = `writes-${n}`;
    await api().createTrail({ Name: trail, S3BucketName: bucket() });
    await api().putEventSelectors({ TrailName: trail, EventSelectors: [{ ReadWriteType: "WriteOnly" }] });
    await api().startLogging({ Name: trail });
    await ingestClient({ endpoint: server.url }).send([
      managementRecord(3_000 + n * 10),
      managementRecord(3_001 + n * 10),
    ]);
    await server.app.delivery.drain();
    const delivered = recordsIn(bucket());
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((r) => r.readOnly === false)).toBe(true);
  });

  it("delivers the StopLogging call itself, and nothing after it", async () => {
    const trail = `stopping-${n}`;
    await api().createTrail({ Name: trail, S3BucketName: bucket() });
    await api().startLogging({ Name: trail });
    await api().stopLogging({ Name: trail });
    await api().getTrail({ Name: trail });
    await server.app.delivery.drain();
    const names = recordsIn(bucket()).map((r) => r.eventName);
    expect(names).toContain("StopLogging");
    expect(names).not.toContain("GetTrail");
  });

  it("delivers each record once, however often delivery runs", async () => {
    const trail = `once-${n}`;
    await api().createTrail({ Name: trail, S3BucketName: bucket() });
    await api().startLogging({ Name: trail });
    const records = Array.from({ length: 300 }, (_, i) => managementRecord(10_000 + n * 1000 + i));
    await ingestClient({ endpoint: server.url }).send(records);
    await Promise.all([
      server.app.delivery.drain(),
      server.app.delivery.drain(),
      server.app.delivery.runOnce(),
    ]);
    await server.app.delivery.drain();
    const ids = recordsIn(bucket()).map((r) => r.eventID);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of records) expect(ids).toContain(r.eventID);
  });

  it("keeps records while the bucket is missing, reports the error, and delivers once it is back", async () => {
    const trail = `outage-${n}`;
    await api().createTrail({ Name: trail, S3BucketName: bucket() });
    await api().startLogging({ Name: trail });
    await server.app.delivery.drain();
    // the bucket disappears behind the trail's back
    rmSync(join(server.bucketsDir, bucket()), { recursive: true });
    const records = [managementRecord(20_000 + n)];
    await ingestClient({ endpoint: server.url }).send(records);
    await server.app.delivery.drain();
    const status = await api().getTrailStatus({ Name: trail });
    expect(status.LatestDeliveryError).toBe("NoSuchBucket");
    server.createBucket(bucket());
    await server.app.delivery.drain();
    const after = await api().getTrailStatus({ Name: trail });
    expect(after.LatestDeliveryError).toBeUndefined();
    expect(recordsIn(bucket()).map((r) => r.eventID)).toContain(records[0]!.eventID);
  });
});
