import type { StoredEvent } from "../../ports/index.ts";

/*
 * The per-minute counts Insights reads (migration 10), kept by the appends that store the events.
 * What an append pays: a map update per counted event and one statement per append.
 */

/** An append's counts as the JSON list [scope, minute, source, name, readOnly, errorCode, calls] each. */
export const ADD_INSIGHT_COUNTS = `
  INSERT INTO insight_counts (scope, minute, event_source, event_name, read_only, error_code, calls)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6
    FROM json_each(?) WHERE true
  ON CONFLICT (scope, minute, event_source, event_name, read_only, error_code)
  DO UPDATE SET calls = calls + excluded.calls`;

/**
 * Counts a stored management event that Insights analyses: a write call, or a call that ended in
 * an error. `counts` maps the JSON of the row's key (without calls) to its count.
 */
export function countForInsights(
  counts: Map<string, number>,
  scope: number,
  time: number,
  e: StoredEvent,
): void {
  if (e.category !== "Management" || e.eventSource === undefined || e.eventName === undefined) return;
  const errorCode = e.errorCode ?? "";
  if (e.readOnly !== false && errorCode === "") return;
  const key = JSON.stringify([
    scope,
    Math.floor(time / 60_000),
    e.eventSource,
    e.eventName,
    e.readOnly === false ? 0 : 1,
    errorCode,
  ]);
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

export function insightCountRows(counts: ReadonlyMap<string, number>): string {
  const rows: string[] = [];
  for (const [key, calls] of counts) rows.push(`${key.slice(0, -1)},${calls}]`);
  return `[${rows.join(",")}]`;
}
