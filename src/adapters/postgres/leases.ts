import type pg from "pg";
import type { Leases } from "../../ports/index.ts";

// Taken when free, expired, or the holder's own: one statement, so two nodes asking at once get
// one answer from the row lock the upsert takes.
const ACQUIRE = `
  INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3::bigint + $4::bigint)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
  WHERE leases.holder = excluded.holder OR leases.expires_at <= $3::bigint`;

/** Leases as rows of one table, timed by the nodes' clocks (which must agree well within a lease). */
export class PgLeases implements Leases {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async tryAcquire(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(ACQUIRE, [name, holder, now.getTime(), ttlMs]);
    return rowCount === 1;
  }

  async renew(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      "UPDATE leases SET expires_at = $3 WHERE name = $1 AND holder = $2",
      [name, holder, now.getTime() + ttlMs],
    );
    return rowCount === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.#pool.query("DELETE FROM leases WHERE name = $1 AND holder = $2", [name, holder]);
  }
}
