import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Database as Connection } from "better-sqlite3";
import type pg from "pg";
import type { EventCategory, LookupQuery, StoredEvent } from "../ports/index.ts";
import { lockDataDir } from "./localfs/data-dir-lock.ts";
import { openPostgres } from "./postgres/index.ts";
import { inTransaction } from "./postgres/pool.ts";
import { CHAIN_COLUMNS } from "./sql/digest-rows.ts";
import { type EventRow, toStoredEvent } from "./sql/event-rows.ts";
import { openSqlite } from "./sqlite/index.ts";

/*
 * `opentrail copy-data`: a SQLite data directory's stores into an empty PostgreSQL database. Row
 * ids that other rows or pending log files name (destinations, outbox rows, delivered files,
 * signing keys) keep their values (the file outbox names delivered files), so a file written down as pending before the copy is re-put
 * with the same key and body after it; events get PostgreSQL's ids (SQLite's are time-shaped and
 * above 2^53) and the outbox rows follow them.
 */

/** What a step has done so far, for a progress line. */
export interface CopyProgress {
  step: string;
  done: number;
  total: number;
}

export interface CopyOptions {
  /** The data directory of `opentrail serve` (its opentrail.db), not in use by a server. */
  dataDir: string;
  /** `postgres://…`; migrated first, and refused unless empty. */
  url: string;
  schema?: string;
  onProgress?: (p: CopyProgress) => void;
  /** Rows per batch (default 2000). */
  batchSize?: number;
}

/** The target already holds something: copy-data never merges. */
export class CopyRefused extends Error {}

/** Rows copied per table. */
export type CopySummary = Record<string, number>;

/** Tables of the same shape on both backends, copied as they are (ids kept), in this order. */
const PLAIN_TABLES = [
  { table: "trails", columns: ["account_id", "home_region", "name", "version", "doc"] },
  {
    table: "signing_keys",
    columns: ["id", "region", "fingerprint", "public_key", "private_key", "valid_from", "valid_to"],
  },
  {
    table: "destinations",
    // trail_created: which trail of that name the destination is (a deleted one's are kept apart)
    // kind: Insights files have destinations of their own
    columns: ["id", "account_id", "trail_arn", "trail_created", "bucket", "prefix", "kms_key_id", "kind"],
  },
  {
    table: "delivered_files",
    columns: [
      "id",
      "destination_id",
      "trail_arn",
      "region",
      "bucket",
      "key",
      "sha256",
      "oldest",
      "newest",
      "delivered_at",
    ],
  },
  {
    table: "delivery_status",
    columns: [
      "trail_arn",
      "trail_created",
      "region",
      "latest_delivery",
      "latest_error",
      "latest_attempt",
      "latest_success_attempt",
    ],
  },
  // delivered files still waiting for an output (their ids are the delivered_files' kept above)
  // (after the trails: creating one drops what these hold under its ARN)
  {
    table: "file_outbox",
    columns: ["consumer", "file_id", "trail_arn", "trail_created", "region", "bucket", "key"],
  },
  // what GetTrailStatus reports of the outputs and digests
  {
    table: "output_status",
    columns: ["consumer", "trail_arn", "region", "latest_success", "latest_error", "latest_attempt"],
  },
  { table: "digest_chains", columns: CHAIN_COLUMNS },
  // the Insights worker's state; the counts are made again by the appends of the events
  { table: "insight_lanes", columns: ["trail_arn", "region", "insight_type", "doc"] },
  { table: "insight_pending", columns: ["id", "account_id", "record", "destinations"] },
] as const;

/** Tables whose ids a BIGSERIAL hands out: their sequences go past the copied ids. */
const SEQUENCED = ["signing_keys", "destinations", "delivered_files", "outbox", "insight_pending"] as const;

const CHECKED = ["trails", "events", "destinations", "signing_keys", "digest_chains", "delivered_files"];

const count = (sqlite: Connection, sql: string): number =>
  Number((sqlite.prepare(sql).get() as { n: number | bigint }).n);

async function refuseNonEmpty(pool: pg.Pool): Promise<void> {
  for (const table of CHECKED) {
    const { rowCount } = await pool.query(`SELECT 1 FROM ${table} LIMIT 1`);
    if ((rowCount ?? 0) > 0) {
      throw new CopyRefused(
        `the target database is not empty (table ${table} has rows): copy-data only fills an empty one`,
      );
    }
  }
}

async function insertRows(
  client: pg.Pool | pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: unknown[][],
): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((row, r) => `(${row.map((_, c) => `$${r * columns.length + c + 1}`).join(", ")})`);
  await client.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES ${values.join(", ")}`, rows.flat());
}

/** Rows of `sql` (which must end in `WHERE <key> > ? ORDER BY <key> LIMIT ?`), batch by batch. */
function* batches<R extends Record<string, unknown>>(
  sqlite: Connection,
  sql: string,
  key: keyof R,
  size: number,
): Generator<R[]> {
  const stmt = sqlite.prepare(sql).safeIntegers(true);
  let after: bigint = -(2n ** 63n);
  for (;;) {
    const rows = stmt.all(after, size) as R[];
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]![key] as bigint;
  }
}

/** A value from a safe-integer read, as PostgreSQL takes it (ids and times are below 2^53). */
const plain = (v: unknown): unknown => (typeof v === "bigint" ? Number(v) : v);

interface SqliteEventRow extends Record<string, unknown> {
  id: bigint;
  account_id: string;
  region: string;
  category: EventCategory;
}

function storedEvent(row: SqliteEventRow & EventRow): StoredEvent {
  const event = toStoredEvent(
    { ...row, event_time: Number(row.event_time), read_only: plain(row.read_only) as number | null },
    // only these three of the query are read
    { accountId: row.account_id, region: row.region, category: row.category } as LookupQuery,
  );
  event.category = row.category;
  const errorCode = (JSON.parse(row.record) as { errorCode?: unknown }).errorCode;
  if (typeof errorCode === "string" && errorCode !== "") event.errorCode = errorCode;
  return event;
}

/** Copies a SQLite data directory's stores into an empty PostgreSQL database. */
export async function copyDataToPostgres(opts: CopyOptions): Promise<CopySummary> {
  const size = opts.batchSize ?? 2000;
  const progress = opts.onProgress ?? (() => {});
  const file = join(opts.dataDir, "opentrail.db");
  if (!existsSync(file))
    throw new CopyRefused(`${opts.dataDir} holds no opentrail.db: not a data directory of opentrail serve`);
  const lock = lockDataDir(opts.dataDir);
  // opened as the server would (brought to the last migration), then read only
  const source = openSqlite(file, { checkpointer: false });
  const sqlite = source.db;
  const target = await openPostgres({ url: opts.url, schema: opts.schema, max: 4 });
  const summary: CopySummary = {};
  try {
    await refuseNonEmpty(target.pool);
    for (const { table, columns, ...rest } of PLAIN_TABLES) {
      const where = "where" in rest ? `WHERE ${rest.where}` : "";
      const rows = sqlite
        .prepare(`SELECT ${columns.join(", ")} FROM ${table} ${where}`)
        .raw()
        .all() as unknown[][];
      await inTransaction(target.pool, async (client) => {
        for (let i = 0; i < rows.length; i += 500) {
          await insertRows(client, table, columns, rows.slice(i, i + 500));
          progress({ step: table, done: Math.min(rows.length, i + 500), total: rows.length });
        }
      });
      summary[table] = rows.length;
    }

    // the events the outbox names, to find their new ids
    const queued = new Set(
      (
        sqlite.prepare("SELECT DISTINCT event_rowid AS id FROM outbox").safeIntegers(true).all() as {
          id: bigint;
        }[]
      ).map((r) => r.id),
    );
    const newIds = new Map<bigint, number>();
    const totalEvents = count(sqlite, "SELECT count(*) AS n FROM events");
    let copied = 0;
    const eventSql = `SELECT e.id, s.account_id, s.region, s.category, e.event_time, e.event_id, e.event_name,
        e.event_source, e.read_only, e.username, e.access_key_id, e.resources, e.record
      FROM events AS e JOIN event_scopes AS s ON s.id = e.scope WHERE e.id > ? ORDER BY e.id LIMIT ?`;
    for (const rows of batches<SqliteEventRow & EventRow>(sqlite, eventSql, "id", size)) {
      await target.events.append(rows.map(storedEvent));
      const wanted = rows.filter((r) => queued.has(r.id));
      if (wanted.length > 0) {
        const { rows: found } = await target.pool.query<{ id: number; account_id: string; event_id: string }>(
          "SELECT id, account_id, event_id FROM events WHERE event_id = ANY($1::text[])",
          [wanted.map((r) => r.event_id)],
        );
        const byKey = new Map(found.map((f) => [`${f.account_id}/${f.event_id}`, f.id]));
        for (const r of wanted) newIds.set(r.id, byKey.get(`${r.account_id}/${r.event_id}`)!);
      }
      copied += rows.length;
      progress({ step: "events", done: copied, total: totalEvents });
    }
    summary.events = copied;

    summary.outbox = await copyOutbox(sqlite, target.pool, newIds, size, progress);
    const pending = sqlite
      .prepare("SELECT destination_id, region, key, first_id, last_id, error, failed_at FROM pending_files")
      .raw()
      .all() as unknown[][];
    await insertRows(
      target.pool,
      "pending_files",
      ["destination_id", "region", "key", "first_id", "last_id", "error", "failed_at"],
      pending,
    );
    summary.pending_files = pending.length;
    for (const table of SEQUENCED) {
      await target.pool.query(
        `SELECT setval(pg_get_serial_sequence('${table}', 'id'), coalesce((SELECT max(id) FROM ${table}), 0) + 1, false)`,
      );
    }
    return summary;
  } finally {
    await target.close();
    source.close();
    lock.release();
  }
}

/** Outbox rows with their ids, pointing at the events' new ids, and the lanes' counts. */
async function copyOutbox(
  sqlite: Connection,
  pool: pg.Pool,
  newIds: Map<bigint, number>,
  size: number,
  progress: (p: CopyProgress) => void,
): Promise<number> {
  const total = count(sqlite, "SELECT count(*) AS n FROM outbox");
  const sql = `SELECT id, destination_id, region, event_rowid, bytes, enqueued_at FROM outbox
    WHERE id > ? ORDER BY id LIMIT ?`;
  const columns = ["id", "destination_id", "region", "event_rowid", "bytes", "enqueued_at"];
  let copied = 0;
  for (const rows of batches<Record<string, unknown>>(sqlite, sql, "id", size)) {
    const values = rows.map((r) => [
      plain(r.id),
      plain(r.destination_id),
      r.region,
      newIds.get(r.event_rowid as bigint),
      plain(r.bytes),
      plain(r.enqueued_at),
    ]);
    if (values.some((v) => v[3] === undefined))
      throw new Error("an outbox row names an event that is not stored");
    for (let i = 0; i < values.length; i += 500) {
      await insertRows(pool, "outbox", columns, values.slice(i, i + 500));
    }
    copied += rows.length;
    progress({ step: "outbox", done: copied, total });
  }
  await pool.query(
    `INSERT INTO outbox_lanes (destination_id, region, rows, bytes)
     SELECT destination_id, region, count(*), sum(bytes) FROM outbox GROUP BY destination_id, region`,
  );
  return copied;
}
