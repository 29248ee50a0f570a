import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, it } from "vitest";
import { openPostgres, type PgDb } from "../../src/adapters/postgres/index.ts";

/**
 * PostgreSQL for tests: `OPENTRAIL_TEST_DATABASE` (a `postgres://` URL of a role that may create
 * schemas) says where. `.ci/run` starts a server and sets it; without it the PostgreSQL suites
 * are skipped, with a message saying so.
 */
export const TEST_DATABASE = process.env.OPENTRAIL_TEST_DATABASE;

/** `describe`, or one skipped test naming the variable when no test database is set. */
export function describePostgres(name: string, body: (url: string) => void): void {
  if (TEST_DATABASE === undefined || TEST_DATABASE === "") {
    describe.skip(`${name} (PostgreSQL)`, () => {
      it("needs OPENTRAIL_TEST_DATABASE=postgres://… to run", () => {});
    });
    return;
  }
  const url = TEST_DATABASE;
  describe(name, () => body(url));
}

/** A schema name of its own for each test file, and for each call within it. */
export function freshSchemaName(): string {
  return `opentrail_test_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Drops `schema` and everything in it. */
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
