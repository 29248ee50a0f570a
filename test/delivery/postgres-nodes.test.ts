import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runValidateLogs } from "../../src/cli/validate-logs.ts";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { clockedClient } from "../support/clocked-client.ts";
import { useIngestThreads } from "../support/ingest-threads.ts";
import { describePostgres } from "../support/postgres.ts";
import { createBucket, type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { closeNodes, startTwoNodes, type TestServer, usePostgresServer } from "../support/server.ts";

const ACCOUNT = "123456789012";

function record(i: number): Record<string, unknown> {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "IAMUser", accountId: ACCOUNT, userName: "alice" },
    eventTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    eventSource: "ec2.amazonaws.com",
    eventName: "RunInstances",
    awsRegion: "us-east-1",
    sourceIPAddress: "192.0.2.1",
    requestParameters: null,
    responseElements: null,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
  };
}

function deliveredRecords(server: TestServer, bucket: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".json.gz")) {
        const body = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as { Records: [] };
        out.push(...body.Records);
      }
    }
  };
  const root = join(server.bucketsDir, bucket);
  if (existsSync(root)) walk(root);
  return out;
}

// `opentrail serve --database postgres://…` as a user runs it: ingest threads with pools of their
// own, the official client, delivery to the local directory; then a second node on the same database.
describePostgres("two opentrail nodes on one PostgreSQL database", (url) => {
  let one: TestServer;
  let two: TestServer;

  beforeAll(async () => {
    useIngestThreads();
    usePostgresServer(url);
    [one, two] = await startTwoNodes({ deliveryIntervalMs: 3_600_000 });
    for (const server of [one, two]) server.createBucket("logs");
  });
  afterAll(async () => {
    await closeNodes(one, two);
  });

  it("records, looks up and delivers through the official client, each record once", async () => {
    const api = httpClient({ endpoint: one.url });
    await api.createTrail({ Name: "main", S3BucketName: "logs" });
    await api.startLogging({ Name: "main" });
    const records = Array.from({ length: 300 }, (_, i) => record(i + 1));
    const sent = await ingestClient({ endpoint: one.url }).send(records);
    expect(sent.duplicates).toEqual([]);
    // the same batch again, to the other node: every record is a duplicate there too
    const again = await ingestClient({ endpoint: two.url }).send(records.slice(0, 50));
    expect(again.duplicates).toHaveLength(50);

    // either node sees every record
    const byName = {
      LookupAttributes: [{ AttributeKey: "EventName" as const, AttributeValue: "RunInstances" }],
    };
    for (const server of [one, two]) {
      const found = [];
      let NextToken: string | undefined;
      do {
        const page = await httpClient({ endpoint: server.url }).lookupEvents({ ...byName, NextToken });
        found.push(...(page.Events ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      expect(found).toHaveLength(300);
    }

    await one.app.delivery.drain();
    const delivered = deliveredRecords(one, "logs").filter((r) => r.eventName === "RunInstances");
    expect(delivered.map((r) => r.eventID).sort()).toEqual(records.map((r) => r.eventID).sort());
    expect((await api.getTrailStatus({ Name: "main" })).LatestDeliveryError).toBeUndefined();
  });

  it("holds the five-trail quota and unique names when both nodes create at once", async () => {
    const [a, b] = [httpClient({ endpoint: one.url }), httpClient({ endpoint: two.url })];
    for (const t of (await a.describeTrails({})).trailList ?? []) await a.deleteTrail({ Name: t.TrailARN });
    for (let n = 1; n <= 3; n++) await a.createTrail({ Name: `trail-${n}`, S3BucketName: "logs" });
    const same = await Promise.allSettled([
      a.createTrail({ Name: "twin", S3BucketName: "logs" }),
      b.createTrail({ Name: "twin", S3BucketName: "logs" }),
    ]);
    expect(same.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const lost = same.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((lost.reason as Error).name).toBe("TrailAlreadyExistsException");

    const sixth = await Promise.allSettled([
      a.createTrail({ Name: "fifth-a", S3BucketName: "logs" }),
      b.createTrail({ Name: "fifth-b", S3BucketName: "logs" }),
    ]);
    expect(sixth.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const refused = sixth.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as Error).name).toBe("MaximumNumberOfTrailsExceededException");
    expect((await b.describeTrails({})).trailList).toHaveLength(5);
  });
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

// Both nodes work the pipeline at once, on one clock the test steps through hours and one S3
// endpoint: the leases let one node at a time work a lane or a chain.
describePostgres("two opentrail nodes working the pipeline at once", (url) => {
  const BUCKET = "ot-two-nodes";
  let s3: S3TestServer;
  let one: TestServer;
  let two: TestServer;
  const t0 = Math.floor((Date.now() - 5 * HOUR) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };
  const bothAtOnce = async () => {
    await Promise.all([one.app.delivery.drain(), two.app.delivery.drain()]);
    await Promise.all([one.app.digests.drain(), two.app.digests.drain()]);
  };

  beforeAll(async () => {
    usePostgresServer(url);
    s3 = await startMoto();
    await createBucket(s3, BUCKET);
    const config = {
      deliveryIntervalMs: 3_600_000,
      digestIntervalMs: HOUR,
      policyChecks: "off" as const,
      s3: s3Settings(s3),
    };
    [one, two] = await startTwoNodes(config, { clock });
  });
  afterAll(async () => {
    await closeNodes(one, two);
    await s3?.stop();
  });

  /** The eventIDs of the `eventName` records in the log files in the bucket. */
  async function deliveredIds(eventName: string): Promise<string[]> {
    const ids: string[] = [];
    const client = s3Client(s3);
    try {
      for await (const key of one.app.objects.listKeys(BUCKET, "AWSLogs/")) {
        if (!key.includes("/CloudTrail/")) continue;
        const body = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
        const doc = JSON.parse(gunzipSync(await body.Body!.transformToByteArray()).toString("utf8")) as {
          Records: { eventID: string; eventName: string }[];
        };
        ids.push(...doc.Records.filter((r) => r.eventName === eventName).map((r) => r.eventID));
      }
    } finally {
      client.destroy();
    }
    return ids;
  }

  it("delivers each record once and writes one chain of digests that validate-logs accepts", async () => {
    const nodes = [one, two];
    const api = (i: number) => clockedClient(nodes[i % 2]!.url, clock);
    const trailArn = (
      await api(0).createTrail({ Name: "both", S3BucketName: BUCKET, EnableLogFileValidation: true })
    ).TrailARN!;
    await api(1).startLogging({ Name: trailArn });
    let calls = 0;
    for (let hour = 0; hour < 3; hour++) {
      t = t0 + hour * HOUR + 5 * MINUTE;
      await Promise.all(Array.from({ length: 20 }, (_, i) => api(i).describeTrails({})));
      calls += 20;
      await bothAtOnce();
      t += 30 * MINUTE;
      await bothAtOnce();
    }
    t = t0 + 3 * HOUR + 10 * MINUTE;
    await api(0).stopLogging({ Name: trailArn });
    await bothAtOnce();
    await bothAtOnce();
    real = true;

    const ids = await deliveredIds("DescribeTrails");
    expect(ids).toHaveLength(calls);
    expect(new Set(ids).size).toBe(calls);

    let stdout = "";
    let stderr = "";
    const code = await runValidateLogs(
      {
        trailArn,
        startTime: iso(t0 - MINUTE),
        endTime: iso(t0 + 4 * HOUR),
        endpoint: two.url,
        s3Endpoint: s3.endpoint,
        verbose: true,
        concurrency: "16",
      },
      {
        env: {
          AWS_DEFAULT_REGION: "us-east-1",
          // the server's development key; moto takes any
          AWS_ACCESS_KEY_ID: "test",
          AWS_SECRET_ACCESS_KEY: "test",
        },
        cwd: one.dataDir,
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
      },
    );
    expect(code, stdout + stderr).toBe(0);
    expect(stdout).toMatch(/^(\d+)\/\1 log files valid$/m);
    // two whole hours, then the final digest from the third hour's start to StopLogging: one chain
    expect(stdout).toMatch(/^3\/3 digest files valid$/m);
  });

  it("leaves a lane whose lease a dead node holds until the lease expires, then delivers it once", async () => {
    real = false;
    t = Date.now() - HOUR;
    const api = (i: number) => clockedClient([one, two][i % 2]!.url, clock);
    await api(0).startLogging({ Name: "both" });
    await Promise.all(Array.from({ length: 10 }, (_, i) => api(i).listTrails({})));
    // a node that died working the lane: its lease runs 30 s from now
    const db = new pg.Client({ connectionString: one.database });
    await db.connect();
    try {
      const { rows } = await db.query<{ id: number }>("SELECT id FROM destinations WHERE bucket = $1", [
        BUCKET,
      ]);
      await db.query("INSERT INTO leases (name, holder, expires_at) VALUES ($1, 'dead-node', $2)", [
        `delivery:${rows[0]!.id}/us-east-1`,
        t + 30_000,
      ]);
    } finally {
      await db.end();
    }
    await Promise.all([one.app.delivery.drain(), two.app.delivery.drain()]);
    expect(await deliveredIds("ListTrails")).toHaveLength(0);
    t += 30_000;
    await Promise.all([one.app.delivery.drain(), two.app.delivery.drain()]);
    const ids = await deliveredIds("ListTrails");
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
  });
});
