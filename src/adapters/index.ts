import { mkdirSync } from "node:fs";
import type {
  DeliveryStore,
  DigestChainStore,
  EventStore,
  FileOutbox,
  KeyStore,
  ObjectStore,
  TrailRepo,
} from "../ports/index.ts";
import { LocalFsObjectStore } from "./localfs/object-store.ts";
import type { S3ObjectStoreOptions } from "./s3/object-store.ts";
import { SqliteDigestStore } from "./sqlite/digest-store.ts";
import { openSqlite } from "./sqlite/index.ts";

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

export type StoresDescriptor = SqliteStoresDescriptor;

export interface Stores {
  trails: TrailRepo;
  events: EventStore;
  deliveries: DeliveryStore;
  /** Delivered files waiting for the outputs that follow delivery (SNS, CloudWatch Logs). */
  outputs: FileOutbox;
  /** Digest signing keys; private keys included, so the database is for the service's eyes only. */
  keys: KeyStore;
  digestChains: DigestChainStore;
  /** Development reset: forgets everything, not only trails. */
  reset(): Promise<void>;
  /** Closes the connection; safe to call twice. */
  close(): Promise<void>;
}

/** Opens (creating and migrating if needed) the stores `descriptor` points at. */
export async function openStores(descriptor: StoresDescriptor): Promise<Stores> {
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

export async function openObjectStore(descriptor: ObjectStoreDescriptor): Promise<ObjectStore> {
  switch (descriptor.kind) {
    case "local": {
      mkdirSync(descriptor.root, { recursive: true });
      return new LocalFsObjectStore(descriptor.root);
    }
    case "s3": {
      // imported only when used: every ingest thread imports this file, and would load the SDK
      const { kind: _kind, ...options } = descriptor;
      const { S3ObjectStore } = await import("./s3/object-store.ts");
      return new S3ObjectStore(options);
    }
  }
}
