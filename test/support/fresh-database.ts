import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * Throwaway schemas and databases on a PostgreSQL server, without vitest: the test suites reach
 * them through postgres.ts, the benchmarks directly (a fresh database for every run).
 */

/** A schema name of its own for each test file, and for each call within it. */
export function freshSchemaName(prefix = "opentrail_test"): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** A database of its own on the test server, for a whole service (its tables in the default schema). */
export interface FreshDatabase {
  url: string;
  /** Drops it; every pool on it must be closed first. */
  drop(): Promise<void>;
}

export async function freshDatabase(url: string, prefix?: string): Promise<FreshDatabase> {
  const name = freshSchemaName(prefix);
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    url: own.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`),
  };
}
