import pg from "pg";
import { afterAll, describe, it } from "vitest";
import { openPostgres, type PgDb } from "../../src/adapters/postgres/index.ts";
import { freshSchemaName } from "./fresh-database.ts";

export { type FreshDatabase, freshDatabase, freshSchemaName } from "./fresh-database.ts";

/**
 * PostgreSQL for tests: `OPENTRAIL_TEST_DATABASE` (a `postgres://` URL of a role that may create
 * schemas) says where. `.ci/run` starts a server and sets it; without it the PostgreSQL suites
 * are skipped, with a message saying so.
 */
export const TEST_DATABASE = process.env.OPENTRAIL_TEST_DATABASE;

/**
 * One skipped test, naming the variable, in place of a suite that needs PostgreSQL; in CI (where
 * `.ci/run` sets the variable) one failing test instead, so that CI never skips them unnoticed.
 */
export function skippedWithoutPostgres(name: string): void {
  const message = "needs OPENTRAIL_TEST_DATABASE=postgres://… to run";
  if (process.env.CI) {
    describe(`${name} (PostgreSQL)`, () => {
      it(message, () => {
        throw new Error(`CI runs the PostgreSQL suites: ${message} (.ci/run sets it)`);
      });
    });
    return;
  }
  describe.skip(`${name} (PostgreSQL)`, () => {
    it(message, () => {});
  });
}

/** `describe` when a test database is set; else skippedWithoutPostgres. */
export function describePostgres(name: string, body: (url: string) => void): void {
  const url = TEST_DATABASE;
  if (url) describe(name, () => body(url));
  else skippedWithoutPostgres(name);
}

/** Drops `schema` and everything in it (the server of `url`). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

export interface PgOpener {
  /** The file's schema, migrated on first use and emptied on every call: each test starts from nothing. */
  (): Promise<PgDb>;
  /** Another pool on the same schema, as a second node would have. */
  another(): Promise<PgDb>;
  readonly schema: string;
}

/**
 * `openPostgres` for a test file, on a schema of its own that is dropped after the file's tests,
 * with every pool it opened closed first.
 */
export function pgOpener(url: string): PgOpener {
  const schema = freshSchemaName();
  const opened: PgDb[] = [];
  let first: PgDb | undefined;
  const another = async () => {
    const db = await openPostgres({ url, schema });
    opened.push(db);
    return db;
  };
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
    await dropSchema(url, schema);
  });
  const open = async () => {
    first ??= await another();
    await first.trails.reset();
    return first;
  };
  return Object.assign(open, { another, schema });
}
