import type { Database } from "better-sqlite3";

interface TableInfo {
  name: string;
  type: "table" | "view" | "shadow" | "virtual";
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Empties every table of the schema in one transaction. SQLite's own tables are left alone, so
 * AUTOINCREMENT counters keep counting and an id is never handed out twice. A full-text index
 * is emptied through its own command: deleting rows of its shadow tables would corrupt it.
 */
export function deleteAllRows(db: Database): void {
  const tables = db
    .prepare<[], TableInfo>("SELECT name, type FROM pragma_table_list WHERE schema = 'main'")
    .all();
  const sql = new Map(
    db
      .prepare<[], { name: string; sql: string | null }>(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table'",
      )
      .all()
      .map((r) => [r.name, r.sql ?? ""]),
  );
  db.transaction(() => {
    for (const { name, type } of tables) {
      if (name.startsWith("sqlite_")) continue;
      if (type === "table") db.exec(`DELETE FROM ${quote(name)}`);
      else if (type === "virtual" && /\bUSING\s+fts5\b/i.test(sql.get(name) ?? "")) {
        db.exec(`INSERT INTO ${quote(name)} (${quote(name)}) VALUES ('delete-all')`);
      }
    }
  })();
}
