import type { RequestContext } from "./context.ts";
import type { ErrorCode } from "./errors.ts";

/*
 * POST /ingest as plain data. The request thread checks the signature and hands on a batch; an
 * ingest runner (inline, or on an ingest thread) decodes and stores it and hands back an outcome;
 * the request thread turns the outcome into the HTTP answer. Both cross threads by structured
 * clone, so they hold no functions, errors or class instances.
 */

/** Largest batch one ingest call may carry. */
export const MAX_INGEST_RECORDS = 10_000;

/** A signed-off batch: who sent it, where, when, and its body, not yet decoded. */
export interface IngestBatch {
  requestId: string;
  accountId: string;
  region: string;
  /** The request's time (ms since the epoch): defaults eventTime. */
  now: number;
  /** Content-Encoding, trimmed and lower-cased ("" when absent). */
  encoding: string;
  body: Uint8Array;
  /** Bytes the request thread holds of the ingest memory bound for this batch while it is decoded. */
  reservedBytes: number;
}

export interface IngestProblem {
  index: number;
  reason: string;
}

/** Committed: the batch's event ids in order, and those that were already stored. */
export interface IngestStored {
  kind: "stored";
  eventIds: string[];
  duplicates: string[];
  /** Stored records the caller should hear about (older than event history, dated ahead). */
  warnings?: IngestProblem[];
}

/** At least one record is invalid, so nothing was stored; `total` records were sent. */
export interface IngestInvalid {
  kind: "invalid";
  problems: IngestProblem[];
  total: number;
}

/** Not taken: a body that cannot be decoded, a typed error while storing, no ingest thread. */
export interface IngestRefused {
  kind: "refused";
  code: ErrorCode;
  message: string;
  /** When it is not the code's usual status (ThrottlingException for memory is 503). */
  status?: number;
}

export type IngestOutcome = IngestStored | IngestInvalid | IngestRefused;

/** Decodes and stores a batch; inline and the ingest thread pool are both one of these. */
export type IngestRunner = (batch: IngestBatch) => Promise<IngestOutcome>;

/** What storing a batch needs of its request: the caller's account and region, time and ids. */
export type IngestContext = Pick<RequestContext, "accountId" | "region" | "clock" | "ids">;
