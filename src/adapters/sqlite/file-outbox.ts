import type { Database, Statement } from "better-sqlite3";
import type { FileConsumer, FileOutbox, FileToSend, OutputStatus, StatusKind } from "../../ports/index.ts";
import { type FileRow, type OutputStatusRow, toFileToSend, toOutputStatus } from "../sql/file-outbox-rows.ts";
import type { InTurn } from "./write-lock.ts";

/** The outbox of the outputs that follow delivery (migrations 11 and 13: triggers on delivered_files fill it, on trails empty it). */
export class SqliteFileOutbox implements FileOutbox {
  readonly #lanes: Statement;
  readonly #files: Statement;
  readonly #drop: Statement;
  readonly #ok: Statement;
  readonly #failed: Statement;
  readonly #status: Statement;
  readonly #handled: (consumer: string, arn: string, region: string, through: number, at?: number) => void;
  readonly #write: InTurn;

  constructor(db: Database, inTurn?: InTurn) {
    this.#write = inTurn ?? ((fn) => fn());
    this.#lanes = db.prepare(
      "SELECT DISTINCT trail_arn AS trailArn, region FROM file_outbox WHERE consumer = ? ORDER BY trail_arn, region",
    );
    this.#files = db.prepare(
      `SELECT file_id AS id, bucket, key, trail_created FROM file_outbox WHERE consumer = ? AND trail_arn = ? AND region = ?
       ORDER BY file_id LIMIT ?`,
    );
    this.#drop = db.prepare(
      "DELETE FROM file_outbox WHERE consumer = ? AND trail_arn = ? AND region = ? AND file_id <= ?",
    );
    this.#ok = db.prepare(
      `INSERT INTO output_status (consumer, trail_arn, region, latest_success, latest_error, latest_attempt)
       VALUES (@consumer, @arn, @region, @at, NULL, @at)
       ON CONFLICT (consumer, trail_arn, region) DO UPDATE SET latest_success = @at, latest_error = NULL, latest_attempt = @at`,
    );
    this.#failed = db.prepare(
      `INSERT INTO output_status (consumer, trail_arn, region, latest_error, latest_attempt)
       VALUES (@consumer, @arn, @region, @error, @at)
       ON CONFLICT (consumer, trail_arn, region) DO UPDATE SET latest_error = @error, latest_attempt = @at`,
    );
    this.#status = db.prepare(
      "SELECT * FROM output_status WHERE consumer = ? AND trail_arn = ? AND region = ?",
    );
    this.#handled = db.transaction(
      (consumer: string, arn: string, region: string, through: number, at?: number) => {
        this.#drop.run(consumer, arn, region, through);
        if (at !== undefined) this.#ok.run({ consumer, arn, region, at });
      },
    );
  }

  async lanes(consumer: FileConsumer): Promise<{ trailArn: string; region: string }[]> {
    return this.#lanes.all(consumer) as { trailArn: string; region: string }[];
  }

  async filesFor(
    consumer: FileConsumer,
    trailArn: string,
    region: string,
    limit: number,
  ): Promise<FileToSend[]> {
    return (this.#files.all(consumer, trailArn, region, limit) as FileRow[]).map(toFileToSend);
  }

  async handled(
    consumer: FileConsumer,
    trailArn: string,
    region: string,
    throughId: number,
    sentAt?: Date,
  ): Promise<void> {
    await this.#write(() => this.#handled(consumer, trailArn, region, throughId, sentAt?.getTime()));
  }

  async failed(
    consumer: StatusKind,
    trailArn: string,
    region: string,
    at: Date,
    error: string,
  ): Promise<void> {
    await this.#write(() => this.#failed.run({ consumer, arn: trailArn, region, at: at.getTime(), error }));
  }

  async recordOutcome(
    kind: StatusKind,
    trailArn: string,
    region: string,
    at: Date,
    error?: string,
  ): Promise<void> {
    if (error !== undefined) return this.failed(kind, trailArn, region, at, error);
    await this.#write(() => this.#ok.run({ consumer: kind, arn: trailArn, region, at: at.getTime() }));
  }

  async outputStatus(consumer: StatusKind, trailArn: string, region: string): Promise<OutputStatus> {
    return toOutputStatus(this.#status.get(consumer, trailArn, region) as OutputStatusRow | undefined);
  }
}
