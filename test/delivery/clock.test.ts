import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";

/*
 * The delivery interval runs on the service's clock, from when a record was received: a service
 * on a clock of its own (tests; here ten minutes behind, within SigV4's allowed skew) writes a
 * record's file one interval after it arrived by that clock, not by the wall clock.
 */

const INTERVAL_MS = 60_000;

describe("the delivery interval on the service's clock", () => {
  let app: OpenTrail;
  let dataDir: string;
  let now = Date.now() - 10 * 60_000;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-clock-"));
    mkdirSync(join(dataDir, "buckets", "clock-bucket"), { recursive: true });
    const config = { ...loadConfig({ flags: { port: 0, dataDir } }), deliveryIntervalMs: INTERVAL_MS };
    app = await startOpenTrail(config, {
      log: pino({ level: "silent" }),
      clock: { now: () => new Date(now) },
    });
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function deliveredKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of app.objects.listKeys("clock-bucket", "")) keys.push(key);
    return keys;
  }

  it("writes the file one interval after the records arrived, by the service's clock", async () => {
    const api = httpClient({ endpoint: app.url });
    await api.createTrail({ Name: "clock-trail", S3BucketName: "clock-bucket" });
    await api.startLogging({ Name: "clock-trail" });
    await ingestClient({ endpoint: app.url }).send([
      {
        eventVersion: "1.08",
        eventSource: "ec2.amazonaws.com",
        eventName: "DescribeInstances",
        eventType: "AwsApiCall",
        eventTime: new Date(now).toISOString().replace(/\.\d+Z$/, "Z"),
      },
    ]);
    now += INTERVAL_MS - 1000;
    await app.delivery.runOnce();
    expect(await deliveredKeys()).toEqual([]);
    now += 1000;
    await app.delivery.runOnce();
    expect((await deliveredKeys()).length).toBe(1);
    api.client.destroy();
  });
});
