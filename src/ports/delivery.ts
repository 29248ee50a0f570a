import type { LogFileKind } from "../domain/log-files.ts";

/** Where a trail's log files go; a new one whenever the bucket, prefix or KMS key changes. */
export interface Destination {
  id: number;
  accountId: string;
  trailArn: string;
  /**
   * Which trail of that ARN (its creation): a trail deleted and created again under the same name
   * has destinations, lanes and status of its own. Absent: unknown (tests, rows made before it was kept).
   */
  trailCreatedAt?: Date;
  bucket: string;
  prefix?: string;
  kmsKeyId?: string;
  /** Which folder its files go to; CloudTrail when absent. Insights files have a destination of their own. */
  kind?: LogFileKind;
}

/** A log file written down before it is put, so a crash in between re-puts the same key and body. */
export interface PendingFile {
  destinationId: number;
  region: string;
  key: string;
  /** Outbox rows the file holds: ids in [firstId, lastId] of this destination and region. */
  firstId: number;
  lastId: number;
}

export interface OutboxBatch {
  firstId: number;
  lastId: number;
  /** Record JSON texts in eventTime order. */
  records: string[];
  oldestEventTime: Date;
  newestEventTime: Date;
}

export interface DeliveredFile {
  destinationId: number;
  trailArn: string;
  region: string;
  bucket: string;
  key: string;
  /** Lowercase hex SHA-256 of the uncompressed body. */
  sha256: string;
  oldestEventTime: Date;
  newestEventTime: Date;
  deliveredAt: Date;
}

/** Per (trail, region) delivery bookkeeping GetTrailStatus reports. */
export interface DeliveryStatus {
  latestDeliveryTime?: Date;
  latestDeliveryError?: string;
  latestDeliveryAttemptTime?: Date;
  latestDeliveryAttemptSucceeded?: Date;
}

/** The outbox between recording and delivery. */
export interface DeliveryStore {
  /** The destination for a trail's current settings, created on first use. */
  destinationFor(d: Omit<Destination, "id">): Promise<number>;
  destination(id: number): Promise<Destination | undefined>;
  /** (destination, region) pairs with undelivered rows, with how many and the oldest row's enqueue time. */
  backlog(): Promise<
    { destinationId: number; region: string; rows: number; bytes: number; oldestEnqueuedAt: Date }[]
  >;
  /** The next rows of a destination and region, at most `maxRecords` and about `maxBytes` of JSON. */
  nextBatch(
    destinationId: number,
    region: string,
    maxRecords: number,
    maxBytes: number,
  ): Promise<OutboxBatch | undefined>;
  /** The rows of a pending file, again, to re-put the identical body. */
  batchOf(file: PendingFile): Promise<OutboxBatch | undefined>;
  writePending(file: PendingFile): Promise<void>;
  pendingFiles(): Promise<PendingFile[]>;
  /**
   * One transaction: drops the file's outbox rows and its pending entry, records the delivery,
   * and records it as the trail's latest successful delivery attempt (as recordAttempt without
   * an error, at `delivered.deliveredAt`).
   */
  completeFile(file: PendingFile, delivered: DeliveredFile): Promise<void>;
  /** Records an attempt of the trail incarnation whose creation is unknown (`trailCreatedAt` absent). */
  recordAttempt(trailArn: string, region: string, at: Date, error?: string): Promise<void>;
  /**
   * One transaction: the pending file's put failed with `error` (its lane keeps the error until the
   * file is completed or moved), recorded as the latest attempt of its destination's trail.
   */
  putFailed(file: PendingFile, at: Date, error: string): Promise<void>;
  /**
   * One transaction: every undelivered row of a (destination, region) goes to another destination
   * of the same trail, after the rows already there, and the lane's pending file is dropped (its
   * put failed for good: the trail's bucket or prefix changed since). False, and nothing moved,
   * when the target lane has a pending file of its own (its body must stay as it was put).
   */
  moveLane(fromDestinationId: number, region: string, toDestinationId: number): Promise<boolean>;
  /**
   * The status of the trail of that ARN created at `trailCreatedAt` (absent: unknown), nothing of
   * an earlier trail of the same name. Its latest error stays while any lane of its destinations in
   * the region holds a file whose last put failed, even after a success elsewhere (a new bucket).
   */
  status(trailArn: string, region: string, trailCreatedAt?: Date): Promise<DeliveryStatus>;
  /** Delivered files of a trail and region delivered in [since, until), in delivery order (for digests). */
  deliveredFiles(trailArn: string, region: string, since: Date, until: Date): Promise<DeliveredFile[]>;
}

/** The outputs that follow each delivered log file. */
export type FileConsumer = "sns" | "logs" | "events";

/** A delivered log file waiting for an output. */
export interface FileToSend {
  /** The delivered file's number; a lane's files come in delivery order. */
  id: number;
  bucket: string;
  key: string;
  /** Which trail of that ARN delivered it (its destination's creation); absent where unknown. */
  trailCreatedAt?: Date;
}

/** What GetTrailStatus reports on besides log files: the outputs, and digests. */
export type StatusKind = FileConsumer | "digest";

/** Per (output, trail, region) bookkeeping GetTrailStatus reports. */
export interface OutputStatus {
  latestTime?: Date;
  latestError?: string;
  latestAttemptTime?: Date;
}

/**
 * The outbox of the outputs that follow delivery: every delivered file enters it once per
 * consumer in the transaction that records the delivery (completeFile); a consumer's worker takes
 * it out once handled (both SQL backends: a row per consumer and delivered file, written in
 * completeFile's transaction). Deleting or creating a trail drops its ARN's rows and status, in
 * that write's transaction: a trail created again under the same name starts with none.
 */
export interface FileOutbox {
  /** (trail, region) pairs with files waiting for `consumer`. */
  lanes(consumer: FileConsumer): Promise<{ trailArn: string; region: string }[]>;
  /** A lane's oldest waiting files, in delivery order. */
  filesFor(consumer: FileConsumer, trailArn: string, region: string, limit: number): Promise<FileToSend[]>;
  /**
   * One transaction: drops the lane's files up to `throughId`; with `sentAt` (something was sent)
   * also records it as the lane's latest success and clears its error.
   */
  handled(
    consumer: FileConsumer,
    trailArn: string,
    region: string,
    throughId: number,
    sentAt?: Date,
  ): Promise<void>;
  failed(consumer: StatusKind, trailArn: string, region: string, at: Date, error: string): Promise<void>;
  outputStatus(kind: StatusKind, trailArn: string, region: string): Promise<OutputStatus>;
  /** Records a success (`error` undefined) or a failure of something without outbox rows (digests). */
  recordOutcome(kind: StatusKind, trailArn: string, region: string, at: Date, error?: string): Promise<void>;
}
