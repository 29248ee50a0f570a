import { gunzip } from "node:zlib";
import type { Logger } from "pino";
import { isCloudTrailError } from "../api/errors.ts";
import type { Clock, CredentialStore, Ids } from "../ports/index.ts";
import type { IngestContext, IngestOutcome } from "../service/ingest.ts";
import { MAX_INGEST_RECORDS } from "../service/ingest.ts";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "./handler.ts";
import { recordTexts } from "./raw-json.ts";
import { verifySigV4 } from "./sigv4.ts";
import type { RawRequest, RawResponse } from "./types.ts";

/** A signed-off batch: what the request thread hands on after checking the signature. */
export interface IngestBatch {
  requestId: string;
  accountId: string;
  region: string;
  /** The request's time (ms since the epoch): defaults eventTime. */
  now: number;
  /** Content-Encoding, trimmed and lower-cased ("" when absent). */
  encoding: string;
  body: Uint8Array;
}

export interface BatchDeps {
  ids: Ids;
  log: Logger;
  ingest: (
    ctx: IngestContext,
    records: readonly unknown[],
    sentTexts?: readonly (string | undefined)[],
  ) => Promise<IngestOutcome>;
  /** Largest inflated body of a gzip request (a small body may inflate a thousandfold). */
  maxInflatedBytes: number;
}

export interface IngestOptions {
  credentials: CredentialStore;
  regions: readonly string[];
  clock: Clock;
  ids: Ids;
  log: Logger;
  /** Stores a batch and answers: `processIngestBatch` here or on an ingest worker thread. */
  process: (batch: IngestBatch) => Promise<RawResponse>;
}

const JSON_TYPE = "application/json";

function inflate(body: Uint8Array, limit: number): Promise<Buffer | "too-large" | "corrupt"> {
  return new Promise((resolve) => {
    gunzip(body, { maxOutputLength: limit }, (err, out) => {
      if (!err) resolve(out);
      else resolve((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE" ? "too-large" : "corrupt");
    });
  });
}

/**
 * `POST /ingest`: a CloudTrail log file body (`{"Records":[…]}`, plain or gzip), SigV4-signed like
 * an API call. The signature is checked here; the batch is stored by `opts.process`, which answers
 * with the stored event ids once the batch is committed.
 */
export function createIngestHandler(opts: IngestOptions): (req: RawRequest) => Promise<RawResponse> {
  return async (req) => {
    const requestId = opts.ids.uuid();
    try {
      const { credential, region } = await verifySigV4(req, opts);
      return await opts.process({
        requestId,
        accountId: credential.principal.accountId,
        region,
        now: opts.clock.now().getTime(),
        encoding: (req.headers["content-encoding"] ?? "").trim().toLowerCase(),
        body: req.body,
      });
    } catch (e) {
      if (isCloudTrailError(e)) return errorResponse(requestId, e.code, e.message, e.status);
      opts.log.error({ err: e, requestId }, "ingest failed");
      return errorResponse(requestId, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500);
    }
  };
}

/** Each record's own text when it was sent compact (stored as it came), else undefined. */
function sentTexts(text: string, count: number): (string | undefined)[] | undefined {
  const found = recordTexts(text);
  if (found === undefined || found.length !== count) return undefined;
  return found.map((r) => (r.compact ? text.slice(r.start, r.end) : undefined));
}

/** Inflates, parses, checks and stores one batch, all or nothing, and builds the answer. */
export async function processIngestBatch(batch: IngestBatch, deps: BatchDeps): Promise<RawResponse> {
  const { requestId } = batch;
  const log = deps.log.child({ requestId });
  const bad = (message: string) => errorResponse(requestId, "SerializationException", message, 400);
  try {
    let body = batch.body;
    if (batch.encoding === "gzip") {
      const inflated = await inflate(body, deps.maxInflatedBytes);
      if (inflated === "too-large") {
        return errorResponse(
          requestId,
          "RequestEntityTooLargeException",
          `Inflated body is larger than ${deps.maxInflatedBytes} bytes`,
          413,
        );
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
      return errorResponse(
        requestId,
        "RequestEntityTooLargeException",
        `A batch holds at most ${MAX_INGEST_RECORDS} records; this one has ${records.length}`,
        413,
      );
    }
    const now = new Date(batch.now);
    const ctx: IngestContext = {
      accountId: batch.accountId,
      region: batch.region,
      clock: { now: () => now },
      ids: deps.ids,
    };
    const outcome = await deps.ingest(ctx, records, sentTexts(text, records.length));
    if (!outcome.ok) {
      return {
        status: 400,
        headers: {
          "content-type": JSON_TYPE,
          "x-amzn-requestid": requestId,
          "x-amzn-errortype": "ValidationException",
        },
        body: JSON.stringify({
          __type: "ValidationException",
          message: `${outcome.problems.length} of ${records.length} records are invalid; nothing was stored`,
          invalidRecords: outcome.problems,
        }),
      };
    }
    log.debug({ records: records.length, duplicates: outcome.duplicates.length }, "ingested");
    return {
      status: 200,
      headers: { "content-type": JSON_TYPE, "x-amzn-requestid": requestId },
      body: JSON.stringify({ eventIds: outcome.eventIds, duplicates: outcome.duplicates }),
    };
  } catch (e) {
    if (isCloudTrailError(e)) return errorResponse(requestId, e.code, e.message, e.status);
    log.error({ err: e }, "ingest failed");
    return errorResponse(requestId, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500);
  }
}
