import type { Database, Statement } from "better-sqlite3";
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

type LaneKey = Pick<InsightLane, "trailArn" | "region" | "insightType">;

const KIND_FILTER: Record<InsightCountKind, string> = {
  write: "read_only = 0",
  error: "error_code != ''",
};

/** Insights counts (kept by SqliteEventStore's appends) and the Insights worker's state. */
export class SqliteInsightStore implements InsightStore {
  readonly #scope: Statement<[string, string], number>;
  readonly #counts: Record<InsightCountKind, Statement>;
  readonly #countsOf: Record<InsightCountKind, Statement>;
  readonly #lanes: Statement<[], { doc: string }>;
  readonly #putLane: Statement<[string, string, string, string]>;
  readonly #dropLane: Statement<[string, string, string]>;
  readonly #queue: Statement<[string, string, string]>;
  readonly #pending: Statement<[], PendingRow>;
  readonly #done: Statement<[number]>;
  readonly #save: (
    lanes: readonly InsightLane[],
    removed: readonly LaneKey[],
    records: readonly PendingInsightRecord[],
  ) => void;
  readonly #appended: (ids: readonly number[]) => void;

  constructor(db: Database) {
    this.#scope = db
      .prepare<[string, string], number>(
        "SELECT id FROM event_scopes WHERE account_id = ? AND region = ? AND category = 'Management'",
      )
      .pluck();
    const select = `SELECT ${COUNT_COLUMNS} FROM insight_counts
       WHERE scope = @scope AND minute BETWEEN @from AND @to`;
    const byKind = (sql: (kind: InsightCountKind) => string) =>
      Object.fromEntries(
        (Object.keys(KIND_FILTER) as InsightCountKind[]).map((k) => [k, db.prepare(sql(k))]),
      ) as Record<InsightCountKind, Statement>;
    this.#counts = byKind((k) => `${select} AND ${KIND_FILTER[k]}`);
    this.#countsOf = byKind(
      (k) => `${select} AND ${KIND_FILTER[k]}
         AND (event_source, event_name) IN (SELECT value ->> 0, value ->> 1 FROM json_each(@only))`,
    );
    this.#lanes = db.prepare("SELECT doc FROM insight_lanes ORDER BY trail_arn, region, insight_type");
    this.#putLane = db.prepare(
      `INSERT INTO insight_lanes (trail_arn, region, insight_type, doc) VALUES (?, ?, ?, ?)
       ON CONFLICT (trail_arn, region, insight_type) DO UPDATE SET doc = excluded.doc`,
    );
    this.#dropLane = db.prepare(
      "DELETE FROM insight_lanes WHERE trail_arn = ? AND region = ? AND insight_type = ?",
    );
    this.#queue = db.prepare(
      "INSERT INTO insight_pending (account_id, record, destinations) VALUES (?, ?, ?)",
    );
    this.#pending = db.prepare(
      "SELECT id, account_id, record, destinations FROM insight_pending ORDER BY id",
    );
    this.#done = db.prepare("DELETE FROM insight_pending WHERE id = ?");
    this.#save = db.transaction((lanes, removed, records) => {
      for (const l of lanes) this.#putLane.run(...laneRow(l));
      for (const l of removed) this.#dropLane.run(l.trailArn, l.region, l.insightType);
      for (const r of records) this.#queue.run(...pendingRow(r));
    });
    this.#appended = db.transaction((ids: readonly number[]) => {
      for (const id of ids) this.#done.run(id);
    });
  }

  async counts(
    accountId: string,
    region: string,
    kind: InsightCountKind,
    fromMinute: number,
    toMinute: number,
    only?: readonly { eventSource: string; eventName: string }[],
  ): Promise<InsightCount[]> {
    const scope = this.#scope.get(accountId, region);
    if (scope === undefined || (only !== undefined && only.length === 0)) return [];
    const args = { scope, from: fromMinute, to: toMinute };
    const rows = (
      only === undefined
        ? this.#counts[kind].all(args)
        : this.#countsOf[kind].all({ ...args, only: onlyPairs(only) })
    ) as CountRow[];
    return rows.map(toInsightCount);
  }

  async lanes(): Promise<InsightLane[]> {
    return this.#lanes.all().map(toLane);
  }

  async save(
    lanes: readonly InsightLane[],
    removed: readonly LaneKey[],
    records: readonly PendingInsightRecord[],
  ): Promise<void> {
    this.#save(lanes, removed, records);
  }

  async pending(): Promise<PendingInsightRecord[]> {
    return this.#pending.all().map(toPending);
  }

  async appended(ids: readonly number[]): Promise<void> {
    this.#appended(ids);
  }
}
