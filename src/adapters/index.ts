import { mkdirSync } from "node:fs";
import type {
  BucketHost,
  DeliveryStore,
  DigestChainStore,
  EventStore,
  FileOutbox,
  InsightStore,
  KeyStore,
  Leases,
  ObjectStore,
  TrailChangeFeed,
  TrailRepo,
} from "../ports/index.ts";
import { LocalFsObjectStore } from "./localfs/object-store.ts";
import type { S3ObjectStoreOptions } from "./s3/object-store.ts";
import { SqliteDigestStore } from "./sqlite/digest-store.ts";
import { openSqlite } from "./sqlite/index.ts";
import { SqliteInsightStore } from "./sqlite/insight-store.ts";
import { InProcessLeases } from "./sqlite/leases.ts";

/*
 * The one door to the adapters: callers say where their stores are as plain data and get them
 * back behind their ports. A descriptor survives a structured clone, so a worker thread opens
 * its own connection from the very descriptor the request thread used.
 */

/** One SQLite database file, and how this connection to it behaves. */
export interface SqliteStoresDescriptor {
  kind: "sqlite";
  /** The database file; ":memory:" for tests. */
  path: string;
  /** From `WriteLock.shared()`, the same buffer on every thread: event and delivery writes take turns. */
  writeLock?: SharedArrayBuffer;
  /** Run the checkpointer thread (default true). One per database file is enough. */
  checkpointer?: boolean;
  /** Page cache of this connection, in MiB (default 64). */
  cacheMiB?: number;
  /** Wait for a write turn without blocking the event loop (the request thread); default false. */
  yieldForTurns?: boolean;
}

/** A PostgreSQL database that several nodes may share. */
export interface PostgresStoresDescriptor {
  kind: "postgres";
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Keep the tables in this schema (created if missing); tests use one each. */
  schema?: string;
  /** Connections of this process's pool (default 10). */
  maxConnections?: number;
}

export type StoresDescriptor = SqliteStoresDescriptor | PostgresStoresDescriptor;

export interface Stores {
  trails: TrailRepo;
  events: EventStore;
  deliveries: DeliveryStore;
  /** Delivered files waiting for the outputs that follow delivery (SNS, CloudWatch Logs, EventBridge). */
  outputs: FileOutbox;
  /** Digest signing keys; private keys included, so the database is for the service's eyes only. */
  keys: KeyStore;
  digestChains: DigestChainStore;
  /** Who works which lane, chain or job among the nodes sharing the database. */
  leases: Leases;
  /** Trail changes between the nodes sharing the database; none for a database of one process. */
  trailFeed?: TrailChangeFeed;
  /** Insights: per-minute counts (kept by the event store's appends) and the worker's state. */
  insights: InsightStore;
  /** Development reset: forgets everything, not only trails. */
  reset(): Promise<void>;
  /** Closes the connection; safe to call twice. */
  close(): Promise<void>;
}

/** Opens (creating and migrating if needed) the stores `descriptor` points at. */
export async function openStores(descriptor: StoresDescriptor): Promise<Stores> {
  if (descriptor.kind === "postgres") {
    // imported only when used, as the S3 store below
    const { openPostgres } = await import("./postgres/index.ts");
    const db = await openPostgres({
      url: descriptor.url,
      schema: descriptor.schema,
      max: descriptor.maxConnections,
    });
    return {
      trails: db.trails,
      events: db.events,
      deliveries: db.deliveries,
      outputs: db.outputs,
      keys: db.keys,
      digestChains: db.digestChains,
      trailFeed: db.trailFeed,
      leases: db.leases,
      insights: db.insights,
      reset: () => db.trails.reset(),
      close: () => db.close(),
    };
  }
  const { kind, path, ...connection } = descriptor;
  switch (kind) {
    case "sqlite": {
      const db = openSqlite(path, connection);
      const digestChains = new SqliteDigestStore(db.db);
      return {
        trails: db.trails,
        events: db.events,
        deliveries: db.deliveries,
        outputs: db.outputs,
        keys: db.keys,
        digestChains,
        insights: new SqliteInsightStore(db.db),
        leases: new InProcessLeases(),
        reset: () => db.trails.reset(),
        async close() {
          db.close();
        },
      };
    }
  }
}

/** Where log files and digests go: directories under `root`, or an S3-compatible endpoint. */
export type ObjectStoreDescriptor = { kind: "local"; root: string } | ({ kind: "s3" } & S3ObjectStoreOptions);

/** The local buckets as the S3 read API serves them; undefined for a store on an S3 endpoint. */
export function bucketHostOf(store: ObjectStore): BucketHost | undefined {
  return store instanceof LocalFsObjectStore ? store : undefined;
}

export async function openObjectStore(descriptor: ObjectStoreDescriptor): Promise<ObjectStore> {
  switch (descriptor.kind) {
    case "local": {
      mkdirSync(descriptor.root, { recursive: true });
      const store = new LocalFsObjectStore(descriptor.root);
      // nothing writes yet: what a killed put left behind goes
      await store.removeTempFiles();
      return store;
    }
    case "s3": {
      // imported only when used: every ingest thread imports this file, and would load the SDK
      const { kind: _kind, ...options } = descriptor;
      const { S3ObjectStore } = await import("./s3/object-store.ts");
      return new S3ObjectStore(options);
    }
  }
}
