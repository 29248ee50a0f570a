import type { InsightCount, InsightLane, PendingInsightRecord, StoredEvent } from "../../ports/index.ts";

/*
 * The Insights rows both SQL backends keep: the per-minute counts the appends add to (SQLite's
 * step 10, PostgreSQL's step 10), the worker's lanes as JSON documents, and its queued records.
 */

/**
 * One count an append adds: [scope, minute, event source, event name, read-only (0/1), error
 * code, calls]. The scope says whose events (SQLite: an event_scopes id; PostgreSQL: account and
 * region).
 */
export type InsightCountRow<S> = [S, number, string, string, number, string, number];

/** An append's counts, by event name: a few rows per name, scanned (no key strings to build). */
export type InsightCounts<S> = Map<string, InsightCountRow<S>[]>;

/**
 * Counts a stored management event that Insights analyses: a write call, or a call that ended in
 * an error.
 */
export function countForInsights<S>(counts: InsightCounts<S>, scope: S, time: number, e: StoredEvent): void {
  const { eventSource, eventName } = e;
  if (e.category !== "Management" || eventSource === undefined || eventName === undefined) return;
  const errorCode = e.errorCode ?? "";
  if (e.readOnly !== false && errorCode === "") return;
  const minute = Math.floor(time / 60_000);
  const readOnly = e.readOnly === false ? 0 : 1;
  let rows = counts.get(eventName);
  if (rows === undefined) {
    rows = [];
    counts.set(eventName, rows);
  }
  for (const row of rows) {
    if (
      row[1] === minute &&
      row[2] === eventSource &&
      row[5] === errorCode &&
      row[4] === readOnly &&
      row[0] === scope
    ) {
      row[6]++;
      return;
    }
  }
  rows.push([scope, minute, eventSource, eventName, readOnly, errorCode, 1]);
}

/** A stored count as both backends read it; `read_only` is 0/1 in SQLite, a boolean in PostgreSQL. */
export interface CountRow {
  minute: number;
  event_source: string;
  event_name: string;
  read_only: number | boolean;
  error_code: string;
  calls: number;
}

export const COUNT_COLUMNS = "minute, event_source, event_name, read_only, error_code, calls";

export function toInsightCount(r: CountRow): InsightCount {
  return {
    minute: r.minute,
    eventSource: r.event_source,
    eventName: r.event_name,
    readOnly: r.read_only === 1 || r.read_only === true,
    errorCode: r.error_code,
    calls: r.calls,
  };
}

/** The (eventSource, eventName) pairs a count query is limited to, as one JSON list of pairs. */
export const onlyPairs = (only: readonly { eventSource: string; eventName: string }[]): string =>
  JSON.stringify(only.map((o) => [o.eventSource, o.eventName]));

/** A lane as it is stored: its key columns and the whole lane as one document. */
export const laneRow = (l: InsightLane): [string, string, string, string] => [
  l.trailArn,
  l.region,
  l.insightType,
  JSON.stringify(l),
];

export const toLane = (r: { doc: string }): InsightLane => JSON.parse(r.doc) as InsightLane;

export interface PendingRow {
  id: number;
  account_id: string;
  record: string;
  destinations: string;
}

/** A queued record as it is stored: account, record JSON, destinations as a JSON list. */
export const pendingRow = (r: PendingInsightRecord): [string, string, string] => [
  r.accountId,
  r.json,
  JSON.stringify(r.destinations),
];

export function toPending(r: PendingRow): PendingInsightRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    json: r.record,
    destinations: JSON.parse(r.destinations) as number[],
  };
}
