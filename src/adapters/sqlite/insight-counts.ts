import type { StoredEvent } from "../../ports/index.ts";

/*
 * The per-minute counts Insights reads (migration 10), kept by the appends that store the events.
 * What an append pays: a map update per counted event and one single-row upsert per distinct
 * (minute, API, read-only flag, error code) of the append, a few per append. A single statement
 * over a JSON list of the rows cost ~3 ms on an append's first use (measured on 500-record
 * appends: 7 µs per record), single-row statements 0.07 µs per record.
 */

export const ADD_INSIGHT_COUNT = `
  INSERT INTO insight_counts (scope, minute, event_source, event_name, read_only, error_code, calls)
    VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (scope, minute, event_source, event_name, read_only, error_code)
  DO UPDATE SET calls = calls + excluded.calls`;

export type InsightCountRow = [number, number, string, string, number, string, number];

/**
 * Counts a stored management event that Insights analyses: a write call, or a call that ended in
 * an error.
 */
export function countForInsights(
  counts: Map<string, InsightCountRow>,
  scope: number,
  time: number,
  e: StoredEvent,
): void {
  if (e.category !== "Management" || e.eventSource === undefined || e.eventName === undefined) return;
  const errorCode = e.errorCode ?? "";
  if (e.readOnly !== false && errorCode === "") return;
  const minute = Math.floor(time / 60_000);
  const readOnly = e.readOnly === false ? 0 : 1;
  const key = `${scope}\u0000${minute}\u0000${e.eventSource}\u0000${e.eventName}\u0000${readOnly}\u0000${errorCode}`;
  const row = counts.get(key);
  if (row) row[6]++;
  else counts.set(key, [scope, minute, e.eventSource, e.eventName, readOnly, errorCode, 1]);
}
