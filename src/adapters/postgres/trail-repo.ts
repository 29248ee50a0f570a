import type pg from "pg";
import { checkRoomForTrail, type Trail } from "../../domain/trail.ts";
import { type TrailRepo, trailConflict } from "../../ports/index.ts";
import { fromTrailRow, type TrailRow, toTrailRow } from "../sql/trail-rows.ts";
import { inTransaction, LOCK_SPACE } from "./pool.ts";

/** Every table of the schema but `schema_migrations`. */
const RESET_TABLES = [
  "trails",
  "events",
  "destinations",
  "outbox",
  "outbox_lanes",
  "pending_files",
  "delivered_files",
  "delivery_status",
  "file_outbox",
  "output_status",
  "signing_keys",
  "digest_chains",
  "insight_counts",
  "insight_lanes",
  "insight_pending",
] as const;

const COLUMNS = "account_id, home_region, name, version, doc";

/**
 * The regions where `trail` would be visible that can hold the most trails: its home region, or
 * for a multi-Region trail the home regions of `others` as well. A region holding none of them
 * holds only multi-Region trails, as every listed region does too, so it is never fuller.
 */
function regionsToCheck(others: readonly Trail[], trail: Trail): string[] {
  if (!trail.isMultiRegionTrail) return [trail.homeRegion];
  return [...new Set([trail.homeRegion, ...others.map((t) => t.homeRegion)])].sort();
}

/**
 * Trails in PostgreSQL. Several nodes share the table, so the name and quota rules CreateTrail
 * and UpdateTrail check in the service are checked again here, inside the write's transaction
 * and under a per-account advisory lock: of two nodes creating the sixth trail at once, one wins.
 */
export class PgTrailRepo implements TrailRepo {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async list(accountId: string): Promise<Trail[]> {
    const { rows } = await this.#pool.query<TrailRow>(
      `SELECT ${COLUMNS} FROM trails WHERE account_id = $1 ORDER BY home_region, name`,
      [accountId],
    );
    return rows.map(fromTrailRow);
  }

  async listAll(): Promise<Trail[]> {
    const { rows } = await this.#pool.query<TrailRow>(
      `SELECT ${COLUMNS} FROM trails ORDER BY account_id, home_region, name`,
    );
    return rows.map(fromTrailRow);
  }

  async get(accountId: string, homeRegion: string, name: string): Promise<Trail | undefined> {
    const { rows } = await this.#pool.query<TrailRow>(
      `SELECT ${COLUMNS} FROM trails WHERE account_id = $1 AND home_region = $2 AND name = $3`,
      [accountId, homeRegion, name],
    );
    return rows[0] && fromTrailRow(rows[0]);
  }

  async create(trail: Trail): Promise<void> {
    const row = toTrailRow(trail);
    await inTransaction(this.#pool, async (client) => {
      const others = await this.#lockAccount(client, trail.accountId);
      if (others.some((t) => t.homeRegion === trail.homeRegion && t.name === trail.name)) {
        throw trailConflict(trail, "exists");
      }
      checkRoomForTrail(others, trail, regionsToCheck(others, trail));
      await client.query(`INSERT INTO trails (${COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        row.account_id,
        row.home_region,
        row.name,
        row.version,
        row.doc,
      ]);
    });
  }

  async update(trail: Trail): Promise<void> {
    const row = toTrailRow(trail);
    await inTransaction(this.#pool, async (client) => {
      const all = await this.#lockAccount(client, trail.accountId);
      const stored = all.find((t) => t.homeRegion === trail.homeRegion && t.name === trail.name);
      if (stored === undefined || stored.version !== trail.version - 1)
        throw trailConflict(trail, "modified");
      if (trail.isMultiRegionTrail && !stored.isMultiRegionTrail) {
        const others = all.filter((t) => t !== stored);
        checkRoomForTrail(others, trail, regionsToCheck(others, trail));
      }
      await client.query(
        `UPDATE trails SET version = $4, doc = $5 WHERE account_id = $1 AND home_region = $2 AND name = $3`,
        [row.account_id, row.home_region, row.name, row.version, row.doc],
      );
    });
  }

  async delete(accountId: string, homeRegion: string, name: string): Promise<void> {
    await this.#pool.query("DELETE FROM trails WHERE account_id = $1 AND home_region = $2 AND name = $3", [
      accountId,
      homeRegion,
      name,
    ]);
  }

  /**
   * Forgets everything in the schema, not only trails: a development reset starts from empty.
   * DELETE rather than TRUNCATE: it takes no lock that waits for every reader of every table, it
   * is many times faster on small tables, and ids keep counting, as SQLite's AUTOINCREMENT does.
   */
  async reset(): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      for (const table of RESET_TABLES) await client.query(`DELETE FROM ${table}`);
    });
  }

  /** The pool belongs to whoever opened it (`openPostgres`). */
  async close(): Promise<void> {}

  /** Takes the account's lock until the transaction ends, then reads its trails. */
  async #lockAccount(client: pg.PoolClient, accountId: string): Promise<Trail[]> {
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_SPACE, `trails:${accountId}`]);
    const { rows } = await client.query<TrailRow>(
      `SELECT ${COLUMNS} FROM trails WHERE account_id = $1 ORDER BY home_region, name`,
      [accountId],
    );
    return rows.map(fromTrailRow);
  }
}
