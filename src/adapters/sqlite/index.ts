import type { Database as Connection } from "better-sqlite3";
import Database from "better-sqlite3";
import { type Checkpointer, startCheckpointer } from "./checkpointer.ts";
import { SqliteDeliveryStore } from "./delivery-store.ts";
import { SqliteEventStore } from "./event-store.ts";
import { SqliteFileOutbox } from "./file-outbox.ts";
import { SqliteKeyStore, type SqliteKeyStoreOptions } from "./key-store.ts";
import { MIGRATIONS } from "./migrations/index.ts";
import { migrate } from "./migrations/migrate.ts";
import { SqliteTrailRepo } from "./trail-repo.ts";
import { inTurns, WriteLock } from "./write-lock.ts";

export { SqliteEventStore } from "./event-store.ts";
export { SqliteTrailRepo } from "./trail-repo.ts";

/** One SQLite database and the repositories that share its connection. */
export interface SqliteDb {
  readonly db: Connection;
  readonly trails: SqliteTrailRepo;
  readonly events: SqliteEventStore;
  readonly deliveries: SqliteDeliveryStore;
  readonly outputs: SqliteFileOutbox;
  /** Digest signing keys; private keys included, so the database file is for the service's eyes only. */
  readonly keys: SqliteKeyStore;
  /** Closes the connection; safe to call twice. */
  close(): void;
}

/** How often the checkpointer thread copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * Pages (8 KiB) the WAL may grow to before the committing connection checkpoints by itself. With
 * the checkpointer thread running this is only a backstop; without it (a failed worker) it bounds
 * the WAL to 256 MiB.
 */
const WAL_BACKSTOP_PAGES = 32_768;

/**
 * Opens (creating if needed) and migrates the database at `path`; ":memory:" for tests.
 *
 * Durability: an event is acknowledged once its transaction commits, and acknowledged events must
 * survive `kill -9`. In WAL mode a commit is a write() of its frames into the -wal file before
 * the call returns, so once committed the data sits in the operating system's page cache, which
 * outlives the process; the next open replays the WAL. `synchronous=NORMAL` skips only the fsync
 * per commit (the WAL is synced at checkpoints), which matters for an OS crash or power loss, not
 * for a process crash, and it keeps the database consistent in every case. FULL would buy
 * survival of power loss at one fsync per commit; that is not the requirement here.
 */
export interface OpenSqliteOptions {
  keys?: SqliteKeyStoreOptions;
  /** Run the checkpointer thread (default true). One per database file is enough. */
  checkpointer?: boolean;
  /** Page cache of this connection, in MiB (default 64). */
  cacheMiB?: number;
  /** From `WriteLock.shared()`: event and delivery writes take turns with other threads' connections. */
  writeLock?: SharedArrayBuffer;
  /** Wait for a turn without blocking the event loop (the request thread); default false. */
  yieldForTurns?: boolean;
}

export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDb {
  const db = new Database(path);
  try {
    // Only takes effect when the file is created. Event rows are ~1.5 KB: 8 KiB pages hold five
    // instead of two, which saves a fifth of the file and of the bytes each commit writes.
    db.pragma("page_size = 8192");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    // Memory stays bounded whatever the database size: a 64 MiB page cache and no memory map
    // (mapped pages would count towards the process's resident memory).
    db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 64)}`);
    db.pragma("mmap_size = 0");
    db.pragma(`wal_autocheckpoint = ${WAL_BACKSTOP_PAGES}`);
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    migrate(db, MIGRATIONS);
  } catch (e) {
    db.close();
    throw e;
  }
  const checkpointer: Checkpointer | undefined =
    db.memory || path === "" || options.checkpointer === false
      ? undefined
      : startCheckpointer(path, CHECKPOINT_INTERVAL_MS);

  const inTurn = inTurns(
    options.writeLock ? new WriteLock(options.writeLock) : undefined,
    options.yieldForTurns ?? false,
  );
  const trails = new SqliteTrailRepo(db, inTurn);
  const events = new SqliteEventStore(db, { inTurn });
  const deliveries = new SqliteDeliveryStore(db, inTurn);
  const keys = new SqliteKeyStore(db, options.keys);
  const outputs = new SqliteFileOutbox(db, inTurn);
  return {
    db,
    trails,
    events,
    deliveries,
    outputs,
    keys,
    close() {
      checkpointer?.stop();
      if (db.open) db.close();
    },
  };
}
