/**
 * Longest wait for a turn before going ahead and leaving the wait to SQLite's own locking. Long:
 * a turn may legitimately take seconds (a large batch on a slow disk), and a holder that never
 * ends its turn cannot happen short of a crash of the whole process.
 */
const WAIT_LIMIT_MS = 30_000;

/** `Atomics.waitAsync` (Node 16+; its types came with ES2024's lib). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      cells: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Int32 cells of the shared buffer: the next ticket to hand out, and the ticket being served. */
const NEXT = 0;
const SERVING = 1;

/**
 * Turns, first come first served, between the threads that write to one database, handed over
 * the moment the holder commits. SQLite itself lets one connection write at a time, but a
 * connection that finds the database busy sleeps 1, 2, 5, 10 ... ms before it looks again: next
 * to ingest threads that write back to back, the request thread (whose event loop stops while
 * it sleeps) would wait seconds for a gap. A ticket lock serves every thread in the order it
 * asked. The lock only orders the threads: SQLite's locking still guarantees correctness, so a
 * thread that waited too long (a holder that died) goes ahead.
 */
export class WriteLock {
  readonly #cells: Int32Array;
  readonly #waitLimitMs: number;

  /** `shared` comes from `WriteLock.shared()`, passed to every thread that writes. */
  constructor(shared: SharedArrayBuffer, waitLimitMs = WAIT_LIMIT_MS) {
    this.#cells = new Int32Array(shared, 0, 2);
    this.#waitLimitMs = waitLimitMs;
  }

  static shared(): SharedArrayBuffer {
    return new SharedArrayBuffer(8);
  }

  /** Runs `fn` (synchronous: a transaction or a statement) in this thread's turn, blocking until then. */
  hold<T>(fn: () => T): T {
    const ticket = Atomics.add(this.#cells, NEXT, 1);
    const deadline = Date.now() + this.#waitLimitMs;
    for (let serving = Atomics.load(this.#cells, SERVING); ahead(ticket, serving); ) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#unstick(ticket);
        break;
      }
      Atomics.wait(this.#cells, SERVING, serving, left);
      serving = Atomics.load(this.#cells, SERVING);
    }
    return this.#run(ticket, fn);
  }

  /**
   * `hold` for a thread with an event loop to keep turning (the request thread): waits for the turn
   * without blocking, then runs `fn` synchronously.
   */
  async holdAsync<T>(fn: () => T): Promise<T> {
    const ticket = Atomics.add(this.#cells, NEXT, 1);
    const deadline = Date.now() + this.#waitLimitMs;
    for (let serving = Atomics.load(this.#cells, SERVING); ahead(ticket, serving); ) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.#unstick(ticket);
        break;
      }
      const wait = waitAsync(this.#cells, SERVING, serving, left);
      if (wait.async) await wait.value;
      serving = Atomics.load(this.#cells, SERVING);
    }
    return this.#run(ticket, fn);
  }

  /** The turns are stuck on a holder that never ended: serve from this ticket on, never back. */
  #unstick(ticket: number): void {
    for (let serving = Atomics.load(this.#cells, SERVING); ahead(ticket, serving); ) {
      const seen = Atomics.compareExchange(this.#cells, SERVING, serving, ticket);
      if (seen === serving) break;
      serving = seen;
    }
  }

  #run<T>(ticket: number, fn: () => T): T {
    try {
      return fn();
    } finally {
      // a turn skipped by a waiter that gave up on it leaves the count where that waiter put it
      Atomics.compareExchange(this.#cells, SERVING, ticket, ticket + 1);
      Atomics.notify(this.#cells, SERVING);
    }
  }
}

/** Is `ticket` still to come when `serving` is served? Tickets wrap around at 2^31. */
function ahead(ticket: number, serving: number): boolean {
  return ((ticket - serving) | 0) > 0;
}

/** Runs a write in this thread's turn; awaiting the result is always right. */
export type InTurn = <T>(fn: () => T) => T | Promise<T>;

/**
 * How a connection's writes take their turns: blocking (worker threads, which have nothing else
 * to do meanwhile), yielding to the event loop (the request thread), or at once without a lock.
 */
export function inTurns(lock: WriteLock | undefined, yielding: boolean): InTurn {
  if (lock === undefined) return (fn) => fn();
  return yielding ? (fn) => lock.holdAsync(fn) : (fn) => lock.hold(fn);
}
