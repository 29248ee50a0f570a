import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { openStores, type Stores } from "../../src/adapters/index.ts";
import { insightRecord } from "../../src/domain/insights/record.ts";
import { DEFAULT_INSIGHT_SETTINGS } from "../../src/domain/insights/rule.ts";
import { createInsightsWorker } from "../../src/pipeline/insights.ts";

/*
 * The window a crash can hit inside a pass: decisions are written (lanes and queued records),
 * then the records are appended, then the queue is cleared. A process that dies after the write
 * appends the queue when it starts again; one that dies after the append appends it again, and
 * the derived eventIDs make the second append a no-op.
 */

const ACCOUNT = "123456789012";
const NOW = new Date("2026-03-01T12:00:30Z");

const RECORD = insightRecord({
  accountId: ACCOUNT,
  region: "us-east-1",
  type: "ApiCallRateInsight",
  series: { eventSource: "iam.amazonaws.com", eventName: "CreateUser" },
  change: {
    state: "End",
    direction: "rise",
    startMinute: Math.floor(NOW.getTime() / 60_000) - 5,
    duration: 2,
    average: 20,
    baseline: { mean: 1, sigma: 0 },
  },
  baselineMinutes: 10,
  attributions: [],
});

async function withStores(test: (stores: Stores, path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "opentrail-insights-recovery-"));
  const path = join(dir, "opentrail.db");
  const stores = await openStores({ kind: "sqlite", path, checkpointer: false });
  try {
    await test(stores, path);
  } finally {
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function worker(stores: Stores) {
  return createInsightsWorker({
    store: stores.insights!,
    events: stores.events,
    deliveries: stores.deliveries,
    listTrails: async () => [],
    clock: { now: () => NOW },
    log: pino({ level: "silent" }),
    regions: ["us-east-1"],
    settings: DEFAULT_INSIGHT_SETTINGS,
  });
}

async function stored(stores: Stores): Promise<string[]> {
  const found = await stores.events.lookup({
    accountId: ACCOUNT,
    region: "us-east-1",
    category: "Insight",
    start: new Date(NOW.getTime() - 3_600_000),
    end: NOW,
    limit: 50,
  });
  return found.map((e) => e.eventId);
}

describe("Insights records queued before a crash", () => {
  it("are appended at the next start, once, with their delivery rows", async () => {
    await withStores(async (stores) => {
      const destination = await stores.deliveries.destinationFor({
        accountId: ACCOUNT,
        trailArn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`,
        bucket: "b",
        kind: "CloudTrail-Insight",
      });
      const queued = { accountId: ACCOUNT, json: JSON.stringify(RECORD), destinations: [destination] };
      // died after writing its decision
      await stores.insights!.save([], [], [queued]);
      await worker(stores).drain();
      expect(await stored(stores)).toEqual([RECORD.eventID]);
      expect(await stores.insights!.pending()).toEqual([]);
      // died after the append, before clearing the queue
      await stores.insights!.save([], [], [queued]);
      await worker(stores).drain();
      expect(await stored(stores)).toEqual([RECORD.eventID]);
      const lanes = await stores.deliveries.backlog();
      expect(lanes.map((l) => [l.destinationId, l.region, l.rows])).toEqual([[destination, "us-east-1", 1]]);
    });
  });
});
