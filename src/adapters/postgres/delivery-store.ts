import type pg from "pg";
import type {
  DeliveredFile,
  DeliveryStatus,
  DeliveryStore,
  Destination,
  OutboxBatch,
  PendingFile,
} from "../../ports/index.ts";
import { FILE_CONSUMERS } from "../sql/file-outbox-rows.ts";
import {
  createdMs,
  type DeliveredRow,
  type DestinationRow,
  type OutboxRow,
  type StatusRow,
  toBatch,
  toDeliveredFile,
  toDestination,
  toStatus,
} from "../sql/outbox-rows.ts";
import { inTransaction, LOCK_SPACE } from "./pool.ts";

/**
 * The advisory lock (second key, with LOCK_SPACE) between appends and the delivery reader.
 * Outbox ids come from a sequence when a row is inserted, but rows become visible when their
 * transaction commits, which may be later than a row with a higher id: a reader that took ids up
 * to N could miss a lower id committed afterwards, and `completeFile` would delete it undelivered.
 * So an append holds this lock shared from before its outbox ids are handed out until it commits,
 * and `nextBatch` takes it exclusively, waiting out the appends in flight: every id it does not
 * see is handed out later, above every id it read.
 */
export const OUTBOX_LOCK = 1;

const SELECT_ROWS = `SELECT o.id AS id, e.record AS record, o.bytes AS bytes, e.event_time AS event_time
  FROM outbox AS o JOIN events AS e ON e.id = o.event_rowid`;

/**
 * A trail's status is its own: an earlier trail of the same name (an older creation, $4) writes
 * nothing over it, and a newer one starts afresh.
 */
const ATTEMPT_OK = `
  INSERT INTO delivery_status
    (trail_arn, region, trail_created, latest_delivery, latest_error, latest_attempt, latest_success_attempt)
  VALUES ($1, $2, $4, $3, NULL, $3, $3)
  ON CONFLICT (trail_arn, region) DO UPDATE SET trail_created = $4, latest_delivery = $3, latest_error = NULL,
    latest_attempt = $3, latest_success_attempt = $3
  WHERE $4 >= delivery_status.trail_created`;

const ATTEMPT_FAILED = `
  INSERT INTO delivery_status (trail_arn, region, trail_created, latest_error, latest_attempt)
  VALUES ($1, $2, $4, $5, $3)
  ON CONFLICT (trail_arn, region) DO UPDATE SET trail_created = $4,
    latest_delivery = CASE WHEN $4 = delivery_status.trail_created THEN delivery_status.latest_delivery END,
    latest_success_attempt =
      CASE WHEN $4 = delivery_status.trail_created THEN delivery_status.latest_success_attempt END,
    latest_error = $5, latest_attempt = $3
  WHERE $4 >= delivery_status.trail_created`;

const TRAIL_OF = "SELECT trail_arn, trail_created FROM destinations WHERE id = $1";

/** The outbox and its bookkeeping, in the same PostgreSQL schema as the events. */
export class PgDeliveryStore implements DeliveryStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async destinationFor(d: Omit<Destination, "id">): Promise<number> {
    const args = [
      d.trailArn,
      d.bucket,
      d.prefix ?? "",
      d.kmsKeyId ?? "",
      createdMs(d.trailCreatedAt),
      d.kind ?? "CloudTrail",
    ];
    const find = `SELECT id FROM destinations WHERE trail_arn = $1 AND bucket = $2 AND prefix = $3
      AND kms_key_id = $4 AND trail_created = $5 AND kind = $6`;
    const found = await this.#pool.query<{ id: number }>(find, args);
    if (found.rows[0]) return found.rows[0].id;
    // another node may insert the same settings at the same moment: the unique key picks one
    const { rows } = await this.#pool.query<{ id: number }>(
      `WITH added AS (
         INSERT INTO destinations (trail_arn, bucket, prefix, kms_key_id, trail_created, kind, account_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id)
       SELECT id FROM added`,
      [...args, d.accountId],
    );
    if (rows[0]) return rows[0].id;
    return (await this.#pool.query<{ id: number }>(find, args)).rows[0]!.id;
  }

  async destination(id: number): Promise<Destination | undefined> {
    const { rows } = await this.#pool.query<DestinationRow>("SELECT * FROM destinations WHERE id = $1", [id]);
    return rows[0] && toDestination(rows[0]);
  }

  async backlog() {
    // a lane's oldest row is its first: rows are numbered as they are enqueued
    const { rows } = await this.#pool.query<{
      destination_id: number;
      region: string;
      rows: number;
      bytes: number;
      oldest: number | null;
    }>(
      `SELECT l.destination_id, l.region, l.rows, l.bytes,
         (SELECT o.enqueued_at FROM outbox AS o WHERE o.destination_id = l.destination_id AND o.region = l.region
          ORDER BY o.id LIMIT 1) AS oldest
       FROM outbox_lanes AS l`,
    );
    return rows.flatMap((r) =>
      r.oldest === null
        ? []
        : [
            {
              destinationId: r.destination_id,
              region: r.region,
              rows: r.rows,
              bytes: r.bytes,
              oldestEnqueuedAt: new Date(r.oldest),
            },
          ],
    );
  }

  async nextBatch(
    destinationId: number,
    region: string,
    maxRecords: number,
    maxBytes: number,
  ): Promise<OutboxBatch | undefined> {
    const lane = await inTransaction(this.#pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1, $2)", [LOCK_SPACE, OUTBOX_LOCK]);
      return (
        await client.query<OutboxRow>(
          `${SELECT_ROWS} WHERE o.destination_id = $1 AND o.region = $2 ORDER BY o.id LIMIT $3`,
          [destinationId, region, maxRecords],
        )
      ).rows;
    });
    const rows: OutboxRow[] = [];
    let bytes = 0;
    for (const row of lane) {
      if (rows.length > 0 && bytes + row.bytes > maxBytes) break;
      rows.push(row);
      bytes += row.bytes;
    }
    return toBatch(rows);
  }

  async batchOf(file: PendingFile): Promise<OutboxBatch | undefined> {
    const { rows } = await this.#pool.query<OutboxRow>(
      `${SELECT_ROWS} WHERE o.destination_id = $1 AND o.region = $2 AND o.id BETWEEN $3 AND $4 ORDER BY o.id`,
      [file.destinationId, file.region, file.firstId, file.lastId],
    );
    return toBatch(rows);
  }

  async writePending(file: PendingFile): Promise<void> {
    await this.#pool.query(
      "INSERT INTO pending_files (destination_id, region, key, first_id, last_id) VALUES ($1, $2, $3, $4, $5)",
      [file.destinationId, file.region, file.key, file.firstId, file.lastId],
    );
  }

  async pendingFiles(): Promise<PendingFile[]> {
    const { rows } = await this.#pool.query<PendingFile>(
      `SELECT destination_id AS "destinationId", region, key, first_id AS "firstId", last_id AS "lastId"
       FROM pending_files`,
    );
    return rows;
  }

  async completeFile(file: PendingFile, d: DeliveredFile): Promise<void> {
    const range = [file.destinationId, file.region, file.firstId, file.lastId];
    await inTransaction(this.#pool, async (client) => {
      // Another node may have re-put and completed this very file (it saw it pending): the first
      // to drop the pending entry records the delivery, the other records nothing.
      const pending = await client.query(
        `DELETE FROM pending_files
         WHERE destination_id = $1 AND region = $2 AND first_id = $3 AND last_id = $4 AND key = $5`,
        [...range, file.key],
      );
      if (pending.rowCount === 0) return;
      const taken = await client.query<{ n: number; b: number }>(
        `WITH gone AS (
           DELETE FROM outbox WHERE destination_id = $1 AND region = $2 AND id BETWEEN $3 AND $4 RETURNING bytes)
         SELECT count(*)::bigint AS n, coalesce(sum(bytes), 0)::bigint AS b FROM gone`,
        range,
      );
      const { n, b } = taken.rows[0]!;
      await client.query(
        "UPDATE outbox_lanes SET rows = rows - $3, bytes = bytes - $4 WHERE destination_id = $1 AND region = $2",
        [file.destinationId, file.region, n, b],
      );
      await client.query("DELETE FROM outbox_lanes WHERE destination_id = $1 AND region = $2 AND rows <= 0", [
        file.destinationId,
        file.region,
      ]);
      const trail = await client.query<{ trail_created: number }>(TRAIL_OF, [d.destinationId]);
      const created = trail.rows[0]?.trail_created ?? 0;
      const inserted = await client.query<{ id: number }>(
        `INSERT INTO delivered_files (destination_id, trail_arn, region, bucket, key, sha256, oldest, newest, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [
          d.destinationId,
          d.trailArn,
          d.region,
          d.bucket,
          d.key,
          d.sha256,
          d.oldestEventTime.getTime(),
          d.newestEventTime.getTime(),
          d.deliveredAt.getTime(),
        ],
      );
      // the file waits for each output that follows delivery, from this very commit on
      await client.query(
        `INSERT INTO file_outbox (consumer, file_id, trail_arn, trail_created, region, bucket, key)
         SELECT c, $2, $3, $4, $5, $6, $7 FROM unnest($1::text[]) AS c`,
        [FILE_CONSUMERS, inserted.rows[0]!.id, d.trailArn, created, d.region, d.bucket, d.key],
      );
      await client.query(ATTEMPT_OK, [d.trailArn, d.region, d.deliveredAt.getTime(), created]);
    });
  }

  async moveLane(fromDestinationId: number, region: string, toDestinationId: number): Promise<boolean> {
    return inTransaction(this.#pool, async (client) => {
      const target = await client.query(
        "SELECT 1 FROM pending_files WHERE destination_id = $1 AND region = $2",
        [toDestinationId, region],
      );
      if ((target.rowCount ?? 0) > 0) return false;
      await client.query("UPDATE outbox SET destination_id = $1 WHERE destination_id = $2 AND region = $3", [
        toDestinationId,
        fromDestinationId,
        region,
      ]);
      const lane = await client.query<{ rows: number; bytes: number }>(
        "DELETE FROM outbox_lanes WHERE destination_id = $1 AND region = $2 RETURNING rows, bytes",
        [fromDestinationId, region],
      );
      const moved = lane.rows[0];
      if (moved !== undefined) {
        await client.query(
          `INSERT INTO outbox_lanes (destination_id, region, rows, bytes) VALUES ($1, $2, $3, $4)
           ON CONFLICT (destination_id, region) DO UPDATE
             SET rows = outbox_lanes.rows + excluded.rows, bytes = outbox_lanes.bytes + excluded.bytes`,
          [toDestinationId, region, moved.rows, moved.bytes],
        );
      }
      await client.query("DELETE FROM pending_files WHERE destination_id = $1 AND region = $2", [
        fromDestinationId,
        region,
      ]);
      return true;
    });
  }

  async recordAttempt(trailArn: string, region: string, at: Date, error?: string): Promise<void> {
    if (error === undefined) await this.#pool.query(ATTEMPT_OK, [trailArn, region, at.getTime(), 0]);
    else await this.#pool.query(ATTEMPT_FAILED, [trailArn, region, at.getTime(), 0, error]);
  }

  async putFailed(file: PendingFile, at: Date, error: string): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `UPDATE pending_files SET error = $1, failed_at = $2
         WHERE destination_id = $3 AND region = $4 AND key = $5`,
        [error, at.getTime(), file.destinationId, file.region, file.key],
      );
      const trail = (
        await client.query<{ trail_arn: string; trail_created: number }>(TRAIL_OF, [file.destinationId])
      ).rows[0];
      if (trail === undefined) return;
      await client.query(ATTEMPT_FAILED, [
        trail.trail_arn,
        file.region,
        at.getTime(),
        trail.trail_created,
        error,
      ]);
    });
  }

  async status(trailArn: string, region: string, trailCreatedAt?: Date): Promise<DeliveryStatus> {
    const args = [trailArn, region, createdMs(trailCreatedAt)];
    const { rows } = await this.#pool.query<StatusRow>(
      "SELECT * FROM delivery_status WHERE trail_arn = $1 AND region = $2 AND trail_created = $3",
      args,
    );
    const lane = await this.#pool.query<{ error: string }>(
      `SELECT p.error FROM pending_files AS p JOIN destinations AS d ON d.id = p.destination_id
       WHERE d.trail_arn = $1 AND p.region = $2 AND d.trail_created = $3 AND p.error IS NOT NULL
       ORDER BY p.failed_at DESC LIMIT 1`,
      args,
    );
    return toStatus(rows[0], lane.rows[0]?.error);
  }

  async deliveredFiles(trailArn: string, region: string, since: Date, until: Date): Promise<DeliveredFile[]> {
    const { rows } = await this.#pool.query<DeliveredRow>(
      `SELECT * FROM delivered_files
       WHERE trail_arn = $1 AND region = $2 AND delivered_at >= $3 AND delivered_at < $4
       ORDER BY delivered_at, id`,
      [trailArn, region, since.getTime(), until.getTime()],
    );
    return rows.map(toDeliveredFile);
  }
}
