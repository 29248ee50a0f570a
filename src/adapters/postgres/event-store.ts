import { createHash } from "node:crypto";
import type pg from "pg";
import { eachLookupValue } from "../../domain/events.ts";
import type { EventStore, LookupKey, LookupQuery, StoredEvent } from "../../ports/index.ts";
import { type EventRow, toStoredEvent } from "../sql/event-rows.ts";
import { countForInsights, type InsightCounts } from "../sql/insight-rows.ts";
import { OUTBOX_LOCK } from "./delivery-store.ts";
import { ADD_INSIGHT_COUNTS, countParams } from "./insight-counts.ts";
import { inTransaction, LOCK_SPACE } from "./pool.ts";

/*
 * Shape. One row per event; (account_id, event_id) is unique, so a retry sent to any node is
 * refused by the database (ON CONFLICT DO NOTHING), not by a per-process filter. Lookups without
 * an attribute walk events_by_time in the exact order; every other attribute is one token of a
 * GIN-indexed array (`EventName=CreateTrail`), and EventId is found through the unique index.
 * Event times are milliseconds (BIGINT); event ids sort in "C" order, byte order as in SQLite.
 */

const COLUMNS = `event_time, event_id, event_name, event_source, read_only, username, access_key_id,
  resources, record`;

/**
 * PostgreSQL text cannot hold U+0000, which a record may spell `\u0000` in any of its strings: it
 * is stored, and looked up, as U+FFFD. The record's JSON text itself keeps the escape as written.
 */
const pgText = (v: string) => (v.includes("\u0000") ? v.replaceAll("\u0000", "\uFFFD") : v);
const pgOptional = (v: string | undefined) => (v === undefined ? null : pgText(v));

/** Longer values are indexed by their hash: a GIN entry must fit in a page. */
const LONGEST_TOKEN = 200;

/** The token of one attribute value. Values may hold any character: the key ends at the first `=`. */
export function token(key: Exclude<LookupKey, "EventId">, value: string): string {
  const plain = `${key}=${pgText(value)}`;
  if (plain.length <= LONGEST_TOKEN) return plain;
  return `${key}#${createHash("sha256").update(value).digest("base64")}`;
}

function tokensOf(e: StoredEvent): string[] {
  const tokens = new Set<string>();
  eachLookupValue(e, (key, value) => tokens.add(token(key, value)));
  return [...tokens];
}

/** A text[] literal: every element quoted, so that any character but NUL survives. */
function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
}

/** Postgres BIGINT holds any millisecond a Date can; only an invalid Date is refused. */
function millis(date: Date): number {
  const ms = date.getTime();
  if (!Number.isInteger(ms)) throw new RangeError(`event time ${String(date)} is not a valid time`);
  return ms;
}

/** Date's own range, so that bounds from a lookup never overflow a parameter. */
const MAX_MS = 8.64e15;
const clampMillis = (date: Date) => Math.min(MAX_MS, Math.max(-MAX_MS, date.getTime()));

/**
 * The records go as one text joined by U+0001, split again by the server: a record is JSON
 * text, which holds no raw control character but whitespace, and node-postgres would otherwise
 * quote every one of them into an array literal (in a measured append, that quoting and its
 * garbage took a quarter of an ingest thread's time). A record holding U+0001 anyway goes in an
 * array of its own.
 */
const SEPARATOR = "\u0001";

const insertEvents = (records: string) => `
  INSERT INTO events (account_id, region, category, event_time, event_id, event_name, event_source,
    read_only, username, access_key_id, resources, tokens, record)
  SELECT a, r, c, t, i, n, s, ro, u, k, res, tok::text[], rec
  FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[],
              $8::boolean[], $9::text[], $10::text[], $11::text[], $12::text[], ${records})
       AS x(a, r, c, t, i, n, s, ro, u, k, res, tok, rec)
  ON CONFLICT (account_id, event_id) DO NOTHING
  RETURNING id, account_id, event_id`;

const INSERT_JOINED = insertEvents("string_to_array($13::text, chr(1))");
const INSERT_LISTED = insertEvents("$13::text[]");

interface StoredRow {
  id: number;
  account_id: string;
  event_id: string;
}

const keyOf = (e: StoredEvent) => `${e.accountId}\u0000${pgText(e.eventId)}`;

const INSERT_OUTBOX = `
  INSERT INTO outbox (destination_id, region, event_rowid, bytes, enqueued_at)
  SELECT d, r, e, b, $5 FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::int[]) AS x(d, r, e, b)`;

// lanes in key order: two appends updating the same lanes lock their rows in the same order
const ADD_TO_LANES = `
  INSERT INTO outbox_lanes (destination_id, region, rows, bytes)
  SELECT d, r, n, b FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) AS x(d, r, n, b)
  ORDER BY d, r
  ON CONFLICT (destination_id, region)
  DO UPDATE SET rows = outbox_lanes.rows + excluded.rows, bytes = outbox_lanes.bytes + excluded.bytes`;

export interface PgEventStoreOptions {
  /** Events deleted per transaction by `purgeBefore`. */
  purgeChunk?: number;
}

/** Event history in PostgreSQL. */
export class PgEventStore implements EventStore {
  readonly #pool: pg.Pool;
  readonly #purgeChunk: number;

  constructor(pool: pg.Pool, options: PgEventStoreOptions = {}) {
    this.#pool = pool;
    this.#purgeChunk = options.purgeChunk ?? 2000;
  }

  async append(
    events: StoredEvent[],
    receivedAt?: Date,
  ): Promise<{ inserted: number; duplicates: string[] }> {
    if (events.length === 0) return { inserted: 0, duplicates: [] };
    const enqueuedAt = (receivedAt ?? new Date()).getTime();
    const seen = new Set<string>();
    const fresh: StoredEvent[] = [];
    for (const e of events) {
      const key = keyOf(e);
      if (!seen.has(key)) fresh.push(e);
      seen.add(key);
    }
    const rowids = await inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<StoredRow>(...insertOf(fresh));
      const ids = new Map(rows.map((r) => [`${r.account_id}\u0000${r.event_id}`, r.id]));
      await this.#enqueue(client, fresh, ids, enqueuedAt);
      await addInsightCounts(client, fresh, ids);
      return ids;
    });
    // in batch order: a repeat within the batch, or an eventID the account had stored before
    const duplicates: string[] = [];
    const taken = new Set<string>();
    for (const e of events) {
      const key = keyOf(e);
      if (taken.has(key) || !rowids.has(key)) duplicates.push(e.eventId);
      taken.add(key);
    }
    return { inserted: events.length - duplicates.length, duplicates };
  }

  async lookup(query: LookupQuery): Promise<StoredEvent[]> {
    if (query.limit < 1) return [];
    const lo = clampMillis(query.start);
    const end = clampMillis(query.end);
    const after = query.after;
    const at = after === undefined ? end + 1 : clampMillis(after.eventTime);
    const hi = Math.min(end, at);
    if (lo > hi) return [];
    const params: unknown[] = [
      query.accountId,
      query.region,
      query.category,
      lo,
      hi,
      at,
      pgText(after?.eventId ?? ""),
    ];
    let filter = "";
    const attribute = query.attribute;
    if (attribute !== undefined) {
      if (attribute.key === "ReadOnly" && attribute.value !== "true" && attribute.value !== "false")
        return [];
      if (attribute.key === "EventId") {
        filter = "AND event_id = $8";
        params.push(pgText(attribute.value));
      } else {
        filter = "AND tokens @> ARRAY[$8::text]";
        params.push(token(attribute.key, attribute.value));
      }
    }
    params.push(query.limit);
    const { rows } = await this.#pool.query<EventRow>(
      `SELECT ${COLUMNS} FROM events
       WHERE account_id = $1 AND region = $2 AND category = $3 AND event_time BETWEEN $4 AND $5
         AND (event_time, event_id) < ($6, $7) ${filter}
       ORDER BY event_time DESC, event_id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => toStoredEvent(row, query));
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const before = clampMillis(cutoff);
    // Insights counts go with the events of their minutes
    await this.#pool.query("DELETE FROM insight_counts WHERE minute < $1", [Math.floor(before / 60_000)]);
    let total = 0;
    for (;;) {
      // an event still waiting in the outbox stays until it is delivered
      const { rowCount } = await this.#pool.query(
        `DELETE FROM events WHERE id IN (
           SELECT id FROM events AS e WHERE event_time < $1
             AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.event_rowid = e.id)
           ORDER BY event_time LIMIT $2)`,
        [before, this.#purgeChunk],
      );
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < this.#purgeChunk) return total;
    }
  }

  /**
   * The outbox rows of the events just stored, in the same transaction: an acknowledged event is
   * never lost to a trail. The shared lock makes delivery's reader wait for this commit (see
   * OUTBOX_LOCK), so outbox ids become visible in the order they were handed out.
   */
  async #enqueue(
    client: pg.PoolClient,
    fresh: StoredEvent[],
    rowids: ReadonlyMap<string, number>,
    enqueuedAt: number,
  ): Promise<void> {
    const rows: [number[], string[], number[], number[]] = [[], [], [], []];
    const lanes = new Map<string, { d: number; r: string; n: number; b: number }>();
    for (const e of fresh) {
      const rowid = rowids.get(keyOf(e));
      if (rowid === undefined || !e.destinations) continue;
      for (const d of e.destinations) {
        rows[0].push(d);
        rows[1].push(e.region);
        rows[2].push(rowid);
        rows[3].push(e.json.length);
        const key = `${d}\u0000${e.region}`;
        const lane = lanes.get(key) ?? { d, r: e.region, n: 0, b: 0 };
        lane.n += 1;
        lane.b += e.json.length;
        lanes.set(key, lane);
      }
    }
    if (rows[0].length === 0) return;
    await client.query("SELECT pg_advisory_xact_lock_shared($1, $2)", [LOCK_SPACE, OUTBOX_LOCK]);
    await client.query(INSERT_OUTBOX, [...rows, enqueuedAt]);
    const l = [...lanes.values()];
    await client.query(ADD_TO_LANES, [
      l.map((x) => x.d),
      l.map((x) => x.r),
      l.map((x) => x.n),
      l.map((x) => x.b),
    ]);
  }
}

/** Adds the stored events to the Insights counts: last in the transaction (see ADD_INSIGHT_COUNTS). */
async function addInsightCounts(
  client: pg.PoolClient,
  fresh: StoredEvent[],
  rowids: ReadonlyMap<string, number>,
): Promise<void> {
  const counts: InsightCounts<string> = new Map();
  for (const e of fresh) {
    if (!rowids.has(keyOf(e))) continue;
    countForInsights(counts, `${e.accountId}\u0000${e.region}`, e.eventTime.getTime(), e);
  }
  if (counts.size > 0) await client.query(ADD_INSIGHT_COUNTS, countParams(counts, pgText));
}

/** The insert of `events` and its parameters. */
function insertOf(events: StoredEvent[]): [string, unknown[]] {
  const records = events.map((e) => e.json);
  if (records.some((r) => r.includes(SEPARATOR))) return [INSERT_LISTED, [...columnsOf(events), records]];
  return [INSERT_JOINED, [...columnsOf(events), records.join(SEPARATOR)]];
}

function columnsOf(events: StoredEvent[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 12 }, () => []);
  for (const e of events) {
    const values = [
      e.accountId,
      e.region,
      e.category,
      millis(e.eventTime),
      pgText(e.eventId),
      pgOptional(e.eventName),
      pgOptional(e.eventSource),
      e.readOnly ?? null,
      pgOptional(e.username),
      pgOptional(e.accessKeyId),
      e.resources.length === 0
        ? null
        : JSON.stringify(e.resources.map((r) => ({ type: r.type, name: r.name }))),
      arrayLiteral(tokensOf(e)),
    ];
    for (const [i, v] of values.entries()) cols[i]!.push(v);
  }
  return cols;
}
