import pg from "pg";
import { PG_MIGRATIONS, type PgMigration } from "./migrations.ts";

/** A schema name this adapter accepts: it goes into `search_path`, so only plain identifiers. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The first half of every advisory lock key of this service; the second names what is locked. */
export const LOCK_SPACE = 0x07e7_7a11;

export interface PgPoolOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Keep every table in this schema (created if missing) instead of the role's default. */
  schema?: string;
  /** Connections of this pool (default 10). */
  max?: number;
}

/**
 * BIGINT columns hold milliseconds and row ids, all below 2^53: they come back as numbers, not
 * as the strings node-postgres gives by default. Per pool, not `pg.types`, which is global.
 */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (text: string) => Number(text));

/** How to open one connection of `options`: the pool's, and the trail feed's own. */
export function connectionOf(options: PgPoolOptions): pg.ClientConfig {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`schema name ${JSON.stringify(schema)} is not a lower-case identifier`);
  }
  return {
    connectionString: options.url,
    types,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  };
}

export function openPool(options: PgPoolOptions): pg.Pool {
  return new pg.Pool({ ...connectionOf(options), max: options.max ?? 10 });
}

/** Serialisation failures and deadlocks: the transaction may be run again from the start. */
const RETRYABLE = new Set(["40001", "40P01"]);

/** Runs `work` in one transaction on one connection of `pool`, again when PostgreSQL asks for it. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  isolation: "READ COMMITTED" | "SERIALIZABLE" = "READ COMMITTED",
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      if (attempt < 5 && RETRYABLE.has((e as { code?: string }).code ?? "")) continue;
      throw e;
    } finally {
      client.release();
    }
  }
}

/**
 * Brings the schema to the last migration and returns its id. Every node runs this at start-up:
 * a session advisory lock makes them take turns, and each step commits together with its row in
 * `schema_migrations`, so a crash leaves either the old schema or the new one.
 */
export async function migratePg(
  pool: pg.Pool,
  schema: string | undefined,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
): Promise<number> {
  migrations.forEach((m, i) => {
    const before = i === 0 ? 0 : migrations[i - 1]!.id;
    if (m.id <= before) throw new Error(`migration ${m.name} has id ${m.id}, not above ${before}`);
  });
  const latest = migrations.at(-1)?.id ?? 0;
  const client = await pool.connect();
  const key = [LOCK_SPACE, `migrate:${schema ?? ""}`];
  try {
    await client.query("SELECT pg_advisory_lock($1, hashtext($2))", key);
    try {
      if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS schema_migrations (
           id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ id: number }>("SELECT id FROM schema_migrations");
      const applied = new Set(rows.map((r) => r.id));
      const current = Math.max(0, ...applied);
      if (current > latest) {
        throw new Error(`database schema version ${current} is newer than this build knows (${latest})`);
      }
      for (const m of migrations.filter((m) => !applied.has(m.id))) {
        await client.query("BEGIN");
        try {
          await client.query(m.up);
          await client.query("INSERT INTO schema_migrations (id, name) VALUES ($1, $2)", [m.id, m.name]);
          await client.query("COMMIT");
        } catch (e) {
          await client.query("ROLLBACK");
          throw e;
        }
      }
    } finally {
      await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", key);
    }
  } finally {
    client.release();
  }
  return latest;
}
