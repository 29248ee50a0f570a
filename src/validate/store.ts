import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { keyPath, LocalFsObjectStore } from "../adapters/localfs/object-store.ts";
import { type ObjectStore, ObjectStoreError, type StoredObject } from "../ports/index.ts";
import { s3Reader } from "./s3-reader.ts";

/**
 * What the validator reads: listings and digests whole (they are small), log files as streams so
 * that many can be hashed at once without holding them.
 */
export interface ValidationStore {
  /** Keys after `startAfter` in S3 order. */
  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string>;
  /** Undefined when the key does not exist (S3 NoSuchKey). */
  getObject(bucket: string, key: string): Promise<StoredObject | undefined>;
  /** The stored (gzipped) bytes as a stream; undefined when the key does not exist. */
  openObject(bucket: string, key: string): Promise<Readable | undefined>;
  close(): Promise<void>;
}

function errorCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}

/** A bucket name that is one plain folder of the root. */
function isBucketFolder(bucket: string): boolean {
  return bucket !== "" && bucket !== "." && bucket !== ".." && !/[/\\\0]/.test(bucket);
}

/** The local store of `opentrail serve`: `<root>/<bucket>/<key>` with a metadata sidecar. */
export function localValidationStore(root: string): ValidationStore {
  const store: ObjectStore = new LocalFsObjectStore(root);
  return {
    listKeys: (bucket, prefix, startAfter) => store.listKeys(bucket, prefix, startAfter),
    getObject: (bucket, key) => store.getObject(bucket, key),
    async openObject(bucket, key) {
      if (!isBucketFolder(bucket) || key === "" || key.includes("\0")) return undefined;
      try {
        const handle = await open(keyPath(join(root, bucket), key), "r");
        return handle.createReadStream();
      } catch (e) {
        if (["ENOENT", "ENOTDIR", "EISDIR"].includes(errorCode(e) ?? "")) return undefined;
        throw new ObjectStoreError("InternalError", `open ${bucket}/${key}: ${String(e)}`, { cause: e });
      }
    },
    close: () => store.close(),
  };
}

export interface S3ValidationStoreOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  forcePathStyle: boolean;
  /** Log files read at once; the connection pool is sized to it. */
  concurrency: number;
}

/** Any S3-compatible endpoint, read without the SDK (see s3-reader.ts). */
export function s3ValidationStore(opts: S3ValidationStoreOptions): ValidationStore {
  return s3Reader(opts);
}
