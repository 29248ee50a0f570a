import type { Database } from "better-sqlite3";

/** One schema step. `id`s run 1, 2, 3 … with no gaps; a shipped migration is never edited. */
export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly up: string;
}

/**
 * Brings the schema to the last migration and returns its id. The schema version lives in the
 * `user_version` pragma, which is written inside the same transaction as the migration, so a crash
 * leaves either the old schema or the new one. The transaction is IMMEDIATE so that two processes
 * opening one file at once take turns instead of both applying the same step.
 */
export function migrate(db: Database, migrations: readonly Migration[]): number {
  migrations.forEach((m, i) => {
    if (m.id !== i + 1) throw new Error(`migration ${m.name} has id ${m.id}, expected ${i + 1}`);
  });
  const latest = migrations.length;
  const apply = db.transaction(() => {
    const current = db.pragma("user_version", { simple: true }) as number;
    if (current > latest) {
      throw new Error(`database schema version ${current} is newer than this build knows (${latest})`);
    }
    for (const m of migrations.slice(current)) {
      db.exec(m.up);
      db.pragma(`user_version = ${m.id}`);
    }
  });
  apply.immediate();
  return latest;
}
