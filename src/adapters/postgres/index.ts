import type pg from "pg";
import { PgDeliveryStore } from "./delivery-store.ts";
import { PgDigestStore } from "./digest-store.ts";
import { PgEventStore } from "./event-store.ts";
import { PgFileOutbox } from "./file-outbox.ts";
import { PgInsightStore } from "./insight-store.ts";
import { PgKeyStore } from "./key-store.ts";
import { PgLeases } from "./leases.ts";
import { connectionOf, migratePg, openPool, type PgPoolOptions } from "./pool.ts";
import { PgTrailFeed } from "./trail-feed.ts";
import { PgTrailRepo } from "./trail-repo.ts";

/** One PostgreSQL schema and the repositories that share its connection pool. */
export interface PgDb {
  readonly pool: pg.Pool;
  readonly trails: PgTrailRepo;
  readonly events: PgEventStore;
  readonly deliveries: PgDeliveryStore;
  readonly outputs: PgFileOutbox;
  readonly keys: PgKeyStore;
  readonly digestChains: PgDigestStore;
  readonly leases: PgLeases;
  readonly insights: PgInsightStore;
  /** Trail changes to and from the other nodes on this schema. */
  readonly trailFeed: PgTrailFeed;
  /** Ends the pool; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens a pool on `url` and brings the schema to the last migration (under an advisory lock, so
 * nodes starting together take turns). Every repository shares the pool; each transaction takes
 * one connection of it for its duration.
 */
export async function openPostgres(options: PgPoolOptions): Promise<PgDb> {
  const pool = openPool(options);
  // an idle connection that fails (the server restarts) is dropped; the next query opens another
  pool.on("error", () => {});
  try {
    await migratePg(pool, options.schema);
  } catch (e) {
    await pool.end();
    throw e;
  }
  let closed: Promise<void> | undefined;
  const trailFeed = new PgTrailFeed(pool, connectionOf(options), options.schema);
  return {
    pool,
    trails: new PgTrailRepo(pool),
    events: new PgEventStore(pool),
    deliveries: new PgDeliveryStore(pool),
    outputs: new PgFileOutbox(pool),
    keys: new PgKeyStore(pool),
    digestChains: new PgDigestStore(pool),
    leases: new PgLeases(pool),
    insights: new PgInsightStore(pool),
    trailFeed,
    close() {
      closed ??= trailFeed.close().then(() => pool.end());
      return closed;
    },
  };
}
