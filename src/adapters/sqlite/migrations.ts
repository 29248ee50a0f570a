import type { Migration } from "./migrate.ts";

/**
 * The SQLite schema, oldest first. Append new steps; never edit one that has shipped.
 * Trails keep their key and version as columns (lookups and the optimistic lock need them) and
 * everything else as one JSON document, so a new trail setting needs no migration.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "trails",
    up: `
      CREATE TABLE trails (
        account_id  TEXT    NOT NULL,
        home_region TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        version     INTEGER NOT NULL,
        doc         TEXT    NOT NULL,
        PRIMARY KEY (account_id, home_region, name)
      ) STRICT, WITHOUT ROWID;
    `,
  },
];
