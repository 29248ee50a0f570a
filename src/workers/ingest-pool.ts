import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ResourceLimits, Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { INTERNAL_FAILURE_MESSAGE } from "../wire/handler.ts";
import type { IngestBatch, IngestOutcome } from "../wire/ingest.ts";
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
  resolve: (outcome: IngestOutcome) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by id. */
  pending: Map<number, Pending>;
  ready: Promise<void>;
  /** False from its exit until its replacement is started. */
  alive: boolean;
}

/** A thread that dies before it is ready is started again after this, doubling up to a minute. */
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 60_000;

/** A batch whose thread died: it may or may not be stored. */
const THREAD_DIED: IngestOutcome = {
  kind: "refused",
  code: "InternalFailure",
  message: INTERNAL_FAILURE_MESSAGE,
};
/**
 * A batch whose thread ran out of memory (the bound on inflated bytes keeps this rare: parsed
 * records take several times their text): the thread is replaced, and the batch, decoded all or
 * nothing, was most likely not stored; a retry is safe either way.
 */
const THREAD_OUT_OF_MEMORY: IngestOutcome = {
  kind: "refused",
  code: "ServiceUnavailable",
  message: "The ingest thread taking this batch ran out of memory and was replaced; retry later",
};
const NO_THREAD: IngestOutcome = {
  kind: "refused",
  code: "ServiceUnavailable",
  message: "Ingest is not available right now; retry later",
};

export interface IngestPool {
  /** Stores a batch on the least busy thread: an ingest runner, as the inline one is. */
  process(batch: IngestBatch): Promise<IngestOutcome>;
  /** Tells every thread that an account's trails changed (undefined: every account's). */
  invalidate(accountId?: string): void;
  /** Ends the threads once they have answered what they hold. */
  close(): Promise<void>;
}

/**
 * POST /ingest batches stored by `size` worker threads. A thread that dies answers its batches
 * with InternalFailure (they may or may not be stored; a client's retry is safe, duplicates are
 * skipped) and is replaced: at once if it had been working, after a growing pause if it died
 * while starting (a database it cannot open), so that a broken start does not spin. While no
 * thread is alive, batches are answered with ServiceUnavailable.
 */
export function startIngestPool(
  size: number,
  data: IngestThreadData,
  log: Logger,
  /** For tests: a small heap, to see what a thread that runs out of memory answers. */
  resourceLimits?: ResourceLimits,
): IngestPool {
  let nextId = 0;
  let turn = 0;
  let closing = false;
  const threads: Thread[] = [];
  const restartTimers = new Set<NodeJS.Timeout>();

  function spawn(slot: number, restartDelayMs: number): void {
    const worker = new Worker(threadUrl, { workerData: data, ...(resourceLimits ? { resourceLimits } : {}) });
    const pending = new Map<number, Pending>();
    let started = false;
    let outOfMemory = false;
    let markReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    const thread: Thread = { worker, pending, ready, alive: true };
    threads[slot] = thread;
    worker.on("message", (message: FromThread) => {
      if (message.type === "ready") {
        started = true;
        markReady();
        return;
      }
      const p = pending.get(message.id);
      if (p === undefined) return;
      pending.delete(message.id);
      if (message.type === "done") p.resolve(message.outcome);
      else {
        log.error({ requestId: p.batch.requestId, error: message.error }, "ingest thread failed a batch");
        p.resolve(THREAD_DIED);
      }
    });
    worker.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") outOfMemory = true;
      log.error({ err, batches: pending.size }, "ingest thread crashed");
    });
    worker.on("exit", (code) => {
      thread.alive = false;
      markReady();
      for (const p of pending.values()) p.resolve(outOfMemory ? THREAD_OUT_OF_MEMORY : THREAD_DIED);
      pending.clear();
      if (closing) return;
      const delay = started ? 0 : restartDelayMs;
      log.error({ code, restartInMs: delay }, "ingest thread exited; starting another");
      const next = started ? FIRST_RESTART_DELAY_MS : Math.min(MAX_RESTART_DELAY_MS, 2 * restartDelayMs);
      const timer = setTimeout(() => {
        restartTimers.delete(timer);
        if (!closing) spawn(slot, next);
      }, delay);
      timer.unref();
      restartTimers.add(timer);
    });
  }

  for (let i = 0; i < size; i++) spawn(i, FIRST_RESTART_DELAY_MS);

  const post = (thread: Thread, message: ToThread) => thread.worker.postMessage(message);

  return {
    process(batch) {
      // the least busy thread; ties taken in turn, so that every thread's connection writes
      turn = (turn + 1) % threads.length;
      let thread: Thread | undefined;
      for (let i = 0; i < threads.length; i++) {
        const t = threads[(turn + i) % threads.length]!;
        if (t.alive && (thread === undefined || t.pending.size < thread.pending.size)) thread = t;
      }
      if (thread === undefined) return Promise.resolve(NO_THREAD);
      const chosen = thread;
      const id = nextId++;
      return new Promise((resolve) => {
        chosen.pending.set(id, { batch, resolve });
        post(chosen, { type: "batch", id, batch });
      });
    },
    invalidate(accountId) {
      // a thread started later reads the trails afresh anyway
      for (const t of threads) if (t.alive) post(t, { type: "invalidate", accountId });
    },
    async close() {
      closing = true;
      for (const timer of restartTimers) clearTimeout(timer);
      await Promise.all(
        threads.map(async (t) => {
          await t.ready;
          if (!t.alive) return;
          const exited = new Promise<void>((resolve) => t.worker.once("exit", () => resolve()));
          post(t, { type: "close" });
          await exited;
        }),
      );
    },
  };
}
