import type { Database, Statement } from "better-sqlite3";
import { type Hashes, hashes, idKey, idToken, matchExpression } from "./event-keys.ts";
import { IdFilter } from "./id-filter.ts";

/**
 * Which (account, eventID) pairs are stored: an in-memory filter in front of the id tokens of the
 * full-text index. Most new ids are ruled out by the filter; a "maybe" (a duplicate, or about one
 * new id in a hundred) costs one token lookup.
 *
 * The filter is built from the database on first use. Every append takes the next append number
 * (migration 8) and stamps its rows with it; before checking, a connection reads the rows numbered
 * above the last number it knows, so ids that other connections (ingest workers, another process)
 * stored cannot slip past it, and nobody re-reads every stored id. When the filter fills up, a
 * four times larger layer is added (re-reading every id takes seconds at millions of events). Ids
 * of purged or reset events stay in the filter until the next build: they only cost a lookup.
 */
export class StoredIds {
  readonly #lastAppend: Statement<[], number>;
  readonly #takeAppend: Statement<[]>;
  readonly #dropAppends: Statement<[number]>;
  readonly #count: Statement<[], number>;
  readonly #all: Statement<[], [string, string]>;
  readonly #since: Statement<[number], [string, string]>;
  readonly #lookup: Statement<[string, string, string], number>;
  #layers: IdFilter[] = [];
  /** The last append number whose rows the filter holds. */
  #known = -1;
  /** `#known` as the last refresh left it: committed appends only. */
  #refreshed = -1;

  constructor(db: Database) {
    this.#lastAppend = db
      .prepare<[], number>(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'event_appends'), 0)",
      )
      .pluck();
    this.#takeAppend = db.prepare("INSERT INTO event_appends DEFAULT VALUES");
    this.#dropAppends = db.prepare("DELETE FROM event_appends WHERE no <= ?");
    this.#count = db.prepare<[], number>("SELECT count(*) FROM events").pluck();
    const pairs = `SELECT s.account_id, e.event_id FROM events AS e`;
    this.#all = db
      .prepare<[], [string, string]>(
        `${pairs} INDEXED BY events_by_time JOIN event_scopes AS s ON s.id = e.scope`,
      )
      .raw();
    this.#since = db
      .prepare<[number], [string, string]>(
        `${pairs} INDEXED BY events_by_append JOIN event_scopes AS s ON s.id = e.scope
         WHERE e.append_no > ? AND e.append_no IS NOT NULL`,
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
   * Brings the filter up to date; call inside the write transaction, before inserting (the id
   * lookups must not see rows of the transaction itself, which FTS5 would have to flush first).
   */
  refresh(): void {
    const last = this.#lastAppend.get()!;
    const top = this.#layers.at(-1);
    if (top === undefined) {
      const filter = new IdFilter(4 * this.#count.get()! + 65_536);
      for (const [accountId, eventId] of this.#all.iterate()) filter.add(hashes(idKey(accountId, eventId)));
      this.#layers = [filter];
    } else if (last !== this.#known) {
      for (const [accountId, eventId] of this.#since.iterate(this.#known))
        this.add(hashes(idKey(accountId, eventId)));
    }
    this.#known = last;
    this.#refreshed = last;
    const newest = this.#layers.at(-1)!;
    if (newest.full) this.#layers.push(new IdFilter(4 * newest.capacity));
  }

  /**
   * The number this transaction's rows carry; call after `refresh`, in the same transaction. The
   * filter then knows every append up to it (the rows of this one are added as they go in).
   */
  takeAppendNo(): number {
    const no = Number(this.#takeAppend.run().lastInsertRowid);
    // only sqlite_sequence has to remember the number
    this.#dropAppends.run(no);
    this.#known = no;
    return no;
  }

  /**
   * The transaction since `refresh` rolled back: its append number was never used, so another
   * connection may commit rows under it, which the next refresh must read.
   */
  rolledBack(): void {
    this.#known = this.#refreshed;
  }

  /** Is (accountId, eventId), whose `hashes(idKey(...))` are `id`, stored? */
  has(accountId: string, eventId: string, id: Hashes): boolean {
    if (!this.#layers.some((layer) => layer.mayHave(id))) return false;
    return this.#lookup.get(matchExpression(idToken(id)), eventId, accountId) !== undefined;
  }

  /** Records an id stored by this connection. */
  add(id: Hashes): void {
    this.#layers.at(-1)?.add(id);
  }
}
