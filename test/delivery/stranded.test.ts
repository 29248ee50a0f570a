import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * Issue 13, item 7: a destination that cannot be written is visible in GetTrailStatus until its
 * records are delivered, and records stranded there are delivered once the trail is fixed; the
 * local store writes the prefixes that stranded them (segments over 255 bytes, NUL).
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Every record of the log files below `dir`, by eventName. */
function eventNamesIn(dir: string): string[] {
  const names: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".json.gz")) continue;
    const body = gunzipSync(readFileSync(join(entry.parentPath, entry.name))).toString("utf8");
    for (const r of (JSON.parse(body) as { Records: { eventName: string }[] }).Records)
      names.push(r.eventName);
  }
  return names.sort();
}

describe("a destination that cannot be written", () => {
  it("shows its error until its records are delivered, and they are once the prefix is fixed", async () => {
    server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
    server.createBucket("bkt");
    // an object named "blocked" where the prefix's folder would go: S3 has both, a file system not
    writeFileSync(join(server.bucketsDir, "bkt", "blocked"), "someone's object");
    const api = httpClient({ endpoint: server.url, region: "us-east-1" });
    await api.createTrail({ Name: "trail-1", S3BucketName: "bkt", S3KeyPrefix: "blocked" });
    await api.startLogging({ Name: "trail-1" });
    await server.app.delivery.drain();
    const failing = await api.getTrailStatus({ Name: "trail-1" });
    expect(failing.LatestDeliveryError).toBe("InvalidArgument");
    expect(failing.LatestDeliveryTime).toBeUndefined();

    await api.updateTrail({ Name: "trail-1", S3KeyPrefix: "fixed" });
    await server.app.delivery.drain();
    await server.app.delivery.drain();
    const fixed = await api.getTrailStatus({ Name: "trail-1" });
    expect(fixed.LatestDeliveryError).toBeUndefined();
    expect(fixed.LatestDeliveryTime).toBeDefined();
    // the records made while the prefix was bad (StartLogging, the first GetTrailStatus) are there
    const delivered = eventNamesIn(join(server.bucketsDir, "bkt", "fixed"));
    expect(delivered).toEqual(expect.arrayContaining(["GetTrailStatus", "StartLogging", "UpdateTrail"]));
    expect(delivered.filter((n) => n === "StartLogging")).toHaveLength(1);
    expect(readFileSync(join(server.bucketsDir, "bkt", "blocked"), "utf8")).toBe("someone's object");
    api.client.destroy();
  });

  it("shows its error after the trail's new destination succeeds, while its records wait", async () => {
    server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
    server.createBucket("bkt");
    // a folder the file system cannot enter (ELOOP): a failure that may pass, so the lane is
    // retried where it is instead of being moved to the trail's new prefix
    const loop = join(server.bucketsDir, "bkt", "looped");
    symlinkSync("looped", loop);
    const api = httpClient({ endpoint: server.url, region: "us-east-1" });
    await api.createTrail({ Name: "trail-1", S3BucketName: "bkt", S3KeyPrefix: "looped" });
    await api.startLogging({ Name: "trail-1" });
    await server.app.delivery.drain();
    expect((await api.getTrailStatus({ Name: "trail-1" })).LatestDeliveryError).toBe("InternalError");

    await api.updateTrail({ Name: "trail-1", S3KeyPrefix: "fixed" });
    await server.app.delivery.drain();
    const elsewhere = await api.getTrailStatus({ Name: "trail-1" });
    // the new prefix took a file, and the old one still holds records
    expect(eventNamesIn(join(server.bucketsDir, "bkt", "fixed"))).toContain("UpdateTrail");
    expect(elsewhere.LatestDeliveryTime).toBeDefined();
    expect(elsewhere.LatestDeliveryError).toBe("InternalError");

    rmSync(loop);
    await server.app.delivery.drain();
    expect(eventNamesIn(join(server.bucketsDir, "bkt", "looped"))).toContain("StartLogging");
    expect((await api.getTrailStatus({ Name: "trail-1" })).LatestDeliveryError).toBeUndefined();
    api.client.destroy();
  });

  it("writes a prefix of 200 × 'é' (400 bytes in one segment) and one with NUL", async () => {
    server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
    server.createBucket("bkt");
    const api = httpClient({ endpoint: server.url, region: "us-east-1" });
    for (const [name, prefix] of [
      ["long", "é".repeat(200)],
      ["nul", "a\u0000b"],
    ] as const) {
      await api.createTrail({ Name: name, S3BucketName: "bkt", S3KeyPrefix: prefix });
      await api.startLogging({ Name: name });
    }
    await server.app.delivery.drain();
    for (const name of ["long", "nul"]) {
      const status = await api.getTrailStatus({ Name: name });
      expect(status.LatestDeliveryError, name).toBeUndefined();
      expect(status.LatestDeliveryTime, name).toBeDefined();
    }
    const keys: string[] = [];
    for await (const key of server.app.objects.listKeys("bkt", "")) keys.push(key);
    expect(keys.some((k) => k.startsWith(`${"é".repeat(200)}/AWSLogs/123456789012/CloudTrail/`))).toBe(true);
    expect(keys.some((k) => k.startsWith("a\u0000b/AWSLogs/123456789012/CloudTrail/"))).toBe(true);
    api.client.destroy();
  });
});
