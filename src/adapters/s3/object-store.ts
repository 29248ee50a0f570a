import {
  DeleteObjectCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { PolicyAnswer } from "../../ports/aws.ts";
import {
  type BucketProbe,
  type ObjectStore,
  ObjectStoreError,
  type PutOptions,
  type StoredObject,
} from "../../ports/index.ts";
import { isNetworkErrorCode } from "./network-errors.ts";

export interface S3ObjectStoreOptions {
  endpoint: string;
  /** Signing region; S3-compatible servers rarely care. Default us-east-1. */
  region?: string;
  /** Without them the SDK's default credential chain applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Default true: S3-compatible endpoints seldom resolve bucket subdomains. */
  forcePathStyle?: boolean;
  /** How long one attempt may wait for an answer; default 5 seconds. */
  requestTimeoutMs?: number;
}

// A probe answers a caller who is waiting (CreateTrail): better to say "unreachable" quickly than
// to hang on a dead endpoint through the SDK's default retries and unbounded request time.
const MAX_ATTEMPTS = 2;
const CONNECTION_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** What a failed HeadBucket says about the bucket, or undefined when it says nothing we know. */
export function classifyProbeError(e: unknown): BucketProbe | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const { name, code, $metadata } = e as SdkErrorShape;
  const status = $metadata?.httpStatusCode;
  if (status === 404 || name === "NotFound" || name === "NoSuchBucket") return "missing";
  if (status === 403 || name === "Forbidden" || name === "AccessDenied") return "denied";
  if (status !== undefined && status >= 500) return "unreachable";
  if (status === undefined && (name === "TimeoutError" || isNetworkErrorCode(code))) {
    return "unreachable";
  }
  return undefined;
}

/** Names the SDK gives an error when the answer carried no S3 error code. */
const CODELESS_NAMES = new Set(["Unknown", "UnknownError", "NotFound", "Forbidden", "Error"]);

/**
 * The ObjectStoreError for a failed call: the S3 error code when the endpoint sent one; else by
 * status (404 is `notFound`, 403 AccessDenied, 5xx ServiceUnavailable); no answer at all
 * (refused, reset, timed out) is ServiceUnavailable with the network error in message and cause.
 */
export function toObjectStoreError(e: unknown, what: string, notFound = "NoSuchBucket"): ObjectStoreError {
  if (e instanceof ObjectStoreError) return e;
  const { name, code, $metadata } = (typeof e === "object" && e !== null ? e : {}) as SdkErrorShape;
  const status = $metadata?.httpStatusCode;
  const reason = e instanceof Error ? e.message : String(e);
  const fail = (c: string, why = reason) => new ObjectStoreError(c, `${what}: ${why}`, { cause: e });
  if (status === undefined) {
    if (name === "TimeoutError" || isNetworkErrorCode(code)) {
      return fail("ServiceUnavailable", `no answer from the endpoint (${String(code ?? name)}): ${reason}`);
    }
    return fail("InternalError");
  }
  // S3's codes for an SSE-KMS put whose key cannot be used carry a dot (KMS.DisabledException)
  if (typeof name === "string" && /^[A-Za-z][A-Za-z0-9.]*$/.test(name) && !CODELESS_NAMES.has(name)) {
    return fail(name);
  }
  if (status === 404) return fail(notFound);
  if (status === 403) return fail("AccessDenied");
  if (status >= 500) return fail("ServiceUnavailable", `HTTP ${status} without an error code`);
  return fail("InvalidRequest", `HTTP ${status} without an error code`);
}

/** Buckets on any S3-compatible endpoint. */
export class S3ObjectStore implements ObjectStore {
  readonly #client: S3Client;

  constructor(opts: S3ObjectStoreOptions) {
    this.#client = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region ?? "us-east-1",
      ...(opts.credentials === undefined ? {} : { credentials: opts.credentials }),
      forcePathStyle: opts.forcePathStyle ?? true,
      maxAttempts: MAX_ATTEMPTS,
      // The client turns these options into its NodeHttpHandler, so the handler package need not
      // be a direct dependency. Without throwOnRequestTimeout the handler only logs a warning
      // when requestTimeout passes and keeps waiting.
      requestHandler: {
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
      // Since SDK 3.729 the client adds CRC checksums to every upload by default; several
      // S3-compatible servers reject those headers, and none of them needs them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async probeBucket(bucket: string): Promise<BucketProbe> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: bucket }));
      return "ok";
    } catch (e) {
      const probe = classifyProbeError(e);
      if (probe === undefined) throw e;
      return probe;
    }
  }

  async bucketPolicy(bucket: string): Promise<PolicyAnswer> {
    try {
      const res = await this.#client.send(new GetBucketPolicyCommand({ Bucket: bucket }));
      // an endpoint that ignores ?policy answers with a listing, not a JSON document
      const document = res.Policy?.trim();
      if (!document?.startsWith("{")) return { kind: "unknown", reason: "no JSON policy in the answer" };
      return { kind: "policy", document };
    } catch (e) {
      const error = toObjectStoreError(e, `get the policy of ${bucket}`);
      if (error.code === "NoSuchBucketPolicy") return { kind: "none" };
      if (error.code === "NoSuchBucket") return { kind: "missing" };
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (["NotImplemented", "MethodNotAllowed", "AccessDenied"].includes(error.code) || status === 501) {
        return { kind: "unknown", reason: error.message };
      }
      throw error;
    }
  }

  async putObject(bucket: string, key: string, body: Buffer, opts: PutOptions = {}): Promise<void> {
    const metadata: Record<string, string> = {};
    // S3 answers with lower-case names whatever was sent; sending them so keeps both stores alike.
    for (const [name, value] of Object.entries(opts.metadata ?? {})) metadata[name.toLowerCase()] = value;
    try {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          // What CloudTrail sends: the bucket owner fully controls the log files of other writers.
          ACL: "bucket-owner-full-control",
          ContentType: opts.contentType,
          ContentEncoding: opts.contentEncoding,
          Metadata: metadata,
          ...(opts.kmsKeyId === undefined
            ? {}
            : { ServerSideEncryption: "aws:kms", SSEKMSKeyId: opts.kmsKeyId }),
        }),
      );
    } catch (e) {
      throw toObjectStoreError(e, `put ${bucket}/${key}`);
    }
  }

  async getObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = (await res.Body?.transformToByteArray()) ?? new Uint8Array();
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.Metadata ?? {})) metadata[name.toLowerCase()] = value;
      return {
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        metadata,
        ...(res.ContentType === undefined ? {} : { contentType: res.ContentType }),
        ...(res.ContentEncoding === undefined ? {} : { contentEncoding: res.ContentEncoding }),
      };
    } catch (e) {
      const error = toObjectStoreError(e, `get ${bucket}/${key}`, "NoSuchKey");
      if (error.code === "NoSuchKey") return undefined;
      throw error;
    }
  }

  listKeys(bucket: string, prefix: string, startAfter?: string): AsyncIterable<string> {
    return this.#list(bucket, prefix, startAfter);
  }

  async *#list(bucket: string, prefix: string, startAfter: string | undefined): AsyncGenerator<string> {
    let token: string | undefined;
    let after = startAfter;
    for (;;) {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            ...(prefix === "" ? {} : { Prefix: prefix }),
            // The token already says where to go on; S3 would ignore StartAfter beside it.
            ...(token === undefined
              ? after === undefined
                ? {}
                : { StartAfter: after }
              : { ContinuationToken: token }),
          }),
        );
      } catch (e) {
        throw toObjectStoreError(e, `list ${bucket}/${prefix}`);
      }
      let last: string | undefined;
      for (const { Key } of page.Contents ?? []) {
        if (Key === undefined) continue;
        last = Key;
        yield Key;
      }
      if (page.IsTruncated !== true || last === undefined) return;
      // A server that truncates without a continuation token can still be paged by the last key.
      token = page.NextContinuationToken;
      if (token === undefined) after = last;
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (e) {
      throw toObjectStoreError(e, `delete ${bucket}/${key}`);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
