import type { Database, Statement } from "better-sqlite3";
import { type Hashes, hashes, idKey, idToken, matchExpression } from "./event-keys.ts";
import { IdFilter } from "./id-filter.ts";

/**
 * Which (account, eventID) pairs are stored: an in-memory filter in front of the id tokens of the
 * full-text index. Most new ids are ruled out by the filter; a "maybe" (a duplicate, or about one
 * new id in a hundred) costs one token lookup.
 *
 * The filter is built from the database on first use, and again when another connection has
 * written to the database (`PRAGMA data_version`), so a second process or connection cannot slip
 * a duplicate past it. When it fills up, a four times larger layer is added instead of reading
 * every stored id again (which takes seconds at millions of events). Ids of purged or reset
 * events stay in the filter until the next build: they only cost a lookup.
 */
export class StoredIds {
  readonly #dataVersion: Statement<[], number>;
  readonly #count: Statement<[], number>;
  readonly #all: Statement<[], [string, string]>;
  readonly #lookup: Statement<[string, string, string], number>;
  #layers: IdFilter[] = [];
  #version = -1;

  constructor(db: Database) {
    this.#dataVersion = db.prepare<[], number>("PRAGMA data_version").pluck();
    this.#count = db.prepare<[], number>("SELECT count(*) FROM events").pluck();
    this.#all = db
      .prepare<[], [string, string]>(
        `SELECT s.account_id, e.event_id FROM events AS e INDEXED BY events_by_time
         JOIN event_scopes AS s ON s.id = e.scope`,
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
    const version = this.#dataVersion.get()!;
    const last = this.#layers.at(-1);
    if (last !== undefined && version === this.#version) {
      if (last.full) this.#layers.push(new IdFilter(4 * last.capacity));
      return;
    }
    const filter = new IdFilter(4 * this.#count.get()! + 65_536);
    for (const [accountId, eventId] of this.#all.iterate()) filter.add(hashes(idKey(accountId, eventId)));
    this.#layers = [filter];
    this.#version = version;
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
