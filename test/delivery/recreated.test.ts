import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * A trail deleted and created again under the same name is another trail: the first one's last
 * log file, delivered or failing after DeleteTrail, is not in the second one's GetTrailStatus,
 * and its records do not go to the second one's lanes.
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The deprecated strings of a trail that never delivered. */
const NEVER_DELIVERED = { LatestDeliveryAttemptTime: "", LatestDeliveryAttemptSucceeded: "" };

describe("a trail created again under a deleted trail's name", () => {
  it("shows nothing of the deleted trail's delivery, failed or done", async () => {
    server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
    server.createBucket("bkt");
    const api = httpClient({ endpoint: server.url, region: "us-east-1" });
    await api.createTrail({ Name: "again", S3BucketName: "bkt" });
    await api.startLogging({ Name: "again" });
    await server.app.delivery.drain();
    expect((await api.getTrailStatus({ Name: "again" })).LatestDeliveryTime).toBeDefined();

    // the final file of the deleted trail fails: its bucket went with it
    await api.deleteTrail({ Name: "again" });
    rmSync(join(server.bucketsDir, "bkt"), { recursive: true });
    await server.app.delivery.drain();

    server.createBucket("bkt");
    await api.createTrail({ Name: "again", S3BucketName: "bkt" });
    const fresh = await api.getTrailStatus({ Name: "again" });
    expect(fresh).toMatchObject(NEVER_DELIVERED);
    expect(fresh.LatestDeliveryError).toBeUndefined();
    expect(fresh.LatestDeliveryTime).toBeUndefined();

    // the bucket is back: the deleted trail's final file goes there, still not the new trail's
    await server.app.delivery.drain();
    const after = await api.getTrailStatus({ Name: "again" });
    expect(after).toMatchObject(NEVER_DELIVERED);
    expect(after.LatestDeliveryError).toBeUndefined();
    expect(after.LatestDeliveryTime).toBeUndefined();
    const files = readdirSync(join(server.bucketsDir, "bkt"), { recursive: true }).filter((f) =>
      String(f).endsWith(".json.gz"),
    );
    expect(files).toHaveLength(1);
    api.client.destroy();
  });
});
