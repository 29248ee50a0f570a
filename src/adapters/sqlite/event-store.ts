import { setImmediate as nextTurn } from "node:timers/promises";
import type { Database, Statement } from "better-sqlite3";
import type { EventCategory, EventStore, LookupKey, LookupQuery, StoredEvent } from "../../ports/index.ts";
import { type EventRow, toStoredEvent } from "../sql/event-rows.ts";
import { countForInsights, type InsightCountRow, type InsightCounts } from "../sql/insight-rows.ts";
import { ADD_TO_LANES } from "./delivery-store.ts";
import { eventTokenParts, type Hashes, hashes, idKey, lookupToken, matchExpression } from "./event-keys.ts";
import { ADD_INSIGHT_COUNT } from "./insight-counts.ts";
import { retokeniseIfStale } from "./migrations/retokenise.ts";
import { StoredIds, type StoredIdsOptions } from "./stored-ids.ts";
import type { InTurn } from "./write-lock.ts";

/*
 * Shape, chosen by measurement (bench/lookup.ts).
 *
 * Ingest speed is bounded by the pages one commit dirties. A B-tree index per attribute
 * (event name, user, access key, resource ...) puts most of the ~3,500 index entries of a
 * 500-event batch on a leaf of their own, so a commit rewrites megabytes of index pages (about
 * 8,000 events/s with one table of such entries); the same holds for a unique index on random
 * event ids, which alone cost as much as the rest of a row's insert. So:
 *
 * - `events.id` is the event time in milliseconds times 2^21 plus a counter: rowid order is time
 *   order and new events are appended at the end of the table.
 * - Every lookup attribute is one token in an FTS5 index (`event_keys`, rowid = events.id).
 *   FTS5 is a log-structured index: a commit writes its tokens as one small sorted segment and
 *   later writes merge segments a little at a time. Its postings are in rowid order, so a
 *   lookup walks them newest first within the time range and stops after `limit` rows.
 * - `events_by_time (scope, time desc, event_id desc)` serves lookups without an attribute in the
 *   exact order. A scope is one (account, region, category).
 * - An eventID already stored for the account is a duplicate. The check is an in-memory filter in
 *   front of the per-account id token (stored-ids.ts), not a unique index on event ids.
 */

/** Events per millisecond slot of the rowid; 2^21 so that ±2^42 ms (1830–2109) fits in 63 bits. */
const SLOT_BITS = 21;
const MAX_MS = 2 ** 42 - 1;
const MIN_MS = -(2 ** 42);

// better-sqlite3 binds JS numbers as REAL, and REAL arithmetic on 63-bit ids rounds: compute in integers.
const slotStart = (param: string) => `(CAST(${param} AS INTEGER) << ${SLOT_BITS})`;
const slotEnd = (param: string) => `(${slotStart(param)} | ${2 ** SLOT_BITS - 1})`;

type InsertArgs = [
  number,
  number,
  number,
  number,
  number,
  number,
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  string | null,
  string | null,
  string,
];

interface PreparedEvent {
  e: StoredEvent;
  /** idKey of the event, and its hashes. */
  key: string;
  id: Hashes;
  time: number;
  scopeKey: string;
  /** The full-text document, to be joined with the scope's number (eventTokenParts). */
  tokenParts: string[];
  resources: string | null;
}

/** One caller's append, waiting for the group commit of its tick. */
interface PendingAppend {
  events: PreparedEvent[];
  enqueuedAt: number;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

type AppendResult = { inserted: number; duplicates: string[] };

interface Bounds {
  scope: number;
  lo: number;
  hi: number;
  /** Keyset position: rows strictly below (at, aid) in (time, event_id) order. */
  at: number;
  aid: string;
  n: number;
}

type AttributeBounds = Bounds & { token: string; value: string | number; time?: number };

const COLUMNS = `e.event_time, e.event_id, e.event_name, e.event_source, e.read_only, e.username,
  e.access_key_id, e.resources, e.record`;

/** The stored column each attribute is checked against after its token matched. */
const VERIFY: Record<LookupKey, string> = {
  // the id token is per account
  EventId: "e.event_id = @value AND e.scope = @scope",
  EventName: "e.event_name = @value",
  EventSource: "e.event_source = @value",
  ReadOnly: "e.read_only = @value",
  Username: "e.username = @value",
  AccessKeyId: "e.access_key_id = @value",
  ResourceType: "EXISTS (SELECT 1 FROM json_each(e.resources) AS r WHERE r.value ->> 'type' = @value)",
  ResourceName: "EXISTS (SELECT 1 FROM json_each(e.resources) AS r WHERE r.value ->> 'name' = @value)",
};

const LOOKUP_KEYS = Object.keys(VERIFY) as LookupKey[];

function millis(date: Date): number {
  const ms = date.getTime();
  if (!Number.isInteger(ms) || ms < MIN_MS || ms > MAX_MS) {
    throw new RangeError(`event time ${String(date)} is outside the storable range (years 1830 to 2109)`);
  }
  return ms;
}

function clampMillis(date: Date): number {
  return Math.min(MAX_MS, Math.max(MIN_MS, date.getTime()));
}

/** SQLite compares TEXT bytewise (UTF-8); JS compares UTF-16 units. Ties are rare, so compare bytes. */
function compareIds(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function newestFirst(a: EventRow, b: EventRow): number {
  return b.event_time - a.event_time || compareIds(b.event_id, a.event_id);
}

export interface SqliteEventStoreOptions {
  /** Events deleted per transaction by `purgeBefore`; other work runs between chunks. */
  purgeChunk?: number;
  /** How appends and purges take turns with other threads' connections (see WriteLock). */
  inTurn?: InTurn;
  /** How the duplicate filter is built in the background (StoredIds); tests make its steps tiny. */
  ids?: StoredIdsOptions;
}

/** Event history in SQLite, sharing the connection `openSqlite` made. */
export class SqliteEventStore implements EventStore {
  readonly #purgeChunk: number;
  readonly #scopeId: Statement<[string, string, string], number>;
  readonly #addScope: Statement<[string, string, string]>;
  readonly #insert: Statement<InsertArgs>;
  readonly #insertTokens: Statement<[string]>;
  readonly #storedIds: StoredIds;
  readonly #enqueue: Statement<[number, string]>;
  readonly #addToLanes: Statement<[string]>;
  readonly #addCount: Statement<InsightCountRow<number>>;
  readonly #purgeCounts: Statement<[number]>;
  readonly #byTime: Statement<[Bounds], EventRow>;
  readonly #byAttribute: Record<LookupKey, Statement<[AttributeBounds], EventRow>>;
  /** The rows of one millisecond, by event id: completes a tie cut off by LIMIT. */
  readonly #tieByAttribute: Record<LookupKey, Statement<[AttributeBounds], EventRow>>;
  readonly #oldest: Statement<[{ before: number; n: number }], bigint>;
  readonly #deleteTokens: Statement<[bigint]>;
  readonly #deleteEvent: Statement<[bigint]>;
  readonly #appendTx: (groups: readonly PendingAppend[]) => Promise<AppendResult[]> | AppendResult[];
  /** Appends that arrived since the last group commit began. */
  #pending: PendingAppend[] = [];
  /** A group commit is scheduled or running; arrivals meanwhile join the next one. */
  #committing = false;
  readonly #purgeTx: (before: number) => Promise<number> | number;
  readonly #inTurn: InTurn;

  constructor(db: Database, options: SqliteEventStoreOptions = {}) {
    retokeniseIfStale(db);
    this.#purgeChunk = options.purgeChunk ?? 2000;
    this.#scopeId = db
      .prepare<[string, string, string], number>(
        "SELECT id FROM event_scopes WHERE account_id = ? AND region = ? AND category = ?",
      )
      .pluck();
    this.#addScope = db.prepare("INSERT INTO event_scopes (account_id, region, category) VALUES (?, ?, ?)");
    // The id is the next free slot of its millisecond; the CHECK constraint refuses a full slot.
    this.#insert = db.prepare(
      `INSERT INTO events (id, append_no, scope, event_time, event_id, event_name, event_source, read_only,
         username, access_key_id, resources, record)
       VALUES ((SELECT coalesce(max(id) + 1, ${slotStart("?")}) FROM events
                WHERE id BETWEEN ${slotStart("?")} AND ${slotEnd("?")}),
               ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, event_time, event_id) DO NOTHING`,
    );
    // rowids pass 2^53: the outbox needs them exact
    this.#insert.safeIntegers(true);
    this.#storedIds = new StoredIds(db, options.ids);
    this.#insertTokens = db.prepare("INSERT INTO event_keys (rowid, tokens) VALUES (last_insert_rowid(), ?)");
    // One statement per append instead of one per row: a row's [destination, region, event rowid,
    // bytes] in a JSON list (json_each reads 64-bit integers exactly). Measured on 200,000 appended
    // records: the outbox's share of an append fell from about 3.0 to 2.5 µs per record.
    this.#enqueue = db.prepare(
      `INSERT INTO outbox (destination_id, region, event_rowid, bytes, enqueued_at)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, ? FROM json_each(?) ORDER BY key`,
    );
    this.#addToLanes = db.prepare(ADD_TO_LANES);
    this.#addCount = db.prepare(ADD_INSIGHT_COUNT);
    this.#purgeCounts = db.prepare("DELETE FROM insight_counts WHERE minute < ?");
    this.#byTime = db.prepare(
      `SELECT ${COLUMNS} FROM events AS e
       WHERE e.scope = @scope AND e.event_time BETWEEN @lo AND @hi AND (e.event_time, e.event_id) < (@at, @aid)
       ORDER BY e.event_time DESC, e.event_id DESC LIMIT @n`,
    );
    const byKey = (sql: (key: LookupKey) => string) =>
      Object.fromEntries(LOOKUP_KEYS.map((key) => [key, db.prepare(sql(key))])) as Record<
        LookupKey,
        Statement<[AttributeBounds], EventRow>
      >;
    this.#byAttribute = byKey(
      (key) =>
        // CROSS JOIN keeps the postings as the outer loop; the planner would otherwise walk a
        // whole scope through events_by_time when the EventId check names e.scope.
        `SELECT ${COLUMNS} FROM event_keys CROSS JOIN events AS e ON e.id = event_keys.rowid
         WHERE event_keys MATCH @token AND event_keys.rowid BETWEEN ${slotStart("@lo")} AND ${slotEnd("@hi")}
           AND ${VERIFY[key]}
         ORDER BY event_keys.rowid DESC LIMIT @n`,
    );
    // Walks the time index, which holds the event ids in order, and reads a row only when its
    // rowid is among the token's postings of that millisecond: a large tie costs index entries.
    this.#tieByAttribute = byKey(
      (key) =>
        `SELECT ${COLUMNS} FROM events AS e INDEXED BY events_by_time
         WHERE e.scope = @scope AND e.event_time = @time AND (e.event_time, e.event_id) < (@at, @aid)
           AND e.id IN (SELECT rowid FROM event_keys WHERE event_keys MATCH @token
                        AND rowid BETWEEN ${slotStart("@time")} AND ${slotEnd("@time")})
           AND ${VERIFY[key]}
         ORDER BY e.event_id DESC LIMIT @n`,
    );
    this.#oldest = db
      .prepare<[{ before: number; n: number }], bigint>(
        // an event still waiting in the outbox stays until it is delivered
        `SELECT id FROM events WHERE id < ${slotStart("@before")}
           AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.event_rowid = events.id)
         ORDER BY id LIMIT @n`,
      )
      .pluck()
      .safeIntegers(true);
    this.#deleteTokens = db.prepare("DELETE FROM event_keys WHERE rowid = ?");
    this.#deleteEvent = db.prepare("DELETE FROM events WHERE id = ?");

    const inTurn = options.inTurn ?? ((fn) => fn());
    this.#inTurn = inTurn;
    const appendTx = db.transaction((groups: readonly PendingAppend[]) => this.#appendRows(groups));
    this.#appendTx = (groups) =>
      inTurn(() => {
        try {
          return appendTx.immediate(groups);
        } catch (e) {
          this.#storedIds.rolledBack();
          throw e;
        }
      });
    const purgeTx = db.transaction((before: number) => this.#purgeChunkRows(before));
    this.#purgeTx = (before) => inTurn(() => purgeTx.immediate(before));
  }

  /**
   * Group commit: the appends that arrive in one turn of the event loop (the calls that came in
   * together) share one transaction, and each caller is answered once it has committed. A commit
   * costs about as much as the rows of a small append, so under load this divides the cost of
   * the API's one-record appends. Each caller gets its own result, as if its append ran alone
   * after the ones that arrived before it.
   */
  async append(events: StoredEvent[], receivedAt?: Date): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: [] };
    const prepared = this.#prepare(events);
    const enqueuedAt = (receivedAt ?? new Date()).getTime();
    return new Promise((resolve, reject) => {
      this.#pending.push({ events: prepared, enqueuedAt, resolve, reject });
      this.#scheduleCommit();
    });
  }

  #scheduleCommit(): void {
    if (this.#committing || this.#pending.length === 0) return;
    this.#committing = true;
    // after the I/O of this turn: every request read in it has reached its append by then
    setImmediate(() => {
      void this.#commitPending().finally(() => {
        this.#committing = false;
        this.#scheduleCommit();
      });
    });
  }

  async #commitPending(): Promise<void> {
    const groups = this.#pending;
    this.#pending = [];
    try {
      const results = await this.#appendTx(groups);
      for (const [i, g] of groups.entries()) g.resolve(results[i]!);
    } catch (e) {
      if (groups.length === 1) {
        groups[0]!.reject(e);
        return;
      }
      // One caller's rows may be what failed: each alone, so that only its caller sees the error.
      for (const g of groups) {
        try {
          g.resolve((await this.#appendTx([g]))[0]!);
        } catch (alone) {
          g.reject(alone);
        }
      }
    }
  }

  /**
   * The duplicate filter: whether it is built (until then every eventID is looked up), and a
   * promise of the end of its background work, which tests await instead of sleeping.
   */
  get idFilter(): { built: boolean; drain(): Promise<void> } {
    const ids = this.#storedIds;
    return { built: ids.built, drain: () => ids.drain() };
  }

  async lookup(query: LookupQuery): Promise<StoredEvent[]> {
    const bounds = this.#bounds(query);
    if (bounds === undefined) return [];
    const attribute = query.attribute;
    let rows: EventRow[];
    if (attribute === undefined) {
      rows = this.#byTime.all(bounds);
    } else {
      let value: string | number = attribute.value;
      if (attribute.key === "ReadOnly") {
        if (value !== "true" && value !== "false") return [];
        value = value === "true" ? 1 : 0;
      }
      const token = matchExpression(
        lookupToken(bounds.scope, query.accountId, attribute.key, attribute.value),
      );
      rows = this.#attributeRows(attribute.key, { ...bounds, token, value });
    }
    return rows.map((row) => toStoredEvent(row, query));
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const before = clampMillis(cutoff);
    await this.#inTurn(() => this.#purgeCounts.run(Math.floor(before / 60_000)));
    let total = 0;
    for (;;) {
      const deleted = await this.#purgeTx(before);
      total += deleted;
      if (deleted < this.#purgeChunk) return total;
      // Let lookups and appends in between; each chunk is its own short transaction.
      await nextTurn();
    }
  }

  #bounds(query: LookupQuery): Bounds | undefined {
    if (query.limit < 1) return undefined;
    const lo = clampMillis(query.start);
    const end = clampMillis(query.end);
    const after = query.after;
    const at = after === undefined ? end + 1 : clampMillis(after.eventTime);
    const hi = Math.min(end, at);
    if (lo > hi) return undefined;
    const scope = this.#scopeId.get(query.accountId, query.region, query.category);
    if (scope === undefined) return undefined;
    return { scope, lo, hi, at, aid: after?.eventId ?? "", n: query.limit };
  }

  /**
   * FTS5 yields rowids newest first, but the rows of one millisecond in the order they were
   * stored, not by event id. So the millisecond of the `after` position, and a millisecond cut off
   * by the limit, are read through the time index instead, ordered by event id.
   */
  #attributeRows(key: LookupKey, bounds: AttributeBounds): EventRow[] {
    const tie = this.#tieByAttribute[key];
    let rows: EventRow[] = [];
    let hi = bounds.hi;
    if (bounds.at <= bounds.hi) {
      rows = tie.all({ ...bounds, time: bounds.at });
      if (rows.length === bounds.n || bounds.at - 1 < bounds.lo) return rows;
      hi = bounds.at - 1;
    }
    const need = bounds.n - rows.length;
    const older = this.#byAttribute[key].all({ ...bounds, hi, n: need + 1 });
    if (older.length <= need) return rows.concat(older.sort(newestFirst));
    const lastTime = older[need - 1]!.event_time;
    if (older[need]!.event_time !== lastTime) return rows.concat(older.slice(0, need).sort(newestFirst));
    const newer = older.filter((r) => r.event_time > lastTime).sort(newestFirst);
    const cut = tie.all({ ...bounds, time: lastTime, n: need - newer.length });
    return rows.concat(newer, cut);
  }

  /**
   * The rows of an append, ready to insert: what costs (hashing ids and token values, JSON of
   * resources, the time check) is done before the write transaction, which other connections wait for.
   */
  #prepare(events: StoredEvent[]): PreparedEvent[] {
    return events.map((e) => {
      const key = idKey(e.accountId, e.eventId);
      const id = hashes(key);
      return {
        e,
        key,
        id,
        time: millis(e.eventTime),
        scopeKey: `${e.accountId}\u0000${e.region}\u0000${e.category}`,
        tokenParts: eventTokenParts(e, id),
        resources:
          e.resources.length === 0
            ? null
            : JSON.stringify(e.resources.map((r) => ({ type: r.type, name: r.name }))),
      };
    });
  }

  /** The rows of one transaction's appends, in their order; one result per append. */
  #appendRows(groups: readonly PendingAppend[]): AppendResult[] {
    // Every duplicate is found before the first insert: see StoredIds.refresh.
    this.#storedIds.refresh(groups.reduce((n, g) => n + g.events.length, 0));
    const seen = new Set<string>();
    const checked = groups.map((group) => {
      const duplicates: string[] = [];
      const fresh: PreparedEvent[] = [];
      for (const p of group.events) {
        const { e, key, id } = p;
        if (seen.has(key) || this.#storedIds.has(e.accountId, e.eventId, id)) duplicates.push(e.eventId);
        else fresh.push(p);
        seen.add(key);
      }
      return { duplicates, fresh };
    });
    const appendNo = checked.some((c) => c.fresh.length > 0) ? this.#storedIds.takeAppendNo() : 0;
    const scopes = new Map<string, number>();
    const counts: InsightCounts<number> = new Map();
    const results = groups.map((group, i) => {
      const { duplicates, fresh } = checked[i]!;
      this.#insertRows(fresh, duplicates, appendNo, group.enqueuedAt, scopes, counts);
      return { inserted: group.events.length - duplicates.length, duplicates };
    });
    for (const rows of counts.values()) for (const row of rows) this.#addCount.run(...row);
    return results;
  }

  /** Inserts one append's new rows with their tokens and outbox rows; adds the rows that were not stored to `duplicates`. */
  #insertRows(
    fresh: readonly PreparedEvent[],
    duplicates: string[],
    appendNo: number,
    enqueuedAt: number,
    scopes: Map<string, number>,
    counts: InsightCounts<number>,
  ): void {
    const outbox: string[] = [];
    for (const { e, id, time, scopeKey, tokenParts, resources } of fresh) {
      let scope = scopes.get(scopeKey);
      if (scope === undefined) {
        scope = this.#scope(e.accountId, e.region, e.category);
        scopes.set(scopeKey, scope);
      }
      const result = this.#insert.run(
        time,
        time,
        time,
        appendNo,
        scope,
        time,
        e.eventId,
        e.eventName ?? null,
        e.eventSource ?? null,
        e.readOnly === undefined ? null : e.readOnly ? 1 : 0,
        e.username ?? null,
        e.accessKeyId ?? null,
        resources,
        e.json,
      );
      if (result.changes === 0) {
        // Stored without its id token (a database from before migration 7 not yet re-tokenised).
        duplicates.push(e.eventId);
        continue;
      }
      this.#insertTokens.run(tokenParts.join(String(scope)));
      this.#storedIds.add(id);
      countForInsights(counts, scope, time, e);
      // delivery's outbox rows commit with the event: an acknowledged event is never lost to a trail
      if (e.destinations) {
        for (const d of e.destinations) {
          outbox.push(`[${d},${JSON.stringify(e.region)},${result.lastInsertRowid},${e.json.length}]`);
        }
      }
    }
    if (outbox.length > 0) {
      const rows = `[${outbox.join(",")}]`;
      this.#enqueue.run(enqueuedAt, rows);
      this.#addToLanes.run(rows);
    }
  }

  #scope(accountId: string, region: string, category: EventCategory): number {
    const id = this.#scopeId.get(accountId, region, category);
    if (id !== undefined) return id;
    return Number(this.#addScope.run(accountId, region, category).lastInsertRowid);
  }

  #purgeChunkRows(before: number): number {
    const ids = this.#oldest.all({ before, n: this.#purgeChunk });
    if (ids.length === 0) return 0;
    for (const id of ids) {
      this.#deleteTokens.run(id);
      this.#deleteEvent.run(id);
    }
    return ids.length;
  }
}
