import type { Database as Connection } from "better-sqlite3";
import Database from "better-sqlite3";
import { migrate } from "./migrate.ts";
import { MIGRATIONS } from "./migrations.ts";
import { SqliteTrailRepo } from "./trail-repo.ts";

export { SqliteTrailRepo } from "./trail-repo.ts";

/** One SQLite database and the repositories that share its connection. */
export interface SqliteDb {
  readonly db: Connection;
  readonly trails: SqliteTrailRepo;
  /** Closes the connection; safe to call twice. */
  close(): void;
}

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
export function openSqlite(path: string): SqliteDb {
  const db = new Database(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db, MIGRATIONS);
  } catch (e) {
    db.close();
    throw e;
  }
  const trails = new SqliteTrailRepo(db);
  return {
    db,
    trails,
    close() {
      if (db.open) db.close();
    },
  };
}
