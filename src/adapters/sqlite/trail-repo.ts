import type { Database, Statement } from "better-sqlite3";
import type { Trail } from "../../domain/trail.ts";
import { type TrailRepo, trailConflict } from "../../ports/index.ts";
import { fromTrailRow as fromRow, type TrailRow, toTrailRow as toRow } from "../sql/trail-rows.ts";
import { deleteAllRows } from "./reset.ts";
import type { InTurn } from "./write-lock.ts";

/**
 * Trails in SQLite. The connection belongs to whoever opened it (`openSqlite`), so `close()` here
 * releases nothing; other repositories share the same connection.
 */
export class SqliteTrailRepo implements TrailRepo {
  readonly #db: Database;
  readonly #list: Statement<[string], TrailRow>;
  readonly #listAll: Statement<[], TrailRow>;
  readonly #get: Statement<[string, string, string], TrailRow>;
  readonly #insert: Statement<[TrailRow]>;
  readonly #update: Statement<[TrailRow & { expected: number }]>;
  readonly #delete: Statement<[string, string, string]>;

  /** Runs the reset in this thread's write turn (see WriteLock); at once without one. */
  readonly #inTurn: InTurn;

  constructor(db: Database, inTurn: InTurn = (fn) => fn()) {
    this.#inTurn = inTurn;
    this.#db = db;
    this.#list = db.prepare("SELECT * FROM trails WHERE account_id = ? ORDER BY home_region, name");
    this.#listAll = db.prepare("SELECT * FROM trails ORDER BY account_id, home_region, name");
    this.#get = db.prepare("SELECT * FROM trails WHERE account_id = ? AND home_region = ? AND name = ?");
    this.#insert = db.prepare(
      `INSERT INTO trails (account_id, home_region, name, version, doc)
       VALUES (@account_id, @home_region, @name, @version, @doc)
       ON CONFLICT DO NOTHING`,
    );
    this.#update = db.prepare(
      `UPDATE trails SET version = @version, doc = @doc
       WHERE account_id = @account_id AND home_region = @home_region AND name = @name AND version = @expected`,
    );
    this.#delete = db.prepare("DELETE FROM trails WHERE account_id = ? AND home_region = ? AND name = ?");
  }

  async list(accountId: string): Promise<Trail[]> {
    return this.#list.all(accountId).map(fromRow);
  }

  async listAll(): Promise<Trail[]> {
    return this.#listAll.all().map(fromRow);
  }

  async get(accountId: string, homeRegion: string, name: string): Promise<Trail | undefined> {
    const row = this.#get.get(accountId, homeRegion, name);
    return row === undefined ? undefined : fromRow(row);
  }

  async create(trail: Trail): Promise<void> {
    if (this.#insert.run(toRow(trail)).changes === 0) {
      throw trailConflict(trail, "exists");
    }
  }

  async update(trail: Trail): Promise<void> {
    if (this.#update.run({ ...toRow(trail), expected: trail.version - 1 }).changes === 0)
      throw trailConflict(trail, "modified");
  }

  async delete(accountId: string, homeRegion: string, name: string): Promise<void> {
    this.#delete.run(accountId, homeRegion, name);
  }

  /** Forgets everything in the database, not only trails: a development reset starts from empty. */
  async reset(): Promise<void> {
    // a large delete: ingest threads must wait for it in turn, not in SQLite's busy sleeps
    await this.#inTurn(() => deleteAllRows(this.#db));
  }

  async close(): Promise<void> {}
}
