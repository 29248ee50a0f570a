import type { Readable } from "node:stream";
import type { PolicyAnswer } from "./aws.ts";

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
  /** The bucket policy; absent where buckets have no policies (the local directory). */
  bucketPolicy?(bucket: string): Promise<PolicyAnswer>;
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

/**
 * Reading buckets only, as validate-logs does: listings and digests whole (they are small), log
 * files as streams so that many can be hashed at once without holding them. Implementations: the
 * local directory of `opentrail serve`, and a lean S3 client that costs far less CPU per request
 * than the SDK. Failures other than a missing key are ObjectStoreError.
 */
export interface ObjectReader {
  /** Keys starting with `prefix` and after `startAfter`, in S3 order. */
  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string>;
  /** Undefined when the key does not exist (S3 NoSuchKey). */
  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** The stored (gzipped) bytes as a stream; undefined when the key does not exist. */
  openObject(bucket: string, key: string): Promise<Readable | undefined>;
  close(): Promise<void>;
}

/** An object's size and time, as S3's listings and HEAD give them. */
export interface ObjectFacts {
  size: number;
  lastModified: Date;
}

/**
 * The local buckets as the S3 read API serves them: the object store's reads, plus what only a
 * server of its own buckets knows (the bucket list, an object's size and time) and CreateBucket.
 */
export interface BucketHost {
  listBuckets(): Promise<{ name: string; created: Date }[]>;
  /** "exists" when the bucket was there already. */
  createBucket(bucket: string): Promise<"created" | "exists">;
  bucketExists(bucket: string): Promise<boolean>;
  /** Undefined when the key does not exist; a missing bucket is ObjectStoreError("NoSuchBucket"). */
  objectFacts(bucket: string, key: string): Promise<ObjectFacts | undefined>;
  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string>;
}
