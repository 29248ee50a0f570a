import type pg from "pg";
import type {
  InsightCount,
  InsightCountKind,
  InsightLane,
  InsightStore,
  PendingInsightRecord,
} from "../../ports/index.ts";
import {
  COUNT_COLUMNS,
  type CountRow,
  laneRow,
  onlyPairs,
  type PendingRow,
  pendingRow,
  toInsightCount,
  toLane,
  toPending,
} from "../sql/insight-rows.ts";
import { inTransaction } from "./pool.ts";

type LaneKey = Pick<InsightLane, "trailArn" | "region" | "insightType">;

const KIND_FILTER: Record<InsightCountKind, string> = {
  write: "read_only = false",
  error: "error_code <> ''",
};

/** Insights counts (kept by PgEventStore's appends) and the Insights worker's state. */
export class PgInsightStore implements InsightStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async counts(
    accountId: string,
    region: string,
    kind: InsightCountKind,
    fromMinute: number,
    toMinute: number,
    only?: readonly { eventSource: string; eventName: string }[],
  ): Promise<InsightCount[]> {
    if (only !== undefined && only.length === 0) return [];
    const params: unknown[] = [accountId, region, fromMinute, toMinute];
    let pairs = "";
    if (only !== undefined) {
      params.push(onlyPairs(only));
      pairs = `AND (event_source, event_name) IN
        (SELECT p ->> 0, p ->> 1 FROM jsonb_array_elements($5::jsonb) AS p)`;
    }
    const { rows } = await this.#pool.query<CountRow>(
      `SELECT ${COUNT_COLUMNS} FROM insight_counts
       WHERE account_id = $1 AND region = $2 AND minute BETWEEN $3 AND $4 AND ${KIND_FILTER[kind]} ${pairs}
       ORDER BY minute, event_source, event_name, read_only, error_code`,
      params,
    );
    return rows.map(toInsightCount);
  }

  async lanes(): Promise<InsightLane[]> {
    const { rows } = await this.#pool.query<{ doc: string }>(
      "SELECT doc FROM insight_lanes ORDER BY trail_arn, region, insight_type",
    );
    return rows.map(toLane);
  }

  async save(
    lanes: readonly InsightLane[],
    removed: readonly LaneKey[],
    records: readonly PendingInsightRecord[],
  ): Promise<void> {
    const put = lanes.map(laneRow);
    const queued = records.map(pendingRow);
    await inTransaction(this.#pool, async (client) => {
      if (put.length > 0) {
        await client.query(
          `INSERT INTO insight_lanes (trail_arn, region, insight_type, doc)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
           ON CONFLICT (trail_arn, region, insight_type) DO UPDATE SET doc = excluded.doc`,
          [0, 1, 2, 3].map((i) => put.map((row) => row[i])),
        );
      }
      if (removed.length > 0) {
        await client.query(
          `DELETE FROM insight_lanes WHERE (trail_arn, region, insight_type) IN
             (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`,
          [removed.map((l) => l.trailArn), removed.map((l) => l.region), removed.map((l) => l.insightType)],
        );
      }
      if (queued.length > 0) {
        await client.query(
          `INSERT INTO insight_pending (account_id, record, destinations)
           SELECT a, r, d FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(a, r, d, n) ORDER BY n`,
          [0, 1, 2].map((i) => queued.map((row) => row[i])),
        );
      }
    });
  }

  async pending(): Promise<PendingInsightRecord[]> {
    const { rows } = await this.#pool.query<PendingRow>(
      "SELECT id, account_id, record, destinations FROM insight_pending ORDER BY id",
    );
    return rows.map(toPending);
  }

  async appended(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#pool.query("DELETE FROM insight_pending WHERE id = ANY($1::bigint[])", [ids]);
  }
}
