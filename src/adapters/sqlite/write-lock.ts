/** Longest wait for the lock before going ahead and leaving the wait to SQLite's own locking. */
const WAIT_LIMIT_MS = 5_000;

/**
 * Turns between the threads that append to one database, handed over the moment the holder
 * commits. SQLite itself lets one connection write at a time, but a connection that finds the
 * database busy sleeps 1, 2, 5, 10 ... ms before it looks again; next to a 500-event append
 * (several milliseconds) two ingest threads would spend much of their time asleep. The lock only
 * orders the threads: SQLite's locking still guarantees correctness, so a thread that waited
 * too long (a holder that died) goes ahead.
 */
export class WriteLock {
  readonly #cell: Int32Array;
  readonly #waitLimitMs: number;

  /** `shared` comes from `WriteLock.shared()`, passed to every thread that writes. */
  constructor(shared: SharedArrayBuffer, waitLimitMs = WAIT_LIMIT_MS) {
    this.#cell = new Int32Array(shared, 0, 1);
    this.#waitLimitMs = waitLimitMs;
  }

  static shared(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  /** Runs `fn` (synchronous: a transaction) while holding the lock. */
  hold<T>(fn: () => T): T {
    const deadline = Date.now() + this.#waitLimitMs;
    let held = Atomics.compareExchange(this.#cell, 0, 0, 1) === 0;
    while (!held) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      Atomics.wait(this.#cell, 0, 1, left);
      held = Atomics.compareExchange(this.#cell, 0, 0, 1) === 0;
    }
    try {
      return fn();
    } finally {
      if (held) {
        Atomics.store(this.#cell, 0, 0);
        Atomics.notify(this.#cell, 0, 1);
      }
    }
  }
}
