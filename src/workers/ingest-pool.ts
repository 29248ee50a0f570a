import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "../wire/handler.ts";
import type { IngestBatch } from "../wire/ingest.ts";
import type { RawResponse } from "../wire/types.ts";
import type { FromThread, IngestThreadData, ToThread } from "./ingest-messages.ts";

/** The built thread; from the TypeScript sources (tests) there is none and ingest stays inline. */
let threadUrl = new URL("./ingest-thread.js", import.meta.url);
let threadsOverride: number | undefined;

export function ingestThreadsAvailable(): boolean {
  return threadUrl.protocol === "file:" && existsSync(fileURLToPath(threadUrl));
}

/**
 * For tests that run the TypeScript sources: take the built thread at `url`, and start `threads`
 * of them whatever the configuration says (unless it says 0).
 */
export function useBuiltIngestThread(url: URL, threads: number): void {
  threadUrl = url;
  threadsOverride = threads;
}

/** How many ingest threads to start for a configured number. */
export function ingestThreadCount(configured: number): number {
  if (configured === 0 || !ingestThreadsAvailable()) return 0;
  return threadsOverride ?? configured;
}

interface Pending {
  batch: IngestBatch;
  resolve: (response: RawResponse) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by id. */
  pending: Map<number, Pending>;
  ready: Promise<void>;
}

export interface IngestPool {
  /** Stores a batch on the least busy thread and answers as `processIngestBatch` does. */
  process(batch: IngestBatch): Promise<RawResponse>;
  /** Tells every thread that an account's trails changed (undefined: every account's). */
  invalidate(accountId?: string): void;
  /** Ends the threads once they have answered what they hold. */
  close(): Promise<void>;
}

/**
 * POST /ingest batches stored by `size` worker threads. A thread that dies answers its batches
 * with InternalFailure (they may or may not be stored; a client's retry is safe, duplicates are
 * skipped) and is replaced.
 */
export function startIngestPool(size: number, data: IngestThreadData, log: Logger): IngestPool {
  let nextId = 0;
  let turn = 0;
  let closing = false;
  const threads: Thread[] = [];

  function spawn(slot: number): void {
    const worker = new Worker(threadUrl, { workerData: data });
    const pending = new Map<number, Pending>();
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const thread: Thread = { worker, pending, ready };
    threads[slot] = thread;
    worker.on("message", (message: FromThread) => {
      if (message.type === "ready") {
        markReady();
        return;
      }
      const p = pending.get(message.id);
      if (p === undefined) return;
      pending.delete(message.id);
      if (message.type === "done") p.resolve(message.response);
      else {
        log.error({ requestId: p.batch.requestId, error: message.error }, "ingest thread failed a batch");
        p.resolve(errorResponse(p.batch.requestId, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500));
      }
    });
    worker.on("error", (err) => log.error({ err }, "ingest thread crashed"));
    worker.on("exit", (code) => {
      markReady();
      for (const p of pending.values()) {
        p.resolve(errorResponse(p.batch.requestId, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500));
      }
      pending.clear();
      if (!closing) {
        log.error({ code }, "ingest thread exited; starting another");
        spawn(slot);
      }
    });
  }

  for (let i = 0; i < size; i++) spawn(i);

  const post = (thread: Thread, message: ToThread) => thread.worker.postMessage(message);

  return {
    process(batch) {
      // the least busy thread; ties taken in turn, so that every thread's connection writes
      turn = (turn + 1) % threads.length;
      let thread = threads[turn]!;
      for (const t of threads) if (t.pending.size < thread.pending.size) thread = t;
      const id = nextId++;
      return new Promise((resolve) => {
        thread.pending.set(id, { batch, resolve });
        post(thread, { type: "batch", id, batch });
      });
    },
    invalidate(accountId) {
      for (const t of threads) post(t, { type: "invalidate", accountId });
    },
    async close() {
      closing = true;
      await Promise.all(
        threads.map(async (t) => {
          await t.ready;
          const exited = new Promise<void>((resolve) => t.worker.once("exit", () => resolve()));
          post(t, { type: "close" });
          await exited;
        }),
      );
    },
  };
}
