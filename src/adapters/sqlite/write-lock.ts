/** Longest wait for a turn before going ahead and leaving the wait to SQLite's own locking. */
const WAIT_LIMIT_MS = 5_000;

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

  /** Runs `fn` (synchronous: a transaction or a statement) in this thread's turn. */
  hold<T>(fn: () => T): T {
    const cells = this.#cells;
    const ticket = Atomics.add(cells, NEXT, 1);
    const deadline = Date.now() + this.#waitLimitMs;
    let serving = Atomics.load(cells, SERVING);
    while (serving !== ticket) {
      const left = deadline - Date.now();
      if (left <= 0) {
        // The turns are stuck on a holder that never ended: serve from this ticket on.
        Atomics.store(cells, SERVING, ticket);
        break;
      }
      Atomics.wait(cells, SERVING, serving, left);
      serving = Atomics.load(cells, SERVING);
    }
    try {
      return fn();
    } finally {
      Atomics.store(cells, SERVING, ticket + 1);
      Atomics.notify(cells, SERVING);
    }
  }
}
