import type { Database } from "better-sqlite3";

/**
 * Empties every table of the schema in one transaction. SQLite's own tables are left alone, so
 * AUTOINCREMENT counters keep counting and an id is never handed out twice.
 */
export function deleteAllRows(db: Database): void {
  const tables = db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .all();
  db.transaction(() => {
    for (const { name } of tables) db.exec(`DELETE FROM "${name.replaceAll('"', '""')}"`);
  })();
}
