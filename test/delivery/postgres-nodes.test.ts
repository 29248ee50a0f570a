import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { useIngestThreads } from "../support/ingest-threads.ts";
import { describePostgres } from "../support/postgres.ts";
import { startTestServer, type TestServer, usePostgresServer } from "../support/server.ts";

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
    one = await startTestServer({ deliveryIntervalMs: 3_600_000 });
    two = await startTestServer({ deliveryIntervalMs: 3_600_000, database: one.database });
    for (const server of [one, two]) server.createBucket("logs");
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
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
