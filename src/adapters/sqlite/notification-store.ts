import type { Database, Statement } from "better-sqlite3";
import type { FileToNotify, NotificationOutbox, NotificationStatus } from "../../ports/index.ts";
import type { InTurn } from "./write-lock.ts";

/** The notification outbox (migration 10: rows come from a trigger on delivered_files). */
export class SqliteNotificationStore implements NotificationOutbox {
  readonly #lanes: Statement;
  readonly #files: Statement;
  readonly #drop: Statement;
  readonly #ok: Statement;
  readonly #failed: Statement;
  readonly #status: Statement;
  readonly #notified: (trailArn: string, region: string, throughId: number, at?: number) => void;
  readonly #write: InTurn;

  constructor(db: Database, inTurn?: InTurn) {
    this.#write = inTurn ?? ((fn) => fn());
    this.#lanes = db.prepare(
      "SELECT DISTINCT trail_arn AS trailArn, region FROM notification_outbox ORDER BY trail_arn, region",
    );
    this.#files = db.prepare(
      `SELECT file_id AS id, bucket, key FROM notification_outbox WHERE trail_arn = ? AND region = ?
       ORDER BY file_id LIMIT ?`,
    );
    this.#drop = db.prepare(
      "DELETE FROM notification_outbox WHERE trail_arn = ? AND region = ? AND file_id <= ?",
    );
    this.#ok = db.prepare(
      `INSERT INTO notification_status (trail_arn, region, latest_success, latest_error, latest_attempt)
       VALUES (@arn, @region, @at, NULL, @at)
       ON CONFLICT (trail_arn, region) DO UPDATE SET latest_success = @at, latest_error = NULL, latest_attempt = @at`,
    );
    this.#failed = db.prepare(
      `INSERT INTO notification_status (trail_arn, region, latest_error, latest_attempt) VALUES (@arn, @region, @error, @at)
       ON CONFLICT (trail_arn, region) DO UPDATE SET latest_error = @error, latest_attempt = @at`,
    );
    this.#status = db.prepare("SELECT * FROM notification_status WHERE trail_arn = ? AND region = ?");
    this.#notified = db.transaction((arn: string, region: string, throughId: number, at?: number) => {
      this.#drop.run(arn, region, throughId);
      if (at !== undefined) this.#ok.run({ arn, region, at });
    });
  }

  async notificationLanes(): Promise<{ trailArn: string; region: string }[]> {
    return this.#lanes.all() as { trailArn: string; region: string }[];
  }

  async filesToNotify(trailArn: string, region: string, limit: number): Promise<FileToNotify[]> {
    return this.#files.all(trailArn, region, limit) as FileToNotify[];
  }

  async notified(trailArn: string, region: string, throughId: number, publishedAt?: Date): Promise<void> {
    await this.#write(() => this.#notified(trailArn, region, throughId, publishedAt?.getTime()));
  }

  async notificationFailed(trailArn: string, region: string, at: Date, error: string): Promise<void> {
    await this.#write(() => this.#failed.run({ arn: trailArn, region, at: at.getTime(), error }));
  }

  async notificationStatus(trailArn: string, region: string): Promise<NotificationStatus> {
    const r = this.#status.get(trailArn, region) as
      | { latest_success: number | null; latest_error: string | null; latest_attempt: number | null }
      | undefined;
    if (!r) return {};
    return {
      ...(r.latest_success === null ? {} : { latestNotificationTime: new Date(r.latest_success) }),
      ...(r.latest_error === null ? {} : { latestNotificationError: r.latest_error }),
      ...(r.latest_attempt === null ? {} : { latestNotificationAttemptTime: new Date(r.latest_attempt) }),
    };
  }
}
