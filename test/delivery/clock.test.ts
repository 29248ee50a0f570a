import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * The delivery interval runs on the service's clock, from when a record was received: a service
 * on a clock of its own (tests; here ten minutes behind, within SigV4's allowed skew) writes a
 * record's file one interval after it arrived by that clock, not by the wall clock.
 */

const INTERVAL_MS = 60_000;

describe("the delivery interval on the service's clock", () => {
  let server: TestServer;
  let now = Date.now() - 10 * 60_000;

  beforeAll(async () => {
    server = await startTestServer(
      { deliveryIntervalMs: INTERVAL_MS },
      { clock: { now: () => new Date(now) } },
    );
    server.createBucket("clock-bucket");
  });
  afterAll(async () => server?.close());

  async function deliveredKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of server.app.objects.listKeys("clock-bucket", "")) keys.push(key);
    return keys;
  }

  it("writes the file one interval after the records arrived, by the service's clock", async () => {
    const api = httpClient({ endpoint: server.url });
    await api.createTrail({ Name: "clock-trail", S3BucketName: "clock-bucket" });
    await api.startLogging({ Name: "clock-trail" });
    await ingestClient({ endpoint: server.url }).send([
      {
        eventVersion: "1.08",
        eventSource: "ec2.amazonaws.com",
        eventName: "DescribeInstances",
        eventType: "AwsApiCall",
        eventTime: new Date(now).toISOString().replace(/\.\d+Z$/, "Z"),
      },
    ]);
    now += INTERVAL_MS - 1000;
    await server.app.delivery.runOnce();
    expect(await deliveredKeys()).toEqual([]);
    now += 1000;
    await server.app.delivery.runOnce();
    expect((await deliveredKeys()).length).toBe(1);
    api.client.destroy();
  });
});
