import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudTrailClient,
  CreateTrailCommand,
  GetTrailCommand,
  StartLoggingCommand,
  TrailNotFoundException,
} from "@aws-sdk/client-cloudtrail";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestClient } from "../../src/client/ingest.ts";
import { loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";

/** The access log and /metrics of a real server, after real calls through the official client. */

const REGION = "us-east-1";
const lines: Record<string, unknown>[] = [];
let app: OpenTrail;
let dataDir: string;
let client: CloudTrailClient;

/** One value of a metric line in the text exposition, by its name and labels as written. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "opentrail-obs-"));
  mkdirSync(join(dataDir, "buckets", "obs-bucket"), { recursive: true });
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  // a long delivery interval: the records wait in the outbox while the test scrapes
  const config = loadConfig({ flags: { port: 0, dataDir, ingestWorkers: 0, deliveryInterval: 3600 } });
  app = await startOpenTrail(config, { log });
  client = new CloudTrailClient({
    endpoint: app.url,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(async () => {
  client.destroy();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("start-up log", () => {
  it("warns on its own line that development mode's reset endpoint is open", () => {
    const warning = lines.find((l) => String(l.msg).includes("/_opentrail/reset"))!;
    expect(warning).toMatchObject({ level: 40, reset: `${app.url}/_opentrail/reset` });
    expect(warning.msg).toMatch(/empties the database .* with no authentication/);
  });
});

describe("access log and /metrics", () => {
  it("logs one line per request and counts it, by operation and status", async () => {
    await client.send(new CreateTrailCommand({ Name: "obs", S3BucketName: "obs-bucket" }));
    await client.send(new StartLoggingCommand({ Name: "obs" }));
    await expect(client.send(new GetTrailCommand({ Name: "missing" }))).rejects.toBeInstanceOf(
      TrailNotFoundException,
    );
    const record = {
      eventVersion: "1.08",
      eventTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      eventSource: "s3.amazonaws.com",
      eventName: "ListBuckets",
      awsRegion: REGION,
      sourceIPAddress: "192.0.2.1",
      userIdentity: { type: "IAMUser", accountId: "123456789012" },
      eventID: "5d1e7b39-58f4-4c0a-9f3b-26a3c8f0a001",
      eventType: "AwsApiCall",
      recipientAccountId: "123456789012",
    };
    await ingestClient({ endpoint: app.url, region: REGION }).send([
      record,
      { ...record, eventID: "5d1e7b39-58f4-4c0a-9f3b-26a3c8f0a002" },
    ]);

    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();

    expect(sample(text, 'opentrail_requests_total{operation="CreateTrail",status="200"}')).toBe(1);
    expect(sample(text, 'opentrail_requests_total{operation="GetTrail",status="400"}')).toBe(1);
    expect(sample(text, 'opentrail_requests_total{operation="Ingest",status="200"}')).toBe(1);
    expect(sample(text, 'opentrail_request_duration_seconds_count{operation="StartLogging"}')).toBe(1);
    expect(sample(text, 'opentrail_records_stored_total{source="api"}')).toBe(3);
    expect(sample(text, 'opentrail_records_stored_total{source="ingest"}')).toBe(2);
    expect(sample(text, "opentrail_ingest_batch_records_count")).toBe(1);
    expect(sample(text, "opentrail_ingest_batch_records_sum")).toBe(2);
    // StartLogging, the failed GetTrail and both ingested records wait for the trail's log file
    expect(sample(text, "opentrail_outbox_rows")).toBe(4);
    expect(sample(text, "opentrail_outbox_lanes")).toBe(1);
    expect(sample(text, "opentrail_delivery_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "opentrail_delivery_failures_total")).toBe(0);
    // no series is labelled with a trail, an account or a bucket
    expect(text).not.toMatch(/obs-bucket|123456789012|trail\/obs/);

    const access = lines.filter((l) => l.msg === "request");
    const created = access.find((l) => l.operation === "CreateTrail")!;
    expect(created).toMatchObject({ level: 30, status: 200 });
    expect(typeof created.ms).toBe("number");
    expect(created.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(access.find((l) => l.operation === "GetTrail")).toMatchObject({ status: 400 });
    expect(access.find((l) => l.operation === "Ingest")).toMatchObject({ level: 30, status: 200 });
    // no header, no signature, no key in any access line
    expect(JSON.stringify(access)).not.toMatch(/Signature|Credential=|authorization|test\/\d{8}/i);
  });

  it("delivers and counts the log file, and the outbox empties", async () => {
    await app.delivery.drain();
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(sample(text, "opentrail_log_files_delivered_total")).toBe(1);
    expect(sample(text, "opentrail_outbox_rows")).toBe(0);
    expect(sample(text, "opentrail_delivery_lag_seconds")).toBe(0);
    // the first scrape is in the count, and its access line at debug
    expect(sample(text, 'opentrail_requests_total{operation="GET /metrics",status="200"}')).toBe(1);
    expect(lines.find((l) => l.operation === "GET /metrics")).toMatchObject({ level: 20, status: 200 });
  });

  it("names an unknown path by its method only", async () => {
    // (a GET of any other path is S3's: the local buckets' read API)
    await fetch(`${app.url}/no/such/thing?X-Amz-Signature=abc`, { method: "POST", body: "{}" });
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(sample(text, 'opentrail_requests_total{operation="POST (no route)",status="404"}')).toBe(1);
    expect(JSON.stringify(lines)).not.toContain("X-Amz-Signature");
  });
});
