import { afterEach } from "vitest";
import { type OpenSqliteOptions, openSqlite, type SqliteDb } from "../../src/adapters/sqlite/index.ts";

export interface SqliteOpener {
  (path: string, options?: OpenSqliteOptions): SqliteDb;
  /** Closes what it opened so far (before a test removes their directory). */
  closeAll(): void;
}

/** `openSqlite` for a test file: every database it opens is closed after each test at the latest. */
export function sqliteOpener(): SqliteOpener {
  const opened: SqliteDb[] = [];
  const closeAll = () => {
    for (const db of opened.splice(0)) db.close();
  };
  afterEach(closeAll);
  const open = (path: string, options?: OpenSqliteOptions) => {
    const db = openSqlite(path, options);
    opened.push(db);
    return db;
  };
  return Object.assign(open, { closeAll });
}
