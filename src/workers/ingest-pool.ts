import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ResourceLimits, Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { RecordStore, StoredEvent } from "../recording/recorder.ts";
import { INTERNAL_FAILURE_MESSAGE } from "../wire/handler.ts";
import type { IngestBatch, IngestOutcome } from "../wire/ingest.ts";
import type { AppendResult, FromThread, IngestThreadData, ToThread } from "./ingest-messages.ts";

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

type Pending =
  | { kind: "batch"; batch: IngestBatch; resolve: (outcome: IngestOutcome) => void }
  | { kind: "appends"; waiters: AppendWaiter[] };

interface AppendWaiter {
  resolve: (result: AppendResult) => void;
  reject: (err: Error) => void;
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
/** An append whose thread died or failed it: like a failed append inline, the call is not answered as recorded. */
function appendFailed(why: string): Error {
  return new Error(`the ingest thread storing these records ${why}; they may or may not be stored`);
}
const NO_THREAD: IngestOutcome = {
  kind: "refused",
  code: "ServiceUnavailable",
  message: "Ingest is not available right now; retry later",
};

export interface IngestPool {
  /** Stores a batch on the least busy thread: an ingest runner, as the inline one is. */
  process(batch: IngestBatch): Promise<IngestOutcome>;
  /**
   * Stores records built on the request thread (routed already) on the least busy thread,
   * answered once committed; undefined while no thread is alive.
   */
  append(events: StoredEvent[], receivedAt?: Date): Promise<AppendResult> | undefined;
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
      if (p.kind === "batch") {
        if (message.type === "done") p.resolve(message.outcome);
        else {
          const error = message.type === "failed" ? message.error : message.type;
          log.error({ requestId: p.batch.requestId, error }, "ingest thread failed a batch");
          p.resolve(THREAD_DIED);
        }
      } else if (message.type === "appended") {
        for (const [i, w] of p.waiters.entries()) {
          const r = message.results[i];
          if (r !== undefined && "ok" in r) w.resolve(r.ok);
          else w.reject(appendFailed(`failed (${r?.error ?? "no result"})`));
        }
      } else {
        const why = appendFailed(`failed (${message.type === "failed" ? message.error : message.type})`);
        for (const w of p.waiters) w.reject(why);
      }
    });
    worker.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") outOfMemory = true;
      log.error({ err, batches: pending.size }, "ingest thread crashed");
    });
    worker.on("exit", (code) => {
      thread.alive = false;
      markReady();
      for (const p of pending.values()) {
        if (p.kind === "batch") p.resolve(outOfMemory ? THREAD_OUT_OF_MEMORY : THREAD_DIED);
        else for (const w of p.waiters) w.reject(appendFailed("exited"));
      }
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

  /**
   * The appends of this turn of the event loop, sent together after its I/O (every call read in
   * the turn has reached its append by then) as one message, for one transaction. Always to the
   * first live thread: a connection that does every such write keeps the pages it writes cached.
   */
  let queued:
    | { thread: Thread; appends: { events: StoredEvent[]; receivedAt?: Date }[]; waiters: AppendWaiter[] }
    | undefined;
  function sendQueued(): void {
    const q = queued;
    queued = undefined;
    if (q === undefined) return;
    if (!q.thread.alive) {
      for (const w of q.waiters) w.reject(appendFailed("exited"));
      return;
    }
    const id = nextId++;
    q.thread.pending.set(id, { kind: "appends", waiters: q.waiters });
    post(q.thread, { type: "appends", id, appends: q.appends });
  }

  /** The least busy live thread; ties taken in turn, so that every thread's connection writes. */
  function leastBusy(): Thread | undefined {
    turn = (turn + 1) % threads.length;
    let thread: Thread | undefined;
    for (let i = 0; i < threads.length; i++) {
      const t = threads[(turn + i) % threads.length]!;
      if (t.alive && (thread === undefined || t.pending.size < thread.pending.size)) thread = t;
    }
    return thread;
  }

  return {
    process(batch) {
      const chosen = leastBusy();
      if (chosen === undefined) return Promise.resolve(NO_THREAD);
      const id = nextId++;
      return new Promise((resolve) => {
        chosen.pending.set(id, { kind: "batch", batch, resolve });
        post(chosen, { type: "batch", id, batch });
      });
    },
    append(events, receivedAt) {
      if (queued === undefined) {
        const thread = threads.find((t) => t.alive);
        if (thread === undefined) return undefined;
        queued = { thread, appends: [], waiters: [] };
        setImmediate(sendQueued);
      }
      const q = queued;
      return new Promise((resolve, reject) => {
        q.appends.push(receivedAt ? { events, receivedAt } : { events });
        q.waiters.push({ resolve, reject });
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

/**
 * The recorder's store: appends made by the pool's threads (by `events` inline while none is
 * alive), so that the request thread spends nothing on the write of each call it records.
 */
export function appendsOnThreads(events: RecordStore, pool: IngestPool): RecordStore {
  return {
    append: (batch, receivedAt) => pool.append(batch, receivedAt) ?? events.append(batch, receivedAt),
  };
}
