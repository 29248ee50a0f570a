import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { BucketProbe, ObjectStore } from "../../ports/index.ts";

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

/** Errors of the HTTP layer that mean no answer came from the endpoint. */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
]);

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
  if (status === undefined && (name === "TimeoutError" || NETWORK_ERROR_CODES.has(String(code)))) {
    return "unreachable";
  }
  return undefined;
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

  async close(): Promise<void> {
    this.#client.destroy();
  }
}
