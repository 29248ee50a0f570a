import type { PreviousDigest } from "../domain/digest.ts";
import type { Trail } from "../domain/trail.ts";

export type { ObjectReader } from "./object-reader.ts";

/** Trails of every account. Implementations: SQLite (embedded), PostgreSQL. */
export interface TrailRepo {
  /** Trails of an account, all home regions. */
  list(accountId: string): Promise<Trail[]>;
  get(accountId: string, homeRegion: string, name: string): Promise<Trail | undefined>;
  /** Fails with ConflictException when (account, homeRegion, name) exists. */
  create(trail: Trail): Promise<void>;
  /** Writes `trail` if the stored version equals `trail.version - 1`; else ConflictException. */
  update(trail: Trail): Promise<void>;
  delete(accountId: string, homeRegion: string, name: string): Promise<void>;
  /** Development reset: forget everything. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** `unreachable`: the endpoint could not be reached or answered with a server error. */
export type BucketProbe = "ok" | "missing" | "denied" | "unreachable";

/** How an object is written besides its bytes. */
export interface PutOptions {
  /** e.g. "application/json". */
  contentType?: string;
  /** e.g. "gzip"; readers still get the stored bytes, never inflated ones. */
  contentEncoding?: string;
  /**
   * S3 user metadata (`x-amz-meta-*`); names are kept lower-case, as S3 returns them. Names and
   * values travel as HTTP headers on S3, so keep them printable ASCII.
   */
  metadata?: Record<string, string>;
  /** SSE-KMS on S3; the local store only records it in the object's sidecar. */
  kmsKeyId?: string;
}

/**
 * A failed store operation with the S3 error code (NoSuchBucket, AccessDenied, ...) that
 * GetTrailStatus reports as LatestDeliveryError. An endpoint that gave no answer (refused, reset,
 * timed out) or answered 5xx without a code is "ServiceUnavailable"; the network error is in the
 * message and `cause`. Keys a store cannot hold are "InvalidArgument" (or "KeyTooLongError").
 */
export class ObjectStoreError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ObjectStoreError";
    this.code = code;
  }
}

/** An object as read back: the exact stored bytes and what was put with them. */
export interface StoredObject {
  body: Buffer;
  /** User metadata, lower-case names. */
  metadata: Record<string, string>;
  contentType?: string;
  contentEncoding?: string;
}

/**
 * Buckets: a local directory by default, any S3-compatible endpoint in production. Every failure
 * of the object operations is an ObjectStoreError.
 */
export interface ObjectStore {
  /** Does the bucket exist and may the service write to it? */
  probeBucket(bucket: string): Promise<BucketProbe>;
  /**
   * Writes the whole object or nothing (S3: with ACL bucket-owner-full-control). Putting the same
   * key again replaces it, so a retried delivery may re-put.
   */
  putObject(bucket: string, key: string, body: Buffer, opts?: PutOptions): Promise<void>;
  /** Undefined when the key does not exist; a missing bucket is ObjectStoreError("NoSuchBucket"). */
  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** Keys starting with `prefix` and greater than `startAfter`, in UTF-8 byte order, page by page. */
  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string>;
  /** Removing a key that does not exist succeeds, as on S3. */
  deleteObject(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export interface Ids {
  /** A fresh UUID v4 (request ids, event ids). */
  uuid(): string;
}

/** Where a credential leads: the account and the identity written into records. */
export interface Principal {
  accountId: string;
  accessKeyId: string;
  /** The userIdentity object of records made with this key (accessKeyId filled per request). */
  identity: Record<string, unknown>;
}

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  principal: Principal;
}

/** Access keys the server accepts. */
export interface CredentialStore {
  lookup(accessKeyId: string): Credential | undefined;
}

/** What event history keeps apart from the record itself, so lookups need not parse JSON. */
export type EventCategory = "Management" | "Data" | "NetworkActivity" | "Insight";

/** The eight LookupEvents attributes. */
export type LookupKey =
  | "EventId"
  | "EventName"
  | "ReadOnly"
  | "Username"
  | "EventSource"
  | "AccessKeyId"
  | "ResourceType"
  | "ResourceName";

/** One recorded event: its record (JSON text, exactly as stored) and the columns lookups use. */
export interface StoredEvent {
  accountId: string;
  /** The record's awsRegion. */
  region: string;
  eventId: string;
  eventTime: Date;
  category: EventCategory;
  /** For insight events: insightDetails.eventName / eventSource. */
  eventName?: string;
  eventSource?: string;
  readOnly?: boolean;
  /** Derived as lookup-events.md says. */
  username?: string;
  accessKeyId?: string;
  resources: { type?: string; name?: string }[];
  /** The whole record as JSON text. */
  json: string;
  /** Delivery destinations that select this event: stored as outbox rows in the same transaction. */
  destinations?: number[];
}

export interface LookupQuery {
  accountId: string;
  region: string;
  /** Management events unless EventCategory=insight. */
  category: "Management" | "Insight";
  attribute?: { key: LookupKey; value: string };
  /** Inclusive bounds. */
  start: Date;
  end: Date;
  /** Keyset position: events strictly after this one in (eventTime desc, eventId desc) order. */
  after?: { eventTime: Date; eventId: string };
  limit: number;
}

/** Recorded events: event history for LookupEvents, the source of delivery. */
export interface EventStore {
  /**
   * Stores a batch in one transaction; an (accountId, eventId) already stored is skipped.
   * Resolves only after the batch is durable (committed). `receivedAt` (the service's clock when
   * the batch arrived) is when its delivery interval starts; the wall clock when absent.
   */
  append(events: StoredEvent[], receivedAt?: Date): Promise<{ inserted: number; duplicates: string[] }>;
  /** Newest first, ties broken by eventId descending. */
  lookup(query: LookupQuery): Promise<StoredEvent[]>;
  /** Forgets events older than `cutoff`; returns how many. */
  purgeBefore(cutoff: Date): Promise<number>;
}

/** Where a trail's log files go; a new one whenever the bucket, prefix or KMS key changes. */
export interface Destination {
  id: number;
  accountId: string;
  trailArn: string;
  bucket: string;
  prefix?: string;
  kmsKeyId?: string;
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
  recordAttempt(trailArn: string, region: string, at: Date, error?: string): Promise<void>;
  status(trailArn: string, region: string): Promise<DeliveryStatus>;
  /** Delivered files of a destination's trail and region, in delivery order (for digests). */
  deliveredFiles(trailArn: string, region: string, since: Date, until: Date): Promise<DeliveredFile[]>;
}

/** A region's digest public key, as ListPublicKeys shows it. */
export interface DigestPublicKey {
  id: number;
  region: string;
  /** DER of the PKCS#1 RSAPublicKey (what ListPublicKeys sends as `Value`). */
  publicKeyDer: Buffer;
  /** Lowercase hex MD5 of `publicKeyDer`. */
  fingerprint: string;
  /** Whole seconds; the key signs digests from `validFrom` until `validTo`. */
  validFrom: Date;
  validTo: Date;
}

/** The key that signs a region's digests now. Its private half never leaves the service. */
export interface DigestSigningKey extends DigestPublicKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/**
 * Digest signing keys: one active RSA-2048 pair per region (shared by every account, as on AWS),
 * rotated when its validity ends. Public keys are kept forever so that old digests stay
 * verifiable; a private key is kept only while its key is active.
 */
export interface KeyStore {
  /**
   * The region's key valid at `now`. When there is none (first use, or the last one expired) one
   * is made, valid from `now` for the rotation period; concurrent callers get the same new key.
   */
  activeKey(region: string, now: Date): Promise<DigestSigningKey>;
  /** The region's keys whose validity overlaps [start, end] (bounds included), oldest first. */
  publicKeys(region: string, start: Date, end: Date): Promise<DigestPublicKey[]>;
  keyByFingerprint(fingerprint: string): Promise<DigestPublicKey | undefined>;
}

/** One (trail, region) chain. `periodStart` is where the next digest starts. */
export interface DigestChain {
  trailArn: string;
  region: string;
  accountId: string;
  trailName: string;
  homeRegion: string;
  bucket: string;
  /** "" for none. */
  prefix: string;
  periodStart: Date;
  /** Set when the chain's final digest is written; the row stays so the next chain starts here. */
  closedAt?: Date;
  previous: PreviousDigest | null;
}

export interface DigestChainStore {
  chains(): Promise<DigestChain[]>;
  saveChain(chain: DigestChain): Promise<void>;
}
