import type { IngestBatch } from "../wire/ingest.ts";
import type { RawResponse } from "../wire/types.ts";

/** What an ingest thread is started with. */
export interface IngestThreadData {
  dbPath: string;
  /** The request thread's `WriteLock.shared()`: appends take turns. */
  writeLock: SharedArrayBuffer;
  logLevel: string;
  maxInflatedBytes: number;
}

export type ToThread =
  | { type: "batch"; id: number; batch: IngestBatch }
  /** An account's trails changed (undefined: every account's): route with fresh trails. */
  | { type: "invalidate"; accountId?: string }
  | { type: "close" };

export type FromThread =
  | { type: "ready" }
  | { type: "done"; id: number; response: RawResponse }
  | { type: "failed"; id: number; error: string };
