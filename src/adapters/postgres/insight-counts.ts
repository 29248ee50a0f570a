import type { InsightCounts } from "../sql/insight-rows.ts";

/**
 * An append's counts, in key order: two appends adding to the same rows lock them in the same
 * order. A count row of a busy API is hot (every append of the minute adds to it), so the append
 * adds its counts last, just before it commits, and holds their row locks only that long.
 */
export const ADD_INSIGHT_COUNTS = `
  INSERT INTO insight_counts (account_id, region, minute, event_source, event_name, read_only, error_code, calls)
  SELECT a, r, m, s, n, ro, ec, c
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::bigint[])
       AS x(a, r, m, s, n, ro, ec, c)
  ORDER BY a COLLATE "C", r COLLATE "C", m, s COLLATE "C", n COLLATE "C", ro, ec COLLATE "C"
  ON CONFLICT (account_id, region, minute, event_source, event_name, read_only, error_code)
  DO UPDATE SET calls = insight_counts.calls + excluded.calls`;

/**
 * The parameters of ADD_INSIGHT_COUNTS; a scope is `${accountId}\u0000${region}`. `text` makes a
 * value storable (NUL is not): two values it makes equal are summed, as one statement may add to
 * a row only once.
 */
export function countParams(counts: InsightCounts<string>, text: (v: string) => string): unknown[][] {
  const merged = new Map<string, unknown[]>();
  for (const rows of counts.values()) {
    for (const [scope, minute, source, name, readOnly, errorCode, calls] of rows) {
      const [accountId, region] = scope.split("\u0000");
      const values = [accountId, region, minute, text(source), text(name), readOnly === 1, text(errorCode)];
      const key = JSON.stringify(values);
      const seen = merged.get(key);
      if (seen) seen[7] = (seen[7] as number) + calls;
      else merged.set(key, [...values, calls]);
    }
  }
  const cols: unknown[][] = Array.from({ length: 8 }, () => []);
  for (const row of merged.values()) for (const [i, v] of row.entries()) cols[i]!.push(v);
  return cols;
}
