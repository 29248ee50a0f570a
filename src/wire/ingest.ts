import { createGunzip } from "node:zlib";
import type { Logger } from "pino";
import { ERROR_STATUS, fail, isCloudTrailError } from "../api/errors.ts";
import {
  type IngestBatch,
  type IngestOutcome,
  type IngestRefused,
  type IngestRunner,
  MAX_INGEST_RECORDS,
} from "../api/ingest.ts";
import { rateExceeded } from "../api/messages.ts";
import type { Clock, CredentialStore, Ids } from "../ports/index.ts";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "./handler.ts";
import type { IngestMemory, IngestMemoryView } from "./ingest-memory.ts";
import { recordTexts } from "./raw-json.ts";
import { type Authenticated, verifySigV4 } from "./sigv4.ts";
import type { RawRequest, RawResponse } from "./types.ts";

// The thread side (workers/) reaches the ingest types through wire, which it may import.
export type { IngestBatch, IngestContext, IngestOutcome, IngestRunner } from "../api/ingest.ts";

export interface IngestOptions {
  credentials: CredentialStore;
  regions: readonly string[];
  clock: Clock;
  ids: Ids;
  log: Logger;
  /** Decodes and stores a signed-off batch: inline or on an ingest thread. */
  runner: IngestRunner;
  /** The bound on bytes being inflated and parsed at once, shared with the ingest threads. */
  memory: IngestMemory;
  /** Largest inflated body of a gzip request; kept within the memory bound. */
  maxInflatedBytes: number;
}

const JSON_TYPE = "application/json";

/** POST /ingest's name in the access log and /metrics. */
export const INGEST_OPERATION = "Ingest";

/**
 * `POST /ingest`: a CloudTrail log file body (`{"Records":[…]}`, plain or gzip), SigV4-signed like
 * an API call. The signature is checked here; the body is left as it came to `opts.runner`, whose
 * outcome is answered once the batch is committed.
 */
export function createIngestHandler(opts: IngestOptions): (req: RawRequest) => Promise<RawResponse> {
  return async (req) => {
    const requestId = opts.ids.uuid();
    try {
      const signed = await verifySigV4(req, opts);
      const { region } = signed;
      const encoding = (req.headers["content-encoding"] ?? "").trim().toLowerCase();
      const reservedBytes = ingestReservation({ encoding, body: req.body }, opts.maxInflatedBytes);
      if (!(await opts.memory.take(reservedBytes))) {
        return { ...ingestAnswer(requestId, INGEST_THROTTLED), operation: INGEST_OPERATION };
      }
      try {
        const outcome = await opts.runner({
          requestId,
          accountId: ingestAccount(req, signed),
          region,
          now: opts.clock.now().getTime(),
          encoding,
          body: req.body,
          reservedBytes,
        });
        return { ...ingestAnswer(requestId, outcome), operation: INGEST_OPERATION };
      } finally {
        opts.memory.release(reservedBytes);
      }
    } catch (e) {
      return {
        ...ingestAnswer(requestId, ingestFailure(requestId, e, opts.log)),
        operation: INGEST_OPERATION,
      };
    }
  };
}

/** The header naming the account a batch's records are for, when not the signer's own. */
export const INGEST_ACCOUNT_HEADER = "x-opentrail-account";

/**
 * The account a batch is stored for: the signer's, or the one the signed `x-opentrail-account`
 * header names, if the key is allowed to ingest for it (`ingestAccounts` in its configuration).
 */
function ingestAccount(req: RawRequest, signed: Authenticated): string {
  const own = signed.credential.principal.accountId;
  const raw = req.headers[INGEST_ACCOUNT_HEADER];
  if (raw === undefined) return own;
  const named = raw.trim();
  if (!signed.signedHeaders.includes(INGEST_ACCOUNT_HEADER)) {
    throw fail(
      "InvalidSignatureException",
      `'X-Opentrail-Account' must be a 'SignedHeader' in the AWS Authorization.`,
    );
  }
  if (!/^\d{12}$/.test(named))
    throw fail("ValidationException", "X-Opentrail-Account must be a 12-digit account id");
  if (named === own || signed.credential.ingestAccounts?.includes(named)) return named;
  throw fail(
    "AccessDeniedException",
    `Access key ${signed.credential.accessKeyId} may not ingest records for account ${named}; list the account in the key's ingestAccounts`,
  );
}

/** The HTTP answer to an outcome: the one place that knows ingest's statuses and bodies. */
export function ingestAnswer(requestId: string, outcome: IngestOutcome): RawResponse {
  switch (outcome.kind) {
    case "stored":
      return {
        status: 200,
        headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
        body: JSON.stringify({
          eventIds: outcome.eventIds,
          duplicates: outcome.duplicates,
          ...(outcome.warnings ? { warnings: outcome.warnings } : {}),
        }),
      };
    case "invalid":
      return {
        status: 400,
        headers: {
          "content-type": JSON_TYPE,
          "x-amzn-requestid": requestId,
          "x-amzn-errortype": "ValidationException",
        },
        body: JSON.stringify({
          __type: "ValidationException",
          message: `${outcome.problems.length} of ${outcome.total} records are invalid; nothing was stored`,
          invalidRecords: outcome.problems,
        }),
      };
    case "refused":
      return errorResponse(
        requestId,
        outcome.code,
        outcome.message,
        outcome.status ?? ERROR_STATUS[outcome.code],
      );
  }
}

/**
 * An error thrown while taking a batch, as an outcome: a CloudTrail error says what it is;
 * anything else is logged with the request id and refused as InternalFailure, without detail.
 */
export function ingestFailure(requestId: string, e: unknown, log: Logger): IngestRefused {
  if (isCloudTrailError(e)) return { kind: "refused", code: e.code, message: e.message };
  log.error({ err: e, requestId }, "ingest failed");
  return { kind: "refused", code: "InternalFailure", message: INTERNAL_FAILURE_MESSAGE };
}

/** A decoded body: its records, and each record's own text when it was sent compact. */
export interface IngestBody {
  kind: "decoded";
  records: unknown[];
  sentTexts: (string | undefined)[] | undefined;
}

/** Why a body cannot be decoded, as the outcome that answers it. */
export interface IngestDecodeFailure extends IngestRefused {
  code: "SerializationException" | "RequestEntityTooLargeException";
}

/** Why inflating stopped short of a text. */
type InflateFailure = "too-large" | "corrupt" | "not-utf8" | "throttled";

/**
 * Inflates and decodes as the bytes come, so that no inflated buffer outlives its chunk; `grow` is
 * told the bytes inflated so far and says whether the memory bound lets the body go on.
 */
function inflateText(
  body: Uint8Array,
  limit: number,
  grow: (inflated: number) => boolean,
): Promise<string | InflateFailure> {
  return new Promise((resolve) => {
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const parts: string[] = [];
    let size = 0;
    let done = false;
    const stop = (why: InflateFailure) => {
      if (done) return;
      done = true;
      parts.length = 0;
      gunzip.destroy();
      resolve(why);
    };
    gunzip.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) return stop("too-large");
      if (!grow(size)) return stop("throttled");
      try {
        parts.push(decoder.decode(chunk, { stream: true }));
      } catch {
        stop("not-utf8");
      }
    });
    gunzip.on("error", () => stop("corrupt"));
    gunzip.on("end", () => {
      if (done) return;
      done = true;
      try {
        parts.push(decoder.decode());
        resolve(parts.join(""));
      } catch {
        resolve("not-utf8");
      }
    });
    gunzip.end(body);
  });
}

const INFLATE_CHUNK_BYTES = 64 * 1024;

/** A gzip member starts with these: ID1, ID2 and CM = 8 (deflate). */
function looksLikeGzip(body: Uint8Array): boolean {
  return body.length >= 18 && body[0] === 0x1f && body[1] === 0x8b && body[2] === 8;
}

/** ISIZE, the gzip trailer's inflated size of the last member (mod 2^32). */
function statedInflatedSize(body: Uint8Array): number {
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUInt32LE(body.length - 4);
}

/**
 * The bytes a batch reserves of the ingest memory bound before it is decoded: its body's length,
 * or for gzip the inflated size its trailer states, within the per-batch limit. (A trailer over
 * the limit reserves nothing big: the batch is refused before anything is inflated.)
 */
export function ingestReservation(
  batch: Pick<IngestBatch, "encoding" | "body">,
  maxInflatedBytes: number,
): number {
  if (batch.encoding !== "gzip" || !looksLikeGzip(batch.body)) return batch.body.length;
  const stated = statedInflatedSize(batch.body);
  return stated > maxInflatedBytes ? batch.body.length : Math.max(stated, batch.body.length);
}

/** The bytes a batch holds of the memory bound: its reservation, and what it took beyond it. */
export interface IngestHold {
  /** The body has inflated to `bytes`: true if the bound lets it hold that many. */
  grow(bytes: number): boolean;
  /** Gives back what was taken beyond the reservation (the request thread gives back the rest): how much. */
  releaseExtra(): number;
}

/** Beyond its reservation a body takes the bound a mebibyte at a time. */
const GROW_STEP_BYTES = 1024 * 1024;

export function ingestHold(memory: IngestMemoryView | undefined, reserved: number): IngestHold {
  let extra = 0;
  return {
    grow(bytes) {
      if (memory === undefined || bytes <= reserved + extra) return true;
      const step = Math.max(GROW_STEP_BYTES, bytes - reserved - extra);
      if (!memory.tryTake(step)) return false;
      extra += step;
      return true;
    },
    releaseExtra() {
      const given = extra;
      if (given > 0) memory?.release(given);
      extra = 0;
      return given;
    },
  };
}

/** Refused because the memory bound is reached: the SDKs and the AWS CLI retry it by themselves. */
export const INGEST_THROTTLED: IngestRefused = {
  kind: "refused",
  code: "ThrottlingException",
  message: rateExceeded().message,
  status: 503,
};

/** Each record's own text when it was sent compact (stored as it came), else undefined. */
function sentTexts(text: string, count: number): (string | undefined)[] | undefined {
  const found = recordTexts(text);
  if (found === undefined || found.length !== count) return undefined;
  return found.map((r) => (r.compact ? text.slice(r.start, r.end) : undefined));
}

const bad = (message: string): IngestDecodeFailure => ({
  kind: "refused",
  code: "SerializationException",
  message,
});

/**
 * Inflates (`maxInflatedBytes` at most: a small gzip body may inflate a thousandfold), decodes and
 * parses a batch's body and finds its records, at most MAX_INGEST_RECORDS of them. Where ingest
 * threads run, this runs on one of them, not on the request thread. `hold` is told how far the body
 * inflates (it may refuse to let it go on).
 */
export async function decodeIngestBody(
  batch: Pick<IngestBatch, "encoding" | "body">,
  maxInflatedBytes: number,
  hold: IngestHold = ingestHold(undefined, 0),
): Promise<IngestBody | IngestDecodeFailure | IngestRefused> {
  let text: string;
  if (batch.encoding === "gzip") {
    if (!looksLikeGzip(batch.body)) return bad("Body is not valid gzip");
    const tooLarge: IngestDecodeFailure = {
      kind: "refused",
      code: "RequestEntityTooLargeException",
      message: `Inflated body is larger than ${maxInflatedBytes} bytes`,
    };
    // the trailer states the last member's size: the whole body is at least that
    if (statedInflatedSize(batch.body) > maxInflatedBytes) return tooLarge;
    const inflated = await inflateText(batch.body, maxInflatedBytes, hold.grow);
    if (inflated === "too-large") return tooLarge;
    if (inflated === "corrupt") return bad("Body is not valid gzip");
    if (inflated === "not-utf8") return bad("Body is not a JSON document");
    if (inflated === "throttled") return INGEST_THROTTLED;
    text = inflated;
  } else if (batch.encoding !== "" && batch.encoding !== "identity") {
    return bad(`Unsupported Content-Encoding ${batch.encoding}`);
  } else {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(batch.body);
    } catch {
      return bad("Body is not a JSON document");
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad("Body is not a JSON document");
  }
  const records = (parsed as { Records?: unknown } | null)?.Records;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Array.isArray(records)) {
    return bad('Body must be a JSON object with a "Records" list');
  }
  if (records.length > MAX_INGEST_RECORDS) {
    return {
      kind: "refused",
      code: "RequestEntityTooLargeException",
      message: `A batch holds at most ${MAX_INGEST_RECORDS} records; this one has ${records.length}`,
    };
  }
  return { kind: "decoded", records, sentTexts: sentTexts(text, records.length) };
}
