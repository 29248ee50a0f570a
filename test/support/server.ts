import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import type { Clock } from "../../src/ports/index.ts";
import type { CallRenderer } from "../../src/proxy/call.ts";
import { freshDatabase } from "./postgres.ts";

export interface TestServer {
  app: OpenTrail;
  url: string;
  dataDir: string;
  /** The PostgreSQL database of its stores, when they are there. */
  database?: string;
  /** Local bucket root: `mkdirSync(join(bucketsDir, name))` creates a bucket. */
  bucketsDir: string;
  createBucket(name: string): void;
  close(): Promise<void>;
}

/** Where servers started after `usePostgresServer(url)` keep their stores: a fresh database each. */
let postgresServer: string | undefined;

/** Servers started after this keep their stores in a database of their own on the server of `url`. */
export function usePostgresServer(url: string): void {
  postgresServer = url;
}

/** Whether servers started now keep their stores in PostgreSQL. */
export const usingPostgres = (): boolean => postgresServer !== undefined;

/**
 * For a test that builds its own Config: where its stores go (SQLite in the data directory, or
 * after `usePostgresServer` a fresh database), and how to forget them after the app is closed.
 */
export async function testStores(): Promise<{ config: Partial<Config>; drop(): Promise<void> }> {
  if (postgresServer === undefined) return { config: {}, drop: async () => {} };
  const database = await freshDatabase(postgresServer);
  return { config: { database: database.url }, drop: () => database.drop() };
}

/** A real server on 127.0.0.1, port 0, over a fresh data directory, silent; on `clock` if given. */
export async function startTestServer(
  overrides: Partial<Config> = {},
  opts: { clock?: Clock; renderer?: CallRenderer } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "opentrail-test-"));
  // a server given a database (a second node) shares it; the first node makes and drops it
  const database =
    postgresServer === undefined || overrides.database !== undefined
      ? undefined
      : await freshDatabase(postgresServer);
  const config = {
    ...loadConfig({ flags: { port: 0, dataDir } }),
    ...(database ? { database: database.url } : {}),
    ...overrides,
  };
  const app = await startOpenTrail(config, {
    log: pino({ level: "silent" }),
    clock: opts.clock,
    ...(opts.renderer ? { renderer: opts.renderer } : {}),
  });
  const bucketsDir = join(dataDir, "buckets");
  return {
    app,
    url: app.url,
    dataDir,
    database: config.database,
    bucketsDir,
    createBucket: (name) => mkdirSync(join(bucketsDir, name), { recursive: true }),
    async close() {
      await app.close();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Two nodes on one database: the second is started on the first's. Should the second not start,
 * the first is closed again.
 */
export async function startTwoNodes(
  overrides: Partial<Config> = {},
  opts: { clock?: Clock } = {},
): Promise<[TestServer, TestServer]> {
  const one = await startTestServer(overrides, opts);
  try {
    return [one, await startTestServer({ ...overrides, database: one.database }, opts)];
  } catch (e) {
    await one.close();
    throw e;
  }
}

/** Closes nodes in the reverse order of their start: the first drops the database they share. */
export async function closeNodes(...nodes: (TestServer | undefined)[]): Promise<void> {
  for (const node of nodes.reverse()) await node?.close();
}
