import { gunzip } from "node:zlib";
import type { Logger } from "pino";
import { ERROR_STATUS, isCloudTrailError } from "../api/errors.ts";
import {
  type IngestBatch,
  type IngestOutcome,
  type IngestRefused,
  type IngestRunner,
  MAX_INGEST_RECORDS,
} from "../api/ingest.ts";
import type { Clock, CredentialStore, Ids } from "../ports/index.ts";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "./handler.ts";
import { recordTexts } from "./raw-json.ts";
import { verifySigV4 } from "./sigv4.ts";
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
      const { credential, region } = await verifySigV4(req, opts);
      const outcome = await opts.runner({
        requestId,
        accountId: credential.principal.accountId,
        region,
        now: opts.clock.now().getTime(),
        encoding: (req.headers["content-encoding"] ?? "").trim().toLowerCase(),
        body: req.body,
      });
      return { ...ingestAnswer(requestId, outcome), operation: INGEST_OPERATION };
    } catch (e) {
      return {
        ...ingestAnswer(requestId, ingestFailure(requestId, e, opts.log)),
        operation: INGEST_OPERATION,
      };
    }
  };
}

/** The HTTP answer to an outcome: the one place that knows ingest's statuses and bodies. */
export function ingestAnswer(requestId: string, outcome: IngestOutcome): RawResponse {
  switch (outcome.kind) {
    case "stored":
      return {
        status: 200,
        headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
        body: JSON.stringify({ eventIds: outcome.eventIds, duplicates: outcome.duplicates }),
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
      return errorResponse(requestId, outcome.code, outcome.message, ERROR_STATUS[outcome.code]);
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

function inflate(body: Uint8Array, limit: number): Promise<Buffer | "too-large" | "corrupt"> {
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) resolve(out);
      else resolve((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ? "too-large" : "corrupt");
    });
  });
}

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
 * threads run, this runs on one of them, not on the request thread.
 */
export async function decodeIngestBody(
  batch: Pick<IngestBatch, "encoding" | "body">,
  maxInflatedBytes: number,
): Promise<IngestBody | IngestDecodeFailure> {
  let body = batch.body;
  if (batch.encoding === "gzip") {
    const inflated = await inflate(body, maxInflatedBytes);
    if (inflated === "too-large") {
      return {
        kind: "refused",
        code: "RequestEntityTooLargeException",
        message: `Inflated body is larger than ${maxInflatedBytes} bytes`,
      };
    }
    if (inflated === "corrupt") return bad("Body is not valid gzip");
    body = inflated;
  } else if (batch.encoding !== "" && batch.encoding !== "identity") {
    return bad(`Unsupported Content-Encoding ${batch.encoding}`);
  }
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
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
