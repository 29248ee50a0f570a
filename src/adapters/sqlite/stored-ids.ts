import { setImmediate as nextTurn } from "node:timers/promises";
import type { Database, Statement } from "better-sqlite3";
import { type Hashes, hashes, idKey, idToken, matchExpression } from "./event-keys.ts";
import { IdFilter } from "./id-filter.ts";

/**
 * Rows one page of the background work reads (2 to 5 ms at 2 million events); also the most rows
 * a write transaction catches up on by itself.
 */
const CHUNK = 2048;
/**
 * How long one step of the background work reads pages before it yields to the event loop. It
 * takes one step a turn of the loop, so on a busy loop (lookups while the filter is not built)
 * shorter steps make the build last longer: measured at 5 million events, 2048-row steps took
 * the request thread over 30 s, during which calls were answered at half the usual rate.
 */
const STEP_MS = 8;
/**
 * A step also takes as long as this thread spent looking ids up since the last one, up to this:
 * the build then has at least half of a loop that the lookups keep busy, and ends sooner, instead
 * of one short step a turn between commits of hundreds of lookups each.
 */
const MAX_LOOKUP_CREDIT_MS = 50;
/**
 * Rows a write transaction may catch up on per id it checks, when that is more than a step: a
 * lookup costs about a hundred times what reading a row of the catch-up does (0.1 to 0.3 ms
 * against 1 to 2 µs at 2 million events), so a large batch far behind still reads rather than
 * looks up, at a cost in the order of its own inserts.
 */
const CATCH_UP_PER_CHECK = 8;
/** Ids per page of hashes the build keeps until it knows how many there are. */
const PAGE_IDS = 65_536;
/** Ids the pages hold at most (8 MB, the size of a filter for them). */
const PAGED_IDS = 1_048_576;
/** Ids one step adds from those pages to the filter (random writes into up to 32 MiB). */
const ADD_STEP = 16_384;
/** Above every event time and scope number: the keyset position before the first row. */
const TOP = 2 ** 53;

export interface StoredIdsOptions {
  /** Rows per page of the background work (tests make it tiny to interleave). */
  chunk?: number;
  /** Milliseconds of pages per step; 0: one page a step (tests, to interleave). */
  stepMs?: number;
  /** Ids the build keeps in pages before the largest filter takes them (tests make it small). */
  pagedIds?: number;
}

/**
 * Which (account, eventID) pairs are stored: an in-memory filter in front of the id tokens of the
 * full-text index. Most new ids are ruled out by the filter; a "maybe" (a duplicate, or about one
 * new id in a hundred) costs one token lookup. The token lookup alone is exact, and it is the
 * answer whenever the filter cannot be trusted: no write ever waits for the filter.
 *
 * Invariant: every stored row is in the filter, or its append number is above `#known`. Every
 * append takes the next append number (migration 8) and stamps its rows with it, and a number is
 * visible only once its rows have committed. So a connection learns what other connections
 * (ingest threads, another process) stored by reading the rows numbered above `#known`.
 *
 * The filter is built in the background, in steps of `CHUNK` rows that yield to the event loop,
 * starting with the first write: the rows present when the build starts, scope by scope through
 * the time index, then the rows appended meanwhile by their numbers. A write transaction uses the
 * filter only when it is built and at most `CHUNK` rows behind, or a few rows per id it checks
 * (it reads those itself, in the transaction); otherwise it looks every id up and the background
 * catches up. When the filter fills up, a four times larger layer is added. Ids of purged or
 * reset events stay in the filter until the next build: they only cost a lookup.
 */
export class StoredIds {
  readonly #db: Database;
  readonly #chunk: number;
  readonly #stepMs: number;
  readonly #pagedIds: number;
  /** When the running step of the background work is to yield (performance.now()). */
  #stepEnds = 0;
  /** Milliseconds of lookups by transactions that could not use the filter, since the last step. */
  #lookupMs = 0;
  readonly #lastAppend: Statement<[], number>;
  readonly #takeAppend: Statement<[]>;
  readonly #dropAppends: Statement<[number]>;
  readonly #scopes: Statement<[], [number, string]>;
  readonly #scopePage: Statement<[ScopePosition & { n: number }], [number, string]>;
  readonly #behind: Statement<[number, number], number>;
  readonly #since: Statement<[number], [string, string]>;
  readonly #sincePage: Statement<
    [AppendPosition & { last: number; n: number }],
    [number, number, string, string]
  >;
  readonly #lookup: Statement<[string, string, string], number>;
  /** Empty until the first build completes. */
  #layers: IdFilter[] = [];
  /** See the invariant above; meaningful once `#layers` is not empty. */
  #known = -1;
  /** This transaction looks every id up: the filter is not built, or too far behind. */
  #exact = true;
  /** The number this transaction took, and `#known` before it: what a rollback restores. */
  #taken: { no: number; before: number } | undefined;
  /** The background build or catch-up, while it runs. */
  #work: Promise<void> | undefined;

  constructor(db: Database, options: StoredIdsOptions = {}) {
    this.#db = db;
    this.#chunk = Math.max(1, options.chunk ?? CHUNK);
    this.#stepMs = options.stepMs ?? STEP_MS;
    this.#pagedIds = options.pagedIds ?? PAGED_IDS;
    this.#lastAppend = db
      .prepare<[], number>(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'event_appends'), 0)",
      )
      .pluck();
    this.#takeAppend = db.prepare("INSERT INTO event_appends DEFAULT VALUES");
    this.#dropAppends = db.prepare("DELETE FROM event_appends WHERE no <= ?");
    this.#scopes = db
      .prepare<[], [number, string]>("SELECT id, account_id FROM event_scopes ORDER BY id")
      .raw();
    // Keyset steps through the time index (the order of #byTime in event-store.ts): each reads
    // the index alone, never the rows.
    const below = `FROM events AS e INDEXED BY events_by_time
      WHERE e.scope = @scope AND (e.event_time, e.event_id) < (@at, @aid)`;
    const order = "ORDER BY e.event_time DESC, e.event_id DESC";
    this.#scopePage = db
      .prepare<[ScopePosition & { n: number }], [number, string]>(
        `SELECT e.event_time, e.event_id ${below} ${order} LIMIT @n`,
      )
      .raw();
    const appended = "FROM events AS e INDEXED BY events_by_append";
    this.#behind = db
      .prepare<[number, number], number>(
        `SELECT count(*) FROM (SELECT 1 ${appended} WHERE e.append_no > ? AND e.append_no IS NOT NULL LIMIT ?)`,
      )
      .pluck();
    const pairs = `SELECT s.account_id, e.event_id ${appended} JOIN event_scopes AS s ON s.id = e.scope`;
    this.#since = db
      .prepare<[number], [string, string]>(`${pairs} WHERE e.append_no > ? AND e.append_no IS NOT NULL`)
      .raw();
    this.#sincePage = db
      .prepare<[AppendPosition & { last: number; n: number }], [number, number, string, string]>(
        `SELECT e.append_no, e.scope, s.account_id, e.event_id ${appended}
           JOIN event_scopes AS s ON s.id = e.scope
         WHERE (e.append_no, e.scope, e.event_id) > (@no, @scope, @id) AND e.append_no <= @last
           AND e.append_no IS NOT NULL
         ORDER BY e.append_no, e.scope, e.event_id LIMIT @n`,
      )
      .raw();
    this.#lookup = db
      .prepare<[string, string, string], number>(
        // CROSS JOIN: from the token's few postings outwards, never from the account's scopes.
        `SELECT 1 FROM event_keys CROSS JOIN events AS e ON e.id = event_keys.rowid
         CROSS JOIN event_scopes AS s ON s.id = e.scope
         WHERE event_keys MATCH ? AND e.event_id = ? AND s.account_id = ? LIMIT 1`,
      )
      .pluck();
  }

  /**
   * Decides how this transaction checks its `checks` ids: through the filter, brought up to date
   * here when it is at most a step behind (or `CATCH_UP_PER_CHECK` rows an id, for a large
   * batch), or by lookup alone (and the background builds or catches up). Call inside the write
   * transaction, before inserting (the id lookups must not see rows of the transaction itself,
   * which FTS5 would have to flush first).
   */
  refresh(checks: number): void {
    this.#taken = undefined;
    this.#exact = !this.#catchUpHere(Math.max(this.#chunk, CATCH_UP_PER_CHECK * checks));
    if (this.#exact) this.#startWork();
  }

  /** Brings the filter up to date when at most `limit` rows are missing; false when it cannot. */
  #catchUpHere(limit: number): boolean {
    if (this.#layers.length === 0) return false;
    const last = this.#lastAppend.get()!;
    if (last === this.#known) return true;
    if (this.#behind.get(this.#known, limit + 1)! > limit) return false;
    // in the write transaction nobody else commits: every row above #known is at most `last`
    for (const [accountId, eventId] of this.#since.iterate(this.#known))
      this.add(hashes(idKey(accountId, eventId)));
    this.#known = last;
    return true;
  }

  /**
   * The number this transaction's rows carry; call after `refresh`, in the same transaction. With
   * the filter in use, it then knows every append up to it (this one's rows are added as they go in).
   */
  takeAppendNo(): number {
    const no = Number(this.#takeAppend.run().lastInsertRowid);
    // only sqlite_sequence has to remember the number
    this.#dropAppends.run(no);
    if (!this.#exact) {
      this.#taken = { no, before: this.#known };
      this.#known = no;
    }
    return no;
  }

  /**
   * The transaction since `refresh` rolled back: its append number was never used, so another
   * connection may commit rows under it, which a later catch-up must read.
   */
  rolledBack(): void {
    const taken = this.#taken;
    this.#taken = undefined;
    // a lower #known only costs reading rows again
    if (taken !== undefined && this.#known >= taken.before) this.#known = taken.before;
  }

  /** Is (accountId, eventId), whose `hashes(idKey(...))` are `id`, stored? */
  has(accountId: string, eventId: string, id: Hashes): boolean {
    if (!this.#exact) {
      if (!this.#layers.some((layer) => layer.mayHave(id))) return false;
      return this.#lookup.get(matchExpression(idToken(id)), eventId, accountId) !== undefined;
    }
    const started = performance.now();
    const found = this.#lookup.get(matchExpression(idToken(id)), eventId, accountId) !== undefined;
    this.#lookupMs += performance.now() - started;
    return found;
  }

  /** Records an id stored by this connection. */
  add(id: Hashes): void {
    const top = this.#layers.at(-1);
    if (top === undefined) return;
    top.add(id);
    if (top.full) this.#layers.push(new IdFilter(4 * top.capacity));
  }

  /** Is the filter built (it may still be behind other connections' appends)? */
  get built(): boolean {
    return this.#layers.length > 0;
  }

  /** Resolves when the background work that runs now has ended (tests wait on it instead of sleeping). */
  async drain(): Promise<void> {
    while (this.#work !== undefined) await this.#work;
  }

  #startWork(): void {
    if (this.#work !== undefined) return;
    this.#work = this.#buildAndCatchUp()
      // a failed step (the connection closed, say) leaves the filter unused or behind: writes
      // keep looking ids up, and the next one starts over from what is known
      .catch(() => {})
      .finally(() => {
        this.#work = undefined;
      });
  }

  async #buildAndCatchUp(): Promise<void> {
    // never inside the write transaction that asked
    await nextTurn();
    if (!(await this.#step())) return;
    if (this.#layers.length === 0) await this.#build();
    await this.#catchUp();
  }

  /**
   * Ends the step once its time is up, yielding to the event loop; false when the connection has
   * closed meanwhile. The steps read committed rows only: inside a transaction of this connection
   * (none spans turns today) they would see its uncommitted rows and append number, which a
   * rollback takes back.
   */
  async #step(): Promise<boolean> {
    if (performance.now() < this.#stepEnds && !this.#db.inTransaction) return this.#db.open;
    do await nextTurn();
    while (this.#db.open && this.#db.inTransaction);
    const credit = this.#stepMs === 0 ? 0 : Math.min(MAX_LOOKUP_CREDIT_MS, this.#lookupMs);
    this.#lookupMs = 0;
    this.#stepEnds = performance.now() + this.#stepMs + credit;
    return this.#db.open;
  }

  /**
   * The filter of every row stored when the build starts. A row appended after that carries a
   * higher number than `start` and is left to the catch-up; a row deleted meanwhile may or may
   * not be read, which costs nothing. Rows never change scope, time or id, so stepping through
   * the time index, in snapshots that differ from step to step, meets every row that stays.
   *
   * The filter's size depends on the count, which a count beforehand would take one long
   * statement (a third of a second at 5 million events) or a third more reading in steps to
   * learn. So the hashes wait in pages (8 bytes an id) until the walk has counted them; past
   * `PAGED_IDS` the largest filter (32 MiB, which 3.4 million ids and more get anyway) takes
   * them and every id after.
   */
  async #build(): Promise<void> {
    const start = this.#lastAppend.get()!;
    // read after `start`: every scope of a row stored by then
    const scopes = this.#scopes.all();
    let pages: Uint32Array[] = [];
    let page = new Uint32Array(2 * PAGE_IDS);
    let used = 0;
    let count = 0;
    let largest: IdFilter | undefined;
    for (const [scope, accountId] of scopes) {
      for (let at = TOP, aid = ""; ; ) {
        if (!(await this.#step())) return;
        const rows = this.#scopePage.all({ scope, at, aid, n: this.#chunk });
        for (const [, eventId] of rows) {
          const id = hashes(idKey(accountId, eventId));
          if (largest !== undefined) {
            largest.add(id);
            continue;
          }
          if (used === page.length) {
            pages.push(page);
            page = new Uint32Array(2 * PAGE_IDS);
            used = 0;
          }
          page[used++] = id[0];
          page[used++] = id[1];
        }
        count += rows.length;
        if (largest === undefined && count >= this.#pagedIds) {
          largest = new IdFilter(IdFilter.LARGEST);
          if (!(await this.#fill(largest, [...pages, page.subarray(0, used)]))) return;
          pages = [];
        }
        if (rows.length < this.#chunk) break;
        [at, aid] = rows[rows.length - 1]!;
      }
    }
    let filter = largest;
    if (filter === undefined) {
      filter = new IdFilter(4 * count + 65_536);
      if (!(await this.#fill(filter, [...pages, page.subarray(0, used)]))) return;
    }
    this.#layers = [filter];
    this.#known = start;
  }

  /** Adds the ids of `pages` to `filter`, step by step; false when the connection has closed. */
  async #fill(filter: IdFilter, pages: readonly Uint32Array[]): Promise<boolean> {
    for (const p of pages) {
      for (let from = 0; from < p.length; from += 2 * ADD_STEP) {
        if (!(await this.#step())) return false;
        const to = Math.min(p.length, from + 2 * ADD_STEP);
        for (let i = from; i < to; i += 2) filter.add([p[i]!, p[i + 1]!]);
      }
    }
    return true;
  }

  /**
   * Reads the rows appended above `#known`, step by step, until a pass finds less than a step of
   * them: the write transactions read the rest themselves.
   */
  async #catchUp(): Promise<void> {
    for (;;) {
      if (!(await this.#step())) return;
      // every row numbered up to `last` has committed once `last` is visible
      const last = this.#lastAppend.get()!;
      if (last <= this.#known) return;
      let read = 0;
      for (let no = this.#known, scope = TOP, id = ""; ; ) {
        const rows = this.#sincePage.all({ no, scope, id, last, n: this.#chunk });
        for (const [, , accountId, eventId] of rows) this.add(hashes(idKey(accountId, eventId)));
        read += rows.length;
        if (rows.length < this.#chunk) break;
        [no, scope, , id] = rows[rows.length - 1]!;
        if (!(await this.#step())) return;
      }
      // every stored row numbered up to `last` is in the filter now, whatever #known became meanwhile
      if (last > this.#known) this.#known = last;
      if (read < this.#chunk) return;
    }
  }
}

interface ScopePosition {
  scope: number;
  at: number;
  aid: string;
}

interface AppendPosition {
  no: number;
  scope: number;
  id: string;
}
