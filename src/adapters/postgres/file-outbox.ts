import type pg from "pg";
import type { FileConsumer, FileOutbox, FileToSend, OutputStatus, StatusKind } from "../../ports/index.ts";
import { type FileRow, type OutputStatusRow, toFileToSend, toOutputStatus } from "../sql/file-outbox-rows.ts";
import { inTransaction } from "./pool.ts";

const OK = `
  INSERT INTO output_status (consumer, trail_arn, region, latest_success, latest_error, latest_attempt)
  VALUES ($1, $2, $3, $4, NULL, $4)
  ON CONFLICT (consumer, trail_arn, region) DO UPDATE SET latest_success = $4, latest_error = NULL, latest_attempt = $4`;

const FAILED = `
  INSERT INTO output_status (consumer, trail_arn, region, latest_error, latest_attempt)
  VALUES ($1, $2, $3, $5, $4)
  ON CONFLICT (consumer, trail_arn, region) DO UPDATE SET latest_error = $5, latest_attempt = $4`;

/** The outbox of the outputs that follow delivery (steps 8 and 9: completeFile fills it, a trigger on trails empties it). */
export class PgFileOutbox implements FileOutbox {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async lanes(consumer: FileConsumer): Promise<{ trailArn: string; region: string }[]> {
    const { rows } = await this.#pool.query<{ trailArn: string; region: string }>(
      `SELECT DISTINCT trail_arn AS "trailArn", region FROM file_outbox WHERE consumer = $1
       ORDER BY "trailArn", region`,
      [consumer],
    );
    return rows;
  }

  async filesFor(
    consumer: FileConsumer,
    trailArn: string,
    region: string,
    limit: number,
  ): Promise<FileToSend[]> {
    const { rows } = await this.#pool.query<FileRow>(
      `SELECT file_id AS id, bucket, key, trail_created FROM file_outbox WHERE consumer = $1 AND trail_arn = $2 AND region = $3
       ORDER BY file_id LIMIT $4`,
      [consumer, trailArn, region, limit],
    );
    return rows.map(toFileToSend);
  }

  async handled(
    consumer: FileConsumer,
    trailArn: string,
    region: string,
    throughId: number,
    sentAt?: Date,
  ): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        "DELETE FROM file_outbox WHERE consumer = $1 AND trail_arn = $2 AND region = $3 AND file_id <= $4",
        [consumer, trailArn, region, throughId],
      );
      if (sentAt !== undefined) await client.query(OK, [consumer, trailArn, region, sentAt.getTime()]);
    });
  }

  async failed(
    consumer: StatusKind,
    trailArn: string,
    region: string,
    at: Date,
    error: string,
  ): Promise<void> {
    await this.#pool.query(FAILED, [consumer, trailArn, region, at.getTime(), error]);
  }

  async recordOutcome(
    kind: StatusKind,
    trailArn: string,
    region: string,
    at: Date,
    error?: string,
  ): Promise<void> {
    if (error !== undefined) return this.failed(kind, trailArn, region, at, error);
    await this.#pool.query(OK, [kind, trailArn, region, at.getTime()]);
  }

  async outputStatus(kind: StatusKind, trailArn: string, region: string): Promise<OutputStatus> {
    const { rows } = await this.#pool.query<OutputStatusRow>(
      `SELECT latest_success, latest_error, latest_attempt FROM output_status
       WHERE consumer = $1 AND trail_arn = $2 AND region = $3`,
      [kind, trailArn, region],
    );
    return toOutputStatus(rows[0]);
  }
}
