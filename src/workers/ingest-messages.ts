import type { StoresDescriptor } from "../adapters/index.ts";
import type { IngestBatch, IngestOutcome } from "../wire/ingest.ts";

/** What an ingest thread is started with. */
export interface IngestThreadData {
  /** The request thread's descriptor, its write lock included: appends take turns. */
  stores: StoresDescriptor;
  logLevel: string;
  maxInflatedBytes: number;
  /** The ingest memory bound's count, shared with the request thread (ingest-memory.ts). */
  memory: SharedArrayBuffer;
}

export type ToThread =
  | { type: "batch"; id: number; batch: IngestBatch }
  /** An account's trails changed (undefined: every account's): route with fresh trails. */
  | { type: "invalidate"; accountId?: string }
  | { type: "close" };

export type FromThread =
  | { type: "ready" }
  | { type: "done"; id: number; outcome: IngestOutcome }
  | { type: "failed"; id: number; error: string };
