import type { AttributeLists, InsightSeries } from "../domain/insights/record.ts";
import type { SeriesState } from "../domain/insights/rule.ts";

/** Which per-minute counts: write management calls, or management calls that ended in an error. */
export type InsightCountKind = "write" | "error";

/** One stored count: the calls of one API, read-only flag and error code in one UTC minute. */
export interface InsightCount {
  minute: number;
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** "" for calls without an error. */
  errorCode: string;
  calls: number;
}

/** One Insights series of a lane, with its state and the baseline attributions of its Start. */
export interface InsightSeriesEntry {
  series: InsightSeries;
  state: SeriesState;
  baselineAttributions?: AttributeLists;
}

/** What the Insights worker keeps per (trail, region, insight type). */
export interface InsightLane {
  trailArn: string;
  region: string;
  insightType: string;
  accountId: string;
  /** The lane's Insights destination (its CloudTrail-Insight folder). */
  destinationId: number;
  /** When the worker first saw the lane enabled and logging (ms): the warm-up counts from it. */
  enabledAt: number;
  /** The next minute to evaluate. */
  nextMinute: number;
  series: InsightSeriesEntry[];
}

/** An Insights record decided on and not yet appended to event history. */
export interface PendingInsightRecord {
  id?: number;
  accountId: string;
  json: string;
  destinations: number[];
}

export interface InsightStore {
  /**
   * The counts of minutes [fromMinute, toMinute] of the account's management events in a
   * region; only those of the given (eventSource, eventName) pairs when `only` is given.
   */
  counts(
    accountId: string,
    region: string,
    kind: InsightCountKind,
    fromMinute: number,
    toMinute: number,
    only?: readonly { eventSource: string; eventName: string }[],
  ): Promise<InsightCount[]>;
  lanes(): Promise<InsightLane[]>;
  /**
   * One transaction: writes the lanes, removes those named in `removed`, and queues `records`
   * for appending.
   */
  save(
    lanes: readonly InsightLane[],
    removed: readonly Pick<InsightLane, "trailArn" | "region" | "insightType">[],
    records: readonly PendingInsightRecord[],
  ): Promise<void>;
  pending(): Promise<PendingInsightRecord[]>;
  /** Forgets queued records once they are appended. */
  appended(ids: readonly number[]): Promise<void>;
}
