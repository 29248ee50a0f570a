import type { Database, Statement } from "better-sqlite3";
import type {
  DeliveredFile,
  DeliveryStatus,
  DeliveryStore,
  Destination,
  PendingFile,
} from "../../ports/index.ts";
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
import type { InTurn } from "./write-lock.ts";

/**
 * Adds an append's outbox rows to their lanes' counts, in the append's own transaction; the rows
 * as the JSON list the outbox insert takes ([destination, region, event rowid, bytes] each).
 */
export const ADD_TO_LANES = `
  INSERT INTO outbox_lanes (destination_id, region, rows, bytes)
    SELECT value ->> 0, value ->> 1, count(*), sum(value ->> 3) FROM json_each(?) WHERE true GROUP BY 1, 2
  ON CONFLICT (destination_id, region) DO UPDATE SET rows = rows + excluded.rows, bytes = bytes + excluded.bytes`;

/** One lane's count grown by rows moved into it (moveLane). */
const ADD_TO_LANE_SQL = `
  INSERT INTO outbox_lanes (destination_id, region, rows, bytes) VALUES (?, ?, ?, ?)
  ON CONFLICT (destination_id, region) DO UPDATE SET rows = rows + excluded.rows, bytes = bytes + excluded.bytes`;

/** The outbox and its bookkeeping, in the same SQLite database as the events. */
export class SqliteDeliveryStore implements DeliveryStore {
  readonly #findDestination: Statement;
  readonly #insertDestination: Statement;
  readonly #destinationById: Statement;
  readonly #backlog: Statement;
  readonly #lane: Statement;
  readonly #range: Statement;
  readonly #writePending: Statement;
  readonly #move: (from: number, region: string, to: number) => boolean;
  readonly #pending: Statement;
  readonly #deleteRange: Statement;
  readonly #deletePending: Statement;
  readonly #takeFromLane: Statement;
  readonly #dropEmptyLane: Statement;
  readonly #insertDelivered: Statement;
  readonly #attemptOk: Statement;
  readonly #attemptFailed: Statement;
  readonly #status: Statement;
  readonly #laneError: Statement;
  readonly #failed: (file: PendingFile, at: Date, error: string) => void;
  readonly #delivered: Statement;
  readonly #complete: (file: PendingFile, d: DeliveredFile) => void;
  /** Runs a write in this thread's turn (see WriteLock); at once without other writing threads. */
  readonly #write: InTurn;

  constructor(db: Database, inTurn?: InTurn) {
    this.#write = inTurn ?? ((fn) => fn());
    this.#findDestination = db.prepare(
      "SELECT id FROM destinations WHERE trail_arn = ? AND trail_created = ? AND bucket = ? AND prefix = ? AND kms_key_id = ? AND kind = ?",
    );
    this.#insertDestination = db.prepare(
      "INSERT INTO destinations (account_id, trail_arn, trail_created, bucket, prefix, kms_key_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.#destinationById = db.prepare("SELECT * FROM destinations WHERE id = ?");
    // A lane's oldest row is its first: rows are numbered as they commit, and their enqueue time is
    // when their batch arrived, so a later row can be older only by the time a batch waited for
    // its write turn.
    this.#backlog = db.prepare(
      `SELECT l.destination_id AS destinationId, l.region AS region, l.rows AS rows, l.bytes AS bytes,
         (SELECT o.enqueued_at FROM outbox AS o WHERE o.destination_id = l.destination_id AND o.region = l.region
          ORDER BY o.id LIMIT 1) AS oldest
       FROM outbox_lanes AS l`,
    );
    const select = `SELECT o.id AS id, e.record AS record, o.bytes AS bytes, (o.event_rowid >> 21) AS event_time
       FROM outbox AS o JOIN events AS e ON e.id = o.event_rowid`;
    this.#lane = db.prepare(`${select} WHERE o.destination_id = ? AND o.region = ? ORDER BY o.id LIMIT ?`);
    this.#range = db.prepare(
      `${select} WHERE o.destination_id = ? AND o.region = ? AND o.id BETWEEN ? AND ? ORDER BY o.id`,
    );
    this.#writePending = db.prepare(
      "INSERT INTO pending_files (destination_id, region, key, first_id, last_id) VALUES (?, ?, ?, ?, ?)",
    );
    this.#pending = db.prepare(
      "SELECT destination_id AS destinationId, region, key, first_id AS firstId, last_id AS lastId FROM pending_files",
    );
    this.#deleteRange = db.prepare(
      "DELETE FROM outbox WHERE destination_id = ? AND region = ? AND id BETWEEN ? AND ?",
    );
    this.#deletePending = db.prepare("DELETE FROM pending_files WHERE destination_id = ? AND region = ?");
    this.#takeFromLane = db.prepare(
      `UPDATE outbox_lanes SET rows = rows - taken.n, bytes = bytes - taken.b
       FROM (SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox
             WHERE destination_id = ? AND region = ? AND id BETWEEN ? AND ?) AS taken
       WHERE destination_id = ? AND region = ?`,
    );
    this.#dropEmptyLane = db.prepare(
      "DELETE FROM outbox_lanes WHERE destination_id = ? AND region = ? AND rows <= 0",
    );
    this.#insertDelivered = db.prepare(
      `INSERT INTO delivered_files (destination_id, trail_arn, region, bucket, key, sha256, oldest, newest, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // a trail's status is its own: an earlier trail of the same name (an older creation) writes
    // nothing over it, and a newer one starts afresh
    this.#attemptOk = db.prepare(
      `INSERT INTO delivery_status (trail_arn, region, trail_created, latest_delivery, latest_error, latest_attempt, latest_success_attempt)
       VALUES (@arn, @region, @created, @at, NULL, @at, @at)
       ON CONFLICT (trail_arn, region) DO UPDATE SET trail_created = @created, latest_delivery = @at,
         latest_error = NULL, latest_attempt = @at, latest_success_attempt = @at
       WHERE @created >= delivery_status.trail_created`,
    );
    this.#attemptFailed = db.prepare(
      `INSERT INTO delivery_status (trail_arn, region, trail_created, latest_error, latest_attempt)
       VALUES (@arn, @region, @created, @error, @at)
       ON CONFLICT (trail_arn, region) DO UPDATE SET trail_created = @created,
         latest_delivery = CASE WHEN @created = trail_created THEN latest_delivery END,
         latest_success_attempt = CASE WHEN @created = trail_created THEN latest_success_attempt END,
         latest_error = @error, latest_attempt = @at
       WHERE @created >= delivery_status.trail_created`,
    );
    this.#status = db.prepare(
      "SELECT * FROM delivery_status WHERE trail_arn = ? AND region = ? AND trail_created = ?",
    );
    this.#laneError = db.prepare(
      `SELECT p.error AS error FROM pending_files AS p JOIN destinations AS d ON d.id = p.destination_id
       WHERE d.trail_arn = ? AND d.trail_created = ? AND p.region = ? AND p.error IS NOT NULL
       ORDER BY p.failed_at DESC LIMIT 1`,
    );
    const createdOf = db.prepare("SELECT trail_arn, trail_created FROM destinations WHERE id = ?");
    const trailOf = (destinationId: number) =>
      createdOf.get(destinationId) as { trail_arn: string; trail_created: number } | undefined;
    const markFailed = db.prepare(
      "UPDATE pending_files SET error = ?, failed_at = ? WHERE destination_id = ? AND region = ? AND key = ?",
    );
    this.#failed = db.transaction((file: PendingFile, at: Date, error: string) => {
      markFailed.run(error, at.getTime(), file.destinationId, file.region, file.key);
      const trail = trailOf(file.destinationId);
      if (trail === undefined) return;
      const params = { arn: trail.trail_arn, region: file.region, created: trail.trail_created };
      this.#attemptFailed.run({ ...params, at: at.getTime(), error });
    });
    this.#delivered = db.prepare(
      `SELECT * FROM delivered_files WHERE trail_arn = ? AND region = ? AND delivered_at >= ? AND delivered_at < ?
       ORDER BY delivered_at, id`,
    );
    const pendingOf = db.prepare("SELECT 1 FROM pending_files WHERE destination_id = ? AND region = ?");
    const moveRows = db.prepare(
      "UPDATE outbox SET destination_id = ? WHERE destination_id = ? AND region = ?",
    );
    const laneOf = db.prepare("SELECT rows, bytes FROM outbox_lanes WHERE destination_id = ? AND region = ?");
    const addToLane = db.prepare(ADD_TO_LANE_SQL);
    const dropLane = db.prepare("DELETE FROM outbox_lanes WHERE destination_id = ? AND region = ?");
    this.#move = db.transaction((from: number, region: string, to: number): boolean => {
      if (pendingOf.get(to, region) !== undefined) return false;
      moveRows.run(to, from, region);
      const lane = laneOf.get(from, region) as { rows: number; bytes: number } | undefined;
      if (lane !== undefined) {
        addToLane.run(to, region, lane.rows, lane.bytes);
        dropLane.run(from, region);
      }
      this.#deletePending.run(from, region);
      return true;
    });
    this.#complete = db.transaction((file: PendingFile, d: DeliveredFile) => {
      const range = [file.destinationId, file.region, file.firstId, file.lastId] as const;
      this.#takeFromLane.run(...range, file.destinationId, file.region);
      this.#deleteRange.run(...range);
      this.#dropEmptyLane.run(file.destinationId, file.region);
      this.#deletePending.run(file.destinationId, file.region);
      this.#insertDelivered.run(
        d.destinationId,
        d.trailArn,
        d.region,
        d.bucket,
        d.key,
        d.sha256,
        d.oldestEventTime.getTime(),
        d.newestEventTime.getTime(),
        d.deliveredAt.getTime(),
      );
      const created = trailOf(d.destinationId)?.trail_created ?? 0;
      this.#attemptOk.run({ arn: d.trailArn, region: d.region, created, at: d.deliveredAt.getTime() });
    });
  }

  async destinationFor(d: Omit<Destination, "id">): Promise<number> {
    const args = [
      d.trailArn,
      createdMs(d.trailCreatedAt),
      d.bucket,
      d.prefix ?? "",
      d.kmsKeyId ?? "",
      d.kind ?? "CloudTrail",
    ];
    const found = this.#findDestination.get(...args) as { id: number } | undefined;
    if (found) return found.id;
    return Number(
      (await this.#write(() => this.#insertDestination.run(d.accountId, ...args))).lastInsertRowid,
    );
  }

  async destination(id: number): Promise<Destination | undefined> {
    const row = this.#destinationById.get(id) as DestinationRow | undefined;
    return row && toDestination(row);
  }

  async backlog() {
    const rows = this.#backlog.all() as {
      destinationId: number;
      region: string;
      rows: number;
      bytes: number;
      oldest: number | null;
    }[];
    // a lane without rows would be a miscount; it has nothing to deliver either way
    return rows.flatMap(({ oldest, ...lane }) =>
      oldest === null ? [] : [{ ...lane, oldestEnqueuedAt: new Date(oldest) }],
    );
  }

  async nextBatch(destinationId: number, region: string, maxRecords: number, maxBytes: number) {
    const rows: OutboxRow[] = [];
    let bytes = 0;
    for (const row of this.#lane.iterate(destinationId, region, maxRecords) as IterableIterator<OutboxRow>) {
      if (rows.length > 0 && bytes + row.bytes > maxBytes) break;
      rows.push(row);
      bytes += row.bytes;
    }
    return toBatch(rows);
  }

  async batchOf(file: PendingFile) {
    return toBatch(
      this.#range.all(file.destinationId, file.region, file.firstId, file.lastId) as OutboxRow[],
    );
  }

  async writePending(file: PendingFile): Promise<void> {
    await this.#write(() =>
      this.#writePending.run(file.destinationId, file.region, file.key, file.firstId, file.lastId),
    );
  }

  async pendingFiles(): Promise<PendingFile[]> {
    return this.#pending.all() as PendingFile[];
  }

  async completeFile(file: PendingFile, delivered: DeliveredFile): Promise<void> {
    await this.#write(() => this.#complete(file, delivered));
  }

  async recordAttempt(trailArn: string, region: string, at: Date, error?: string): Promise<void> {
    const params = { arn: trailArn, region, created: 0, at: at.getTime() };
    await this.#write(() =>
      error === undefined ? this.#attemptOk.run(params) : this.#attemptFailed.run({ ...params, error }),
    );
  }

  async putFailed(file: PendingFile, at: Date, error: string): Promise<void> {
    await this.#write(() => this.#failed(file, at, error));
  }

  async moveLane(fromDestinationId: number, region: string, toDestinationId: number): Promise<boolean> {
    return this.#write(() => this.#move(fromDestinationId, region, toDestinationId));
  }

  async status(trailArn: string, region: string, trailCreatedAt?: Date): Promise<DeliveryStatus> {
    const created = createdMs(trailCreatedAt);
    const lane = this.#laneError.get(trailArn, created, region) as { error: string } | undefined;
    return toStatus(this.#status.get(trailArn, region, created) as StatusRow | undefined, lane?.error);
  }

  async deliveredFiles(trailArn: string, region: string, since: Date, until: Date): Promise<DeliveredFile[]> {
    return (this.#delivered.all(trailArn, region, since.getTime(), until.getTime()) as DeliveredRow[]).map(
      toDeliveredFile,
    );
  }
}
