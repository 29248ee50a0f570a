/**
 * One schema step. `id`s increase; a shipped migration is never edited. Numbers are handed out
 * ahead of the steps (work in parallel), so a build may lack some: each is applied once, whenever
 * it first appears.
 */
export interface PgMigration {
  readonly id: number;
  readonly name: string;
  readonly up: string;
}

/*
 * The PostgreSQL schema, oldest first; append new steps, never edit one that has shipped.
 * Times are milliseconds since the epoch in BIGINT columns, as in the SQLite schema, so that
 * both backends compare and round the same way. Text that is sorted or compared for order uses
 * the "C" collation: byte order of UTF-8, which is SQLite's order and code-point order.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    id: 1,
    name: "trails",
    up: `
      CREATE TABLE trails (
        account_id  TEXT    COLLATE "C" NOT NULL,
        home_region TEXT    COLLATE "C" NOT NULL,
        name        TEXT    COLLATE "C" NOT NULL,
        version     INTEGER NOT NULL,
        doc         TEXT    NOT NULL,
        PRIMARY KEY (account_id, home_region, name)
      );
    `,
  },
  {
    id: 2,
    name: "events",
    // (account_id, event_id) is unique: a retry is refused by the database whichever node sends it.
    // Lookup attributes are tokens of one GIN-indexed array instead of one B-tree per attribute.
    up: `
      CREATE TABLE events (
        id            BIGSERIAL PRIMARY KEY,
        account_id    TEXT   COLLATE "C" NOT NULL,
        region        TEXT   COLLATE "C" NOT NULL,
        category      TEXT   COLLATE "C" NOT NULL,
        event_time    BIGINT NOT NULL,
        event_id      TEXT   COLLATE "C" NOT NULL,
        event_name    TEXT,
        event_source  TEXT,
        read_only     BOOLEAN,
        username      TEXT,
        access_key_id TEXT,
        resources     TEXT,
        tokens        TEXT[] NOT NULL,
        record        TEXT   NOT NULL,
        UNIQUE (account_id, event_id)
      );
      CREATE INDEX events_by_time ON events (account_id, region, category, event_time DESC, event_id DESC);
      CREATE INDEX events_by_token ON events USING gin (tokens);
      CREATE INDEX events_by_age ON events (event_time);
    `,
  },
  {
    id: 3,
    name: "delivery",
    up: `
      CREATE TABLE destinations (
        id         BIGSERIAL PRIMARY KEY,
        account_id TEXT NOT NULL,
        trail_arn  TEXT NOT NULL,
        bucket     TEXT NOT NULL,
        prefix     TEXT NOT NULL,
        kms_key_id TEXT NOT NULL,
        UNIQUE (trail_arn, bucket, prefix, kms_key_id)
      );

      CREATE TABLE outbox (
        id             BIGSERIAL PRIMARY KEY,
        destination_id BIGINT NOT NULL,
        region         TEXT   COLLATE "C" NOT NULL,
        event_rowid    BIGINT NOT NULL,
        bytes          INTEGER NOT NULL,
        enqueued_at    BIGINT NOT NULL
      );
      CREATE INDEX outbox_by_lane ON outbox (destination_id, region, id);
      CREATE INDEX outbox_by_event ON outbox (event_rowid);

      CREATE TABLE outbox_lanes (
        destination_id BIGINT NOT NULL,
        region         TEXT   COLLATE "C" NOT NULL,
        rows           BIGINT NOT NULL,
        bytes          BIGINT NOT NULL,
        PRIMARY KEY (destination_id, region)
      );

      CREATE TABLE pending_files (
        destination_id BIGINT NOT NULL,
        region         TEXT   NOT NULL,
        key            TEXT   NOT NULL,
        first_id       BIGINT NOT NULL,
        last_id        BIGINT NOT NULL,
        PRIMARY KEY (destination_id, region)
      );

      CREATE TABLE delivered_files (
        id             BIGSERIAL PRIMARY KEY,
        destination_id BIGINT NOT NULL,
        trail_arn      TEXT   NOT NULL,
        region         TEXT   NOT NULL,
        bucket         TEXT   NOT NULL,
        key            TEXT   NOT NULL,
        sha256         TEXT   NOT NULL,
        oldest         BIGINT NOT NULL,
        newest         BIGINT NOT NULL,
        delivered_at   BIGINT NOT NULL
      );
      CREATE INDEX delivered_by_trail ON delivered_files (trail_arn, region, delivered_at);

      CREATE TABLE delivery_status (
        trail_arn              TEXT NOT NULL,
        region                 TEXT NOT NULL,
        latest_delivery        BIGINT,
        latest_error           TEXT,
        latest_attempt         BIGINT,
        latest_success_attempt BIGINT,
        PRIMARY KEY (trail_arn, region)
      );
    `,
  },
  {
    id: 4,
    name: "signing keys",
    // Private keys in the clear, as in SQLite: the database is for the service's role only.
    up: `
      CREATE TABLE signing_keys (
        id          BIGSERIAL PRIMARY KEY,
        region      TEXT   NOT NULL,
        fingerprint TEXT   NOT NULL UNIQUE,
        public_key  BYTEA  NOT NULL,
        private_key TEXT,
        valid_from  BIGINT NOT NULL,
        valid_to    BIGINT NOT NULL
      );
      CREATE INDEX signing_keys_by_region ON signing_keys (region, valid_from);
    `,
  },
  {
    id: 5,
    name: "digest chains",
    up: `
      CREATE TABLE digest_chains (
        trail_arn      TEXT   COLLATE "C" NOT NULL,
        region         TEXT   COLLATE "C" NOT NULL,
        account_id     TEXT   NOT NULL,
        trail_name     TEXT   NOT NULL,
        home_region    TEXT   NOT NULL,
        bucket         TEXT   NOT NULL,
        prefix         TEXT   NOT NULL,
        period_start   BIGINT NOT NULL,
        closed_at      BIGINT,
        prev_bucket    TEXT,
        prev_key       TEXT,
        prev_signature TEXT,
        prev_sha256    TEXT,
        PRIMARY KEY (trail_arn, region)
      );
    `,
  },
  {
    id: 6,
    name: "trail incarnations",
    // As SQLite's step 12: destinations and status carry the trail's creation (ms; 0 where
    // unknown), and a pending file keeps why its last put failed.
    up: `
      ALTER TABLE destinations ADD COLUMN trail_created BIGINT NOT NULL DEFAULT 0;
      ALTER TABLE delivery_status ADD COLUMN trail_created BIGINT NOT NULL DEFAULT 0;
      CREATE TEMP TABLE trail_created ON COMMIT DROP AS
        SELECT doc::jsonb ->> 'arn' AS arn,
               round(extract(epoch FROM (doc::jsonb ->> 'createdAt')::timestamptz) * 1000)::bigint AS created
        FROM trails;
      UPDATE destinations AS d SET trail_created = c.created FROM trail_created AS c WHERE c.arn = d.trail_arn;
      UPDATE delivery_status AS s SET trail_created = c.created FROM trail_created AS c WHERE c.arn = s.trail_arn;
      ALTER TABLE destinations DROP CONSTRAINT destinations_trail_arn_bucket_prefix_kms_key_id_key;
      ALTER TABLE destinations ADD UNIQUE (trail_arn, trail_created, bucket, prefix, kms_key_id);
      ALTER TABLE pending_files ADD COLUMN error TEXT;
      ALTER TABLE pending_files ADD COLUMN failed_at BIGINT;
    `,
  },
  {
    id: 7,
    name: "leases",
    // who works a delivery lane, a digest chain or a job now, and until when (ms since the epoch)
    up: `
      CREATE TABLE leases (
        name       TEXT   COLLATE "C" PRIMARY KEY,
        holder     TEXT   NOT NULL,
        expires_at BIGINT NOT NULL
      );
    `,
  },
  {
    id: 8,
    name: "file outbox",
    // As SQLite's step 11: every delivered file waits here once per output that follows delivery
    // (sns, logs, events), put by completeFile in the transaction that records the delivery; each
    // output's worker deletes the rows it has handled. trail_created (as SQLite's step 13): which
    // trail of that ARN delivered the file (its destination's), so that a trail created again
    // under the same name is not sent the files of the one deleted.
    up: `
      CREATE TABLE file_outbox (
        consumer      TEXT   COLLATE "C" NOT NULL,
        file_id       BIGINT NOT NULL,
        trail_arn     TEXT   COLLATE "C" NOT NULL,
        trail_created BIGINT NOT NULL DEFAULT 0,
        region        TEXT   COLLATE "C" NOT NULL,
        bucket        TEXT   NOT NULL,
        key           TEXT   NOT NULL,
        PRIMARY KEY (consumer, trail_arn, region, file_id)
      );
      CREATE TABLE output_status (
        consumer       TEXT   COLLATE "C" NOT NULL,
        trail_arn      TEXT   COLLATE "C" NOT NULL,
        region         TEXT   COLLATE "C" NOT NULL,
        latest_success BIGINT,
        latest_error   TEXT,
        latest_attempt BIGINT,
        PRIMARY KEY (consumer, trail_arn, region)
      );
    `,
  },
  {
    id: 9,
    name: "outputs per trail",
    // As SQLite's step 13: deleting or creating a trail drops what output_status and file_outbox
    // hold under its ARN, in the statement's transaction, so that a trail created again under a
    // deleted one's name starts with no output status and no waiting files, as on AWS.
    up: `
      CREATE FUNCTION trail_outputs_dropped() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE arn text;
      BEGIN
        IF TG_OP = 'DELETE' THEN arn := OLD.doc::jsonb ->> 'arn'; ELSE arn := NEW.doc::jsonb ->> 'arn'; END IF;
        DELETE FROM output_status WHERE trail_arn = arn;
        DELETE FROM file_outbox WHERE trail_arn = arn;
        RETURN NULL;
      END $$;
      CREATE TRIGGER trail_outputs_dropped AFTER INSERT OR DELETE ON trails
        FOR EACH ROW EXECUTE FUNCTION trail_outputs_dropped();
    `,
  },
  {
    id: 10,
    name: "insights",
    // As SQLite's step 10: per-minute counts of the management events Insights analyses (write
    // calls, and calls that ended in an error), kept by the appends that store the events, in
    // their transaction; a read-only call without an error is not counted. The backfill counts
    // the events stored before this step (the baseline covers stored history).
    // insight_lanes: what the Insights worker keeps per (trail, region, type), one JSON document.
    // insight_pending: records the worker decided on and has not yet appended (their eventIDs are
    // derived from the detection: appending one again after a crash is refused as a duplicate).
    up: `
      CREATE TABLE insight_counts (
        account_id   TEXT    COLLATE "C" NOT NULL,
        region       TEXT    COLLATE "C" NOT NULL,
        minute       BIGINT  NOT NULL,
        event_source TEXT    COLLATE "C" NOT NULL,
        event_name   TEXT    COLLATE "C" NOT NULL,
        read_only    BOOLEAN NOT NULL,
        error_code   TEXT    COLLATE "C" NOT NULL,
        calls        BIGINT  NOT NULL,
        PRIMARY KEY (account_id, region, minute, event_source, event_name, read_only, error_code)
      );
      CREATE INDEX insight_counts_by_minute ON insight_counts (minute);
      INSERT INTO insight_counts (account_id, region, minute, event_source, event_name, read_only, error_code, calls)
        SELECT account_id, region, floor(event_time / 60000.0)::bigint, event_source, event_name,
               coalesce(read_only, true), coalesce(record::jsonb ->> 'errorCode', ''), count(*)
        FROM events
        WHERE category = 'Management' AND event_source IS NOT NULL AND event_name IS NOT NULL
          AND (read_only = false OR coalesce(record::jsonb ->> 'errorCode', '') != '')
        GROUP BY 1, 2, 3, 4, 5, 6, 7;

      CREATE TABLE insight_lanes (
        trail_arn    TEXT COLLATE "C" NOT NULL,
        region       TEXT COLLATE "C" NOT NULL,
        insight_type TEXT COLLATE "C" NOT NULL,
        doc          TEXT NOT NULL,
        PRIMARY KEY (trail_arn, region, insight_type)
      );

      CREATE TABLE insight_pending (
        id           BIGSERIAL PRIMARY KEY,
        account_id   TEXT NOT NULL,
        record       TEXT NOT NULL,
        destinations TEXT NOT NULL
      );
    `,
  },
  {
    id: 11,
    name: "destination kinds",
    // As SQLite's step 10: Insights files go to the CloudTrail-Insight folder through their own
    // destination of the same trail, so they wait in lanes of their own.
    up: `
      DO $$
      DECLARE c text;
      BEGIN
        FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'destinations'::regclass AND contype = 'u' LOOP
          EXECUTE format('ALTER TABLE destinations DROP CONSTRAINT %I', c);
        END LOOP;
      END $$;
      ALTER TABLE destinations ADD COLUMN kind TEXT NOT NULL DEFAULT 'CloudTrail';
      ALTER TABLE destinations ADD CONSTRAINT destinations_settings
        UNIQUE (trail_arn, trail_created, bucket, prefix, kms_key_id, kind);
    `,
  },
];
