import { DELIVERY_MIGRATION, OUTBOX_LANES_MIGRATION } from "./delivery-store.ts";
import { DIGEST_MIGRATION } from "./digest-store.ts";
import { KEYS_MIGRATION } from "./key-store.ts";
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
  {
    id: 2,
    name: "events",
    // Why this shape (measured with bench/lookup.ts): see event-store.ts.
    up: `
      CREATE TABLE event_scopes (
        id         INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL,
        region     TEXT NOT NULL,
        category   TEXT NOT NULL,
        UNIQUE (account_id, region, category)
      ) STRICT;

      CREATE TABLE events (
        id            INTEGER PRIMARY KEY,
        scope         INTEGER NOT NULL,
        event_time    INTEGER NOT NULL,
        event_id      TEXT    NOT NULL,
        event_name    TEXT,
        event_source  TEXT,
        read_only     INTEGER,
        username      TEXT,
        access_key_id TEXT,
        resources     TEXT,
        record        TEXT    NOT NULL,
        CHECK ((id >> 21) = event_time)
      ) STRICT;

      CREATE UNIQUE INDEX events_by_time ON events (scope, event_time DESC, event_id DESC);

      CREATE VIRTUAL TABLE event_keys USING fts5 (
        tokens, content = '', contentless_delete = 1, detail = none, tokenize = 'ascii'
      );
    `,
  },
  {
    id: 3,
    name: "delivery",
    up: DELIVERY_MIGRATION,
  },
  {
    id: 4,
    name: "signing keys",
    up: KEYS_MIGRATION,
  },
  {
    id: 5,
    name: "event ids per account",
    // An eventID already stored for the account is a retry, whatever its time, region or category.
    up: `
      CREATE TABLE event_ids (
        account_id TEXT NOT NULL,
        event_id   TEXT NOT NULL,
        PRIMARY KEY (account_id, event_id)
      ) STRICT, WITHOUT ROWID;
      INSERT OR IGNORE INTO event_ids (account_id, event_id)
        SELECT s.account_id, e.event_id FROM events AS e JOIN event_scopes AS s ON s.id = e.scope;
    `,
  },
  {
    id: 6,
    name: "digest chains",
    up: DIGEST_MIGRATION,
  },
  {
    id: 7,
    name: "event ids as tokens",
    // A unique index on random event ids dirtied one page per stored event and halved ingest; an
    // eventID is now found through a per-account token of event_keys (stored-ids.ts). Events
    // stored before this step lack that token: SqliteEventStore re-tokenises them when it finds
    // the row below, then deletes it.
    up: `
      DROP TABLE event_ids;
      CREATE TABLE event_keys_stale (since INTEGER NOT NULL) STRICT;
      INSERT INTO event_keys_stale (since) SELECT 7 WHERE EXISTS (SELECT 1 FROM events);
    `,
  },
  {
    id: 8,
    name: "append numbers",
    // Several connections append (ingest workers, the API's own records). Each append takes the
    // next number from event_appends (AUTOINCREMENT: never reused, not even after a reset empties
    // the tables) and stamps its rows with it, so a connection learns the eventIDs others stored
    // by reading the rows numbered above the last it saw, instead of re-reading every stored id.
    // The index only grows at its end: a commit dirties a few pages of it. It holds what catching
    // up reads (scope, event id), so that never reads the rows themselves.
    up: `
      ALTER TABLE events ADD COLUMN append_no INTEGER;
      CREATE INDEX events_by_append ON events (append_no, scope, event_id) WHERE append_no IS NOT NULL;
      CREATE TABLE event_appends (no INTEGER PRIMARY KEY AUTOINCREMENT) STRICT;
    `,
  },
  {
    id: 9,
    name: "outbox lanes",
    up: OUTBOX_LANES_MIGRATION,
  },
];
