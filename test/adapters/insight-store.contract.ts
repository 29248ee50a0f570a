import { describe, expect, it } from "vitest";
import type { EventStore, InsightLane, InsightStore, StoredEvent } from "../../src/ports/index.ts";

export const ACCOUNT = "123456789012";
export const T0 = Date.UTC(2026, 0, 1);
export const M0 = T0 / 60_000;

/** A management event of minute `minute` after T0: a write call of iam CreateUser unless told otherwise. */
export function insightEvent(id: string, minute: number, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    accountId: ACCOUNT,
    region: "us-east-1",
    eventId: id,
    eventTime: new Date(T0 + minute * 60_000 + 1500),
    category: "Management",
    eventName: "CreateUser",
    eventSource: "iam.amazonaws.com",
    readOnly: false,
    resources: [],
    json: JSON.stringify({ eventID: id, ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) }),
    ...extra,
  };
}

const lane = (overrides: Partial<InsightLane> = {}): InsightLane => ({
  trailArn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`,
  region: "us-east-1",
  insightType: "ApiCallRateInsight",
  accountId: ACCOUNT,
  destinationId: 1,
  enabledAt: T0,
  nextMinute: M0,
  series: [],
  ...overrides,
});

/**
 * What every InsightStore adapter does with the event store whose appends keep its counts; `open`
 * gives both on empty stores.
 */
export function insightStoreContract(
  name: string,
  open: () => Promise<{ events: EventStore; insights: InsightStore }>,
): void {
  describe(`${name} (InsightStore contract)`, () => {
    it("counts write calls and failed calls per minute as events are appended, and nothing else", async () => {
      const { events, insights } = await open();
      await events.append([
        insightEvent("a", 0),
        insightEvent("b", 0),
        insightEvent("c", 1, { errorCode: "AccessDenied" }),
        insightEvent("d", 1, { readOnly: true }),
        insightEvent("e", 1, { readOnly: true, errorCode: "AccessDenied", eventName: "GetUser" }),
        insightEvent("f", 1, { category: "Data", eventName: "PutObject" }),
      ]);
      // a retried event is not counted twice, nor one repeated within an append
      await events.append([insightEvent("a", 0), insightEvent("g", 2), insightEvent("g", 2)]);
      const write = await insights.counts(ACCOUNT, "us-east-1", "write", M0, M0 + 1);
      expect(write).toEqual([
        {
          minute: M0,
          eventSource: "iam.amazonaws.com",
          eventName: "CreateUser",
          readOnly: false,
          errorCode: "",
          calls: 2,
        },
        {
          minute: M0 + 1,
          eventSource: "iam.amazonaws.com",
          eventName: "CreateUser",
          readOnly: false,
          errorCode: "AccessDenied",
          calls: 1,
        },
      ]);
      expect((await insights.counts(ACCOUNT, "us-east-1", "write", M0 + 2, M0 + 2))[0]?.calls).toBe(1);
      const errors = await insights.counts(ACCOUNT, "us-east-1", "error", M0, M0 + 1);
      expect(errors.map((c) => [c.eventName, c.readOnly, c.errorCode, c.calls])).toEqual([
        ["CreateUser", false, "AccessDenied", 1],
        ["GetUser", true, "AccessDenied", 1],
      ]);
      const only = await insights.counts(ACCOUNT, "us-east-1", "error", M0, M0 + 1, [
        { eventSource: "iam.amazonaws.com", eventName: "GetUser" },
      ]);
      expect(only.map((c) => c.eventName)).toEqual(["GetUser"]);
      expect(await insights.counts(ACCOUNT, "us-east-1", "error", M0, M0 + 1, [])).toEqual([]);
      expect(await insights.counts(ACCOUNT, "eu-west-1", "write", M0, M0 + 1)).toEqual([]);
      expect(await insights.counts("210987654321", "us-east-1", "write", M0, M0 + 1)).toEqual([]);
      // retention forgets counts with the events
      await events.purgeBefore(new Date(T0 + 60_000));
      expect(await insights.counts(ACCOUNT, "us-east-1", "write", M0, M0 + 1)).toHaveLength(1);
    });

    it("counts events before 1970 in the minute they fall in", async () => {
      const { events, insights } = await open();
      await events.append([{ ...insightEvent("old", 0), eventTime: new Date(-30_000) }]);
      const counts = await insights.counts(ACCOUNT, "us-east-1", "write", -1, 0);
      expect(counts.map((c) => [c.minute, c.calls])).toEqual([[-1, 1]]);
    });

    it("adds up counts of appends made at once", async () => {
      const { events, insights } = await open();
      await Promise.all(
        Array.from({ length: 8 }, (_, n) =>
          events.append(
            Array.from({ length: 25 }, (_, i) =>
              insightEvent(`p${n}-${i}`, i % 2, i % 5 === 0 ? { errorCode: "Throttling" } : {}),
            ),
          ),
        ),
      );
      const counts = await insights.counts(ACCOUNT, "us-east-1", "write", M0, M0 + 1);
      expect(counts.reduce((sum, c) => sum + c.calls, 0)).toBe(200);
      expect(counts.filter((c) => c.errorCode === "Throttling").reduce((sum, c) => sum + c.calls, 0)).toBe(
        40,
      );
    });

    it("keeps lanes and queued records in one transaction", async () => {
      const { insights } = await open();
      const one = lane();
      const two = lane({ region: "eu-west-1", insightType: "ApiErrorRateInsight" });
      await insights.save(
        [two, one],
        [],
        [
          { accountId: ACCOUNT, json: '{"n":1}', destinations: [1] },
          { accountId: ACCOUNT, json: '{"n":2}', destinations: [1, 2] },
        ],
      );
      // in key order
      expect(await insights.lanes()).toEqual([two, one]);
      const queued = await insights.pending();
      expect(queued.map((q) => [q.accountId, q.json, q.destinations])).toEqual([
        [ACCOUNT, '{"n":1}', [1]],
        [ACCOUNT, '{"n":2}', [1, 2]],
      ]);
      await insights.appended([queued[0]!.id!]);
      expect((await insights.pending()).map((q) => q.json)).toEqual(['{"n":2}']);
      // a saved lane is replaced whole
      const later = lane({
        nextMinute: M0 + 5,
        series: [{ series: { eventSource: "iam.amazonaws.com", eventName: "CreateUser" }, state: {} }],
      });
      await insights.save([later], [two], []);
      expect(await insights.lanes()).toEqual([later]);
      await insights.appended([queued[1]!.id!]);
      await insights.save([], [later], []);
      expect(await insights.lanes()).toEqual([]);
      expect(await insights.pending()).toEqual([]);
    });
  });
}
