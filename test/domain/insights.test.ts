import { describe, expect, it } from "vitest";
import { metricPage, parseMetricRequest } from "../../src/domain/insights/metric-data.ts";
import {
  attributions,
  derivedUuid,
  insightRecord,
  topLists,
  topValues,
} from "../../src/domain/insights/record.ts";
import {
  type Baseline,
  baselineOf,
  DEFAULT_INSIGHT_SETTINGS,
  forceEnd,
  type InsightChange,
  type InsightSettings,
  lastClosedMinute,
  needsBaseline,
  type SeriesState,
  stepSeries,
} from "../../src/domain/insights/rule.ts";

/** insights.md §6.6. */
const RECIPE: InsightSettings = {
  ...DEFAULT_INSIGHT_SETTINGS,
  baselineMinutes: 10,
  warmupMinutes: 0,
  floorCallRate: 5,
  multiplier: 3,
  sigmas: 4,
  endQuietMinutes: 2,
  graceSeconds: 0,
};

/** Runs a series of per-minute counts through the rule, the baseline from the counts before. */
function run(counts: number[], s: InsightSettings = RECIPE, from = s.baselineMinutes) {
  let state: SeriesState = {};
  const changes: InsightChange[] = [];
  for (let m = from; m < counts.length; m++) {
    const c = counts[m]!;
    let baseline: Baseline | undefined;
    if (needsBaseline(state, m, c, "ApiCallRateInsight", s)) {
      const window = counts.slice(Math.max(0, m - s.baselineMinutes), m);
      const sum = window.reduce((a, b) => a + b, 0);
      const squares = window.reduce((a, b) => a + b * b, 0);
      baseline = baselineOf(sum, squares, s.baselineMinutes);
    }
    const step = stepSeries(state, m, c, baseline, true, "ApiCallRateInsight", s);
    state = step.state;
    changes.push(...step.changes);
  }
  return { state, changes };
}

describe("insights rule", () => {
  it("follows the test recipe: Start at minute 10, End at minute 12 after two quiet minutes", () => {
    const counts = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 20, 20, 0, 0];
    const { changes, state } = run(counts, RECIPE, 10);
    expect(changes).toEqual([
      { state: "Start", direction: "rise", startMinute: 10, count: 20, baseline: { mean: 1, sigma: 0 } },
      {
        state: "End",
        direction: "rise",
        startMinute: 10,
        duration: 2,
        average: 20,
        baseline: { mean: 1, sigma: 0 },
      },
    ]);
    expect(state).toEqual({ cooldownUntil: 12 + RECIPE.cooldownMinutes });
  });

  it("gives nothing for a steady rate, nor below the floor", () => {
    expect(run(Array(40).fill(30)).changes).toEqual([]);
    expect(run([...Array(20).fill(0), 4, 4, 4]).changes).toEqual([]);
  });

  it("needs all three conditions: above K·μ and above μ + N·σ", () => {
    // μ = 5, σ = 5 (alternating 0 and 10): 16 > 15 = 3μ but not > 25 = μ + 4σ
    const noisy = [0, 10, 0, 10, 0, 10, 0, 10, 0, 10];
    expect(run([...noisy, 16]).changes).toEqual([]);
    expect(run([...noisy, 26]).changes.map((c) => c.state)).toEqual(["Start"]);
  });

  it("keeps the start minute's thresholds while active and counts quiet minutes in between", () => {
    const counts = [...Array(10).fill(1), 20, 2, 30, 0, 0];
    const { changes } = run(counts, RECIPE, 10);
    expect(changes[1]).toMatchObject({ state: "End", duration: 3, average: 52 / 3 });
  });

  it("ends at the maximum duration and then cools down", () => {
    const s = { ...RECIPE, maxDurationMinutes: 3, cooldownMinutes: 4 };
    const counts = [...Array(10).fill(0), ...Array(10).fill(50)];
    const { changes } = run(counts, s, 10);
    expect(changes.map((c) => [c.state, c.startMinute])).toEqual([
      ["Start", 10],
      ["End", 10],
    ]);
    expect(changes[1]).toMatchObject({ duration: 3 });
    // the same burst again after the cooldown, against a quiet window, starts again
    const again = run([...counts.slice(0, 13), ...Array(10).fill(0), 50], s, 10).changes;
    expect(again.map((c) => [c.state, c.startMinute])).toEqual([
      ["Start", 10],
      ["End", 10],
      ["Start", 23],
    ]);
  });

  it("waits through the warm-up", () => {
    const step = stepSeries({}, 10, 100, { mean: 0, sigma: 0 }, false, "ApiCallRateInsight", RECIPE);
    expect(step.changes).toEqual([]);
  });

  it("reports drops only when asked", () => {
    const counts = [...Array(10).fill(30), 1, 1, 1, 30, 30, 30];
    expect(run(counts, RECIPE, 10).changes).toEqual([]);
    const drops = run(counts, { ...RECIPE, detectDrops: true }, 10).changes;
    expect(drops.map((c) => [c.state, c.direction, c.startMinute])).toEqual([
      ["Start", "drop", 10],
      ["End", "drop", 10],
    ]);
    expect(drops[1]).toMatchObject({ duration: 3, average: 1 });
  });

  it("ends an active Insights event on demand with the duration so far", () => {
    const counts = [...Array(10).fill(0), 20, 20, 20];
    const { state } = run(counts, RECIPE, 10);
    expect(forceEnd(state).changes).toEqual([
      {
        state: "End",
        direction: "rise",
        startMinute: 10,
        duration: 3,
        average: 20,
        baseline: { mean: 0, sigma: 0 },
      },
    ]);
    expect(forceEnd({}).changes).toEqual([]);
  });

  it("evaluates a minute once it is closed and the grace has passed", () => {
    const at = (iso: string) => new Date(iso);
    expect(lastClosedMinute(at("1970-01-01T00:11:00Z"), 0)).toBe(10);
    expect(lastClosedMinute(at("1970-01-01T00:11:59Z"), 60)).toBe(9);
    expect(lastClosedMinute(at("1970-01-01T00:12:00Z"), 60)).toBe(10);
  });
});

describe("insights record", () => {
  it("sorts attribution values by average, then value, and keeps five", () => {
    const counts = new Map([
      ["b", 2],
      ["a", 2],
      ["c", 6],
      ["d", 1],
      ["e", 1],
      ["f", 1],
    ]);
    expect(topValues(counts, 2)).toEqual([
      { value: "c", average: 3 },
      { value: "a", average: 1 },
      { value: "b", average: 1 },
      { value: "d", average: 0.5 },
      { value: "e", average: 0.5 },
    ]);
  });

  it("leaves out empty attributions and error codes of error rates", () => {
    const insight = topLists({ userAgent: new Map([["aws-cli", 4]]), errorCode: new Map([["x", 1]]) }, 2);
    expect(attributions(insight, topLists({}, 10), "ApiErrorRateInsight")).toEqual([
      { attribute: "userAgent", insight: [{ value: "aws-cli", average: 2 }], baseline: [] },
    ]);
  });

  it("builds Start and End with one sharedEventID and AWS's member order", () => {
    const base = {
      accountId: "123456789012",
      region: "us-east-1",
      type: "ApiCallRateInsight" as const,
      series: { eventSource: "iam.amazonaws.com", eventName: "CreateUser" },
      baselineMinutes: 10,
      attributions: [],
    };
    const baseline = { mean: 1, sigma: 0 };
    const start = insightRecord({
      ...base,
      change: { state: "Start", direction: "rise", startMinute: 10, count: 20, baseline },
    });
    const end = insightRecord({
      ...base,
      change: { state: "End", direction: "rise", startMinute: 10, duration: 2, average: 20, baseline },
    });
    expect(Object.keys(start)).toEqual([
      "eventVersion",
      "eventTime",
      "awsRegion",
      "eventID",
      "eventType",
      "recipientAccountId",
      "sharedEventID",
      "insightDetails",
      "eventCategory",
    ]);
    expect(start.eventTime).toBe("1970-01-01T00:10:00Z");
    expect(end.eventTime).toBe("1970-01-01T00:12:00Z");
    expect(start.sharedEventID).toBe(end.sharedEventID);
    expect(start.eventID).not.toBe(end.eventID);
    expect(start.insightDetails).toEqual({
      state: "Start",
      eventSource: "iam.amazonaws.com",
      eventName: "CreateUser",
      insightType: "ApiCallRateInsight",
      insightContext: {
        statistics: {
          baseline: { average: 1 },
          insight: { average: 20 },
          insightDuration: 1,
          baselineDuration: 10,
        },
      },
    });
    expect((end.insightDetails as { insightContext: unknown }).insightContext).toEqual({
      statistics: {
        baseline: { average: 1 },
        insight: { average: 20 },
        insightDuration: 2,
        baselineDuration: 10,
      },
    });
  });

  it("derives UUID-shaped ids deterministically", () => {
    const id = derivedUuid("a", 1);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid("a", 1)).toBe(id);
    expect(derivedUuid("a", 2)).not.toBe(id);
  });
});

describe("ListInsightsMetricData from counts", () => {
  const now = new Date("2026-03-01T12:00:00Z");
  const base = {
    EventSource: "iam.amazonaws.com",
    EventName: "CreateUser",
    InsightType: "ApiCallRateInsight" as const,
  };

  it("defaults to hourly points over the last 90 days, non-zero only", () => {
    const q = parseMetricRequest(base, now);
    expect(q).toMatchObject({
      periodMs: 3_600_000,
      fillWithZeros: false,
      maxResults: 21_600,
      end: now.getTime(),
    });
    expect(q.start).toBe(now.getTime() - 90 * 86_400_000);
    const minute = now.getTime() / 60_000;
    const page = metricPage(
      q,
      new Map([
        [minute - 61, 2],
        [minute - 59, 3],
        [minute - 1, 4],
      ]),
    );
    expect(page.values).toEqual([2, 7]);
    expect(page.timestamps).toEqual([now.getTime() - 2 * 3_600_000, now.getTime() - 3_600_000]);
  });

  it("keeps one-minute points 15 days and refuses what AWS does not take", () => {
    expect(parseMetricRequest({ ...base, Period: 60 }, now).start).toBe(now.getTime() - 15 * 86_400_000);
    for (const bad of [
      { ...base, Period: 120 },
      { ...base, InsightType: "ApiErrorRateInsight" as const },
      { ...base, EventName: undefined },
      { ...base, MaxResults: 0 },
      { ...base, DataType: "All" as never },
    ]) {
      expect(() => parseMetricRequest(bad, now)).toThrow(
        expect.objectContaining({ name: "InvalidParameterException" }),
      );
    }
    expect(() => parseMetricRequest({ ...base, StartTime: now, EndTime: now }, now)).toThrow(
      expect.objectContaining({ name: "InvalidTimeRangeException" }),
    );
    const q = parseMetricRequest({ ...base, Period: 60 }, now);
    expect(() => metricPage(q, new Map(), "bm90LWpzb24")).toThrow(
      expect.objectContaining({ name: "InvalidNextTokenException" }),
    );
  });
});
