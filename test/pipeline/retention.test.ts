import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { createRetentionWorker } from "../../src/pipeline/retention.ts";
import type { StoredEvent } from "../../src/ports/index.ts";

const DAY = 24 * 60 * 60 * 1000;

function event(id: string, time: Date): StoredEvent {
  return {
    accountId: "123456789012",
    region: "us-east-1",
    eventId: id,
    eventTime: time,
    category: "Management",
    eventName: "DescribeInstances",
    eventSource: "ec2.amazonaws.com",
    resources: [],
    json: JSON.stringify({ eventID: id }),
  };
}

describe("retention", () => {
  it("forgets events older than 90 days and keeps the rest, and those still waiting for delivery", async () => {
    const db = openSqlite(":memory:");
    const now = new Date("2026-06-01T00:00:00Z");
    const destination = await db.deliveries.destinationFor({
      accountId: "123456789012",
      trailArn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t1",
      bucket: "bucket",
    });
    await db.events.append([
      event("old", new Date(now.getTime() - 91 * DAY)),
      { ...event("old-undelivered", new Date(now.getTime() - 95 * DAY)), destinations: [destination] },
      event("recent", new Date(now.getTime() - 89 * DAY)),
    ]);
    const worker = createRetentionWorker({
      events: db.events,
      clock: { now: () => now },
      log: pino({ level: "silent" }),
    });
    expect(await worker.purgeNow()).toBe(1);
    const left = await db.events.lookup({
      accountId: "123456789012",
      region: "us-east-1",
      category: "Management",
      start: new Date(0),
      end: now,
      limit: 10,
    });
    expect(left.map((e) => e.eventId).sort()).toEqual(["old-undelivered", "recent"]);
    db.close();
  });
});
