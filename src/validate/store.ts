import { open } from "node:fs/promises";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { LocalFsObjectStore } from "../adapters/localfs/object-store.ts";
import { S3ObjectStore, toObjectStoreError } from "../adapters/s3/object-store.ts";
import { type ObjectStore, ObjectStoreError, type StoredObject } from "../ports/index.ts";

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

/** A key the local store could not have written (a tampered digest may name "../x") is absent there. */
function isPlainKey(key: string): boolean {
  return !key.includes("\0") && key.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

/** The local store of `opentrail serve`: `<root>/<bucket>/<key>` with a metadata sidecar. */
export function localValidationStore(root: string): ValidationStore {
  const store: ObjectStore = new LocalFsObjectStore(root);
  return {
    listKeys: (bucket, prefix, startAfter) => store.listKeys(bucket, prefix, startAfter),
    getObject: (bucket, key) => store.getObject(bucket, key),
    async openObject(bucket, key) {
      if (!isPlainKey(bucket) || bucket.includes("/") || !isPlainKey(key)) return undefined;
      try {
        const handle = await open(join(root, bucket, key), "r");
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
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  forcePathStyle: boolean;
  /** Log files read at once; the connection pool is sized to it. */
  concurrency: number;
}

/** Any S3-compatible endpoint. */
export function s3ValidationStore(opts: S3ValidationStoreOptions): ValidationStore {
  const lists = new S3ObjectStore({
    endpoint: opts.endpoint,
    region: opts.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    forcePathStyle: opts.forcePathStyle,
    requestTimeoutMs: 30_000,
  });
  const agentOptions = { keepAlive: true, maxSockets: opts.concurrency };
  const client = new S3Client({
    endpoint: opts.endpoint,
    region: opts.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    forcePathStyle: opts.forcePathStyle,
    requestHandler: {
      httpAgent: new Agent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: 5_000,
      requestTimeout: 60_000,
      throwOnRequestTimeout: true,
    },
    // the hash in the digest is the check; the SDK's own checksum headers are not sent by every store
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  return {
    listKeys: (bucket, prefix, startAfter) => lists.listKeys(bucket, prefix, startAfter),
    getObject: (bucket, key) => lists.getObject(bucket, key),
    async openObject(bucket, key) {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return res.Body as Readable | undefined;
      } catch (e) {
        const error = toObjectStoreError(e, `get ${bucket}/${key}`, "NoSuchKey");
        if (error.code === "NoSuchKey") return undefined;
        throw error;
      }
    },
    async close() {
      client.destroy();
      await lists.close();
    },
  };
}
