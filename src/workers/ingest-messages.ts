import type { StoresDescriptor } from "../adapters/index.ts";
import type { StoredEvent } from "../recording/recorder.ts";
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
  /**
   * The appends of records the request thread built (its own calls, proxied calls) in one turn of
   * its event loop, routed: stored as they are, in one transaction when nothing fails.
   */
  | { type: "appends"; id: number; appends: { events: StoredEvent[]; receivedAt?: Date }[] }
  /** An account's trails changed (undefined: every account's): route with fresh trails. */
  | { type: "invalidate"; accountId?: string }
  | { type: "close" };

export type FromThread =
  | { type: "ready" }
  | { type: "done"; id: number; outcome: IngestOutcome }
  /** One result per append of an `appends` message, in its order. */
  | { type: "appended"; id: number; results: ({ ok: AppendResult } | { error: string })[] }
  | { type: "failed"; id: number; error: string };

/** What EventStore.append answers. */
export interface AppendResult {
  inserted: number;
  duplicates: string[];
}
