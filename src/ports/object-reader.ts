import type { Readable } from "node:stream";
import type { StoredObject } from "./index.ts";

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
