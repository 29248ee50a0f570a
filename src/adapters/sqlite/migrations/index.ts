import type { Migration } from "./migrate.ts";

/**
 * The SQLite schema, oldest first: every step of this backend is here, with its SQL, so that a
 * reader sees the whole schema in one place. Code a step needs besides SQL lives beside this file
 * (retokenise.ts finishes step 7). Append new steps; never edit one that has shipped.
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
    up: `
      CREATE TABLE destinations (
        id         INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL,
        trail_arn  TEXT NOT NULL,
        bucket     TEXT NOT NULL,
        prefix     TEXT NOT NULL,
        kms_key_id TEXT NOT NULL,
        UNIQUE (trail_arn, bucket, prefix, kms_key_id)
      ) STRICT;

      CREATE TABLE outbox (
        id             INTEGER PRIMARY KEY,
        destination_id INTEGER NOT NULL,
        region         TEXT    NOT NULL,
        event_rowid    INTEGER NOT NULL,
        bytes          INTEGER NOT NULL,
        enqueued_at    INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX outbox_by_lane ON outbox (destination_id, region, id);
      CREATE INDEX outbox_by_event ON outbox (event_rowid);

      CREATE TABLE pending_files (
        destination_id INTEGER NOT NULL,
        region         TEXT    NOT NULL,
        key            TEXT    NOT NULL,
        first_id       INTEGER NOT NULL,
        last_id        INTEGER NOT NULL,
        PRIMARY KEY (destination_id, region)
      ) STRICT;

      CREATE TABLE delivered_files (
        id             INTEGER PRIMARY KEY,
        destination_id INTEGER NOT NULL,
        trail_arn      TEXT    NOT NULL,
        region         TEXT    NOT NULL,
        bucket         TEXT    NOT NULL,
        key            TEXT    NOT NULL,
        sha256         TEXT    NOT NULL,
        oldest         INTEGER NOT NULL,
        newest         INTEGER NOT NULL,
        delivered_at   INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX delivered_by_trail ON delivered_files (trail_arn, region, delivered_at);

      CREATE TABLE delivery_status (
        trail_arn            TEXT NOT NULL,
        region               TEXT NOT NULL,
        latest_delivery      INTEGER,
        latest_error         TEXT,
        latest_attempt       INTEGER,
        latest_success_attempt INTEGER,
        PRIMARY KEY (trail_arn, region)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    id: 4,
    name: "signing keys",
    // Private keys live in this table, in the clear: the database file is the service's own and
    // must be readable by the service's user only (the data directory should be mode 0700).
    // Anyone who can read it can sign digests that validate.
    up: `
      CREATE TABLE signing_keys (
        id          INTEGER PRIMARY KEY,
        region      TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL UNIQUE,
        public_key  BLOB    NOT NULL,
        private_key TEXT,
        valid_from  INTEGER NOT NULL,
        valid_to    INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX signing_keys_by_region ON signing_keys (region, valid_from);
    `,
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
    // One chain per (trail, region). A closed chain keeps its row (closed_at set) so that the next
    // chain of the same trail and region starts where the old one stopped instead of listing the
    // same log files again.
    up: `
      CREATE TABLE digest_chains (
        trail_arn       TEXT    NOT NULL,
        region          TEXT    NOT NULL,
        account_id      TEXT    NOT NULL,
        trail_name      TEXT    NOT NULL,
        home_region     TEXT    NOT NULL,
        bucket          TEXT    NOT NULL,
        prefix          TEXT    NOT NULL,
        period_start    INTEGER NOT NULL,
        closed_at       INTEGER,
        prev_bucket     TEXT,
        prev_key        TEXT,
        prev_signature  TEXT,
        prev_sha256     TEXT,
        PRIMARY KEY (trail_arn, region)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    id: 7,
    name: "event ids as tokens",
    // A unique index on random event ids dirtied one page per stored event and halved ingest; an
    // eventID is now found through a per-account token of event_keys (stored-ids.ts). Events
    // stored before this step lack that token: SqliteEventStore re-tokenises them (retokenise.ts)
    // when it finds the row below, then deletes it.
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
    // How many rows and bytes each (destination, region) has waiting, kept in the same
    // transactions that add and drop outbox rows. Each delivery pass asks for them; counting the
    // outbox instead read every waiting row, a second per 3 million rows (a bucket down for 100 s
    // at 30,000 records/s), on the request thread, every pass.
    up: `
      CREATE TABLE outbox_lanes (
        destination_id INTEGER NOT NULL,
        region         TEXT    NOT NULL,
        rows           INTEGER NOT NULL,
        bytes          INTEGER NOT NULL,
        PRIMARY KEY (destination_id, region)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO outbox_lanes (destination_id, region, rows, bytes)
        SELECT destination_id, region, count(*), sum(bytes) FROM outbox GROUP BY destination_id, region;
    `,
  },
  {
    id: 10,
    name: "insights",
    // Per-minute counts of the management events Insights analyses (write calls, and calls that
    // ended in an error), kept by the appends that store the events, in their transaction. The key
    // starts with (scope, minute): an append's rows land at the end of its scope's range, so a
    // commit dirties a page or two of it. A read-only call without an error is not counted. The
    // backfill counts the events stored before this step (the baseline covers stored history).
    //
    // A destination now has a kind: Insights files go to the CloudTrail-Insight folder through
    // their own destination of the same trail, so they wait in lanes of their own.
    //
    // insight_lanes: what the Insights worker keeps per (trail, region, type), one JSON document.
    // insight_pending: records the worker decided on and has not yet appended; a crash between
    // the decision and the append appends them at the next start, never twice (their eventIDs
    // are derived from the detection).
    up: `
      CREATE TABLE insight_counts (
        scope        INTEGER NOT NULL,
        minute       INTEGER NOT NULL,
        event_source TEXT    NOT NULL,
        event_name   TEXT    NOT NULL,
        read_only    INTEGER NOT NULL,
        error_code   TEXT    NOT NULL,
        calls        INTEGER NOT NULL,
        PRIMARY KEY (scope, minute, event_source, event_name, read_only, error_code)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO insight_counts (scope, minute, event_source, event_name, read_only, error_code, calls)
        SELECT e.scope, e.event_time / 60000 - (e.event_time % 60000 < 0), e.event_source, e.event_name,
               coalesce(e.read_only, 1), coalesce(nullif(e.record ->> '$.errorCode', ''), ''), count(*)
        FROM events AS e JOIN event_scopes AS s ON s.id = e.scope
        WHERE s.category = 'Management' AND e.event_source IS NOT NULL AND e.event_name IS NOT NULL
          AND (e.read_only = 0 OR coalesce(e.record ->> '$.errorCode', '') != '')
        GROUP BY 1, 2, 3, 4, 5, 6;

      CREATE TABLE destinations_by_kind (
        id         INTEGER PRIMARY KEY,
        account_id TEXT NOT NULL,
        trail_arn  TEXT NOT NULL,
        bucket     TEXT NOT NULL,
        prefix     TEXT NOT NULL,
        kms_key_id TEXT NOT NULL,
        kind       TEXT NOT NULL DEFAULT 'CloudTrail',
        UNIQUE (trail_arn, bucket, prefix, kms_key_id, kind)
      ) STRICT;
      INSERT INTO destinations_by_kind (id, account_id, trail_arn, bucket, prefix, kms_key_id)
        SELECT id, account_id, trail_arn, bucket, prefix, kms_key_id FROM destinations;
      DROP TABLE destinations;
      ALTER TABLE destinations_by_kind RENAME TO destinations;

      CREATE TABLE insight_lanes (
        trail_arn    TEXT NOT NULL,
        region       TEXT NOT NULL,
        insight_type TEXT NOT NULL,
        doc          TEXT NOT NULL,
        PRIMARY KEY (trail_arn, region, insight_type)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE insight_pending (
        id           INTEGER PRIMARY KEY,
        account_id   TEXT NOT NULL,
        record       TEXT NOT NULL,
        destinations TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    id: 11,
    name: "file outbox",
    // Every delivered file waits here once per output that follows delivery (sns: its
    // notification, logs: its records sent to CloudWatch Logs, events: its records sent to
    // EventBridge). The trigger puts the rows in the
    // very transaction that records the delivery, so nothing is lost and no delivery waits for an
    // output; each output's worker deletes the rows it has handled.
    up: `
      CREATE TABLE file_outbox (
        consumer  TEXT    NOT NULL,
        file_id   INTEGER NOT NULL,
        trail_arn TEXT    NOT NULL,
        region    TEXT    NOT NULL,
        bucket    TEXT    NOT NULL,
        key       TEXT    NOT NULL,
        PRIMARY KEY (consumer, trail_arn, region, file_id)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER file_outbox_fill AFTER INSERT ON delivered_files BEGIN
        INSERT INTO file_outbox (consumer, file_id, trail_arn, region, bucket, key)
          SELECT c.value, NEW.id, NEW.trail_arn, NEW.region, NEW.bucket, NEW.key FROM json_each('["sns","logs","events"]') AS c;
      END;
      CREATE TABLE output_status (
        consumer       TEXT NOT NULL,
        trail_arn      TEXT NOT NULL,
        region         TEXT NOT NULL,
        latest_success INTEGER,
        latest_error   TEXT,
        latest_attempt INTEGER,
        PRIMARY KEY (consumer, trail_arn, region)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    id: 12,
    name: "trail incarnations",
    // A trail deleted and created again under the same name is another trail: destinations and
    // status carry the trail's creation (ms; 0 where unknown), so the first trail's last files
    // and failures are not the second's. A pending file keeps why its last put failed until it is
    // completed or moved, so that status shows a lane that cannot be written until it is.
    up: `
      CREATE TABLE destinations_by_trail (
        id            INTEGER PRIMARY KEY,
        account_id    TEXT    NOT NULL,
        trail_arn     TEXT    NOT NULL,
        trail_created INTEGER NOT NULL DEFAULT 0,
        bucket        TEXT    NOT NULL,
        prefix        TEXT    NOT NULL,
        kms_key_id    TEXT    NOT NULL,
        kind          TEXT    NOT NULL DEFAULT 'CloudTrail',
        UNIQUE (trail_arn, trail_created, bucket, prefix, kms_key_id, kind)
      ) STRICT;
      CREATE TEMP TABLE trail_created AS
        SELECT doc ->> '$.arn' AS arn,
               CAST(round((julianday(doc ->> '$.createdAt') - 2440587.5) * 86400000) AS INTEGER) AS created
        FROM trails;
      INSERT INTO destinations_by_trail (id, account_id, trail_arn, trail_created, bucket, prefix, kms_key_id, kind)
        SELECT d.id, d.account_id, d.trail_arn,
               coalesce((SELECT c.created FROM temp.trail_created AS c WHERE c.arn = d.trail_arn), 0),
               d.bucket, d.prefix, d.kms_key_id, d.kind
        FROM destinations AS d;
      DROP TABLE destinations;
      ALTER TABLE destinations_by_trail RENAME TO destinations;

      ALTER TABLE delivery_status ADD COLUMN trail_created INTEGER NOT NULL DEFAULT 0;
      UPDATE delivery_status SET trail_created =
        coalesce((SELECT c.created FROM temp.trail_created AS c WHERE c.arn = delivery_status.trail_arn), 0);
      DROP TABLE temp.trail_created;

      ALTER TABLE pending_files ADD COLUMN error TEXT;
      ALTER TABLE pending_files ADD COLUMN failed_at INTEGER;
    `,
  },
  {
    id: 13,
    name: "outputs per trail",
    // A trail deleted and created again under the same name starts with no output status and no
    // waiting files, as on AWS: deleting or creating a trail drops what output_status and
    // file_outbox hold under its ARN, in the statement's transaction. A file delivered later for
    // the deleted trail (its final file) carries that trail's creation, its destination's, and is
    // not sent for the new one.
    up: `
      ALTER TABLE file_outbox ADD COLUMN trail_created INTEGER NOT NULL DEFAULT 0;
      UPDATE file_outbox SET trail_created = coalesce(
        (SELECT d.trail_created FROM delivered_files AS f JOIN destinations AS d ON d.id = f.destination_id
         WHERE f.id = file_outbox.file_id), 0);
      DROP TRIGGER file_outbox_fill;
      CREATE TRIGGER file_outbox_fill AFTER INSERT ON delivered_files BEGIN
        INSERT INTO file_outbox (consumer, file_id, trail_arn, trail_created, region, bucket, key)
          SELECT c.value, NEW.id, NEW.trail_arn,
                 coalesce((SELECT d.trail_created FROM destinations AS d WHERE d.id = NEW.destination_id), 0),
                 NEW.region, NEW.bucket, NEW.key
          FROM json_each('["sns","logs","events"]') AS c;
      END;
      CREATE TRIGGER trail_outputs_deleted AFTER DELETE ON trails BEGIN
        DELETE FROM output_status WHERE trail_arn = OLD.doc ->> '$.arn';
        DELETE FROM file_outbox WHERE trail_arn = OLD.doc ->> '$.arn';
      END;
      CREATE TRIGGER trail_outputs_created AFTER INSERT ON trails BEGIN
        DELETE FROM output_status WHERE trail_arn = NEW.doc ->> '$.arn';
        DELETE FROM file_outbox WHERE trail_arn = NEW.doc ->> '$.arn';
      END;
    `,
  },
];
