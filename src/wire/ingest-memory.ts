/*
 * One bound on the bytes of POST /ingest bodies being inflated and parsed at once, whichever thread
 * does it: a small gzip body may inflate a thousandfold, and its parsed records take several times
 * their text. The count lives in a SharedArrayBuffer, so that the request thread and every ingest
 * thread add to and take from the same number.
 *
 * The request thread reserves a batch's size before handing it on (a gzip body's size is the one
 * its trailer states), waiting its turn for a while when the bound is reached. A body that inflates
 * beyond its reservation (a multi-member gzip, or a trailer that lies) takes more as it goes, without
 * waiting: if the bound is reached it is refused, so a batch never holds part of the bound while it
 * waits for the rest.
 */

/** Byte counts, slots of a BigInt64Array: what is held now, the bound, the most ever held. */
const HELD = 0;
const LIMIT = 1;
const PEAK = 2;

/** What a thread that inflates needs: take without waiting, give back. */
export interface IngestMemoryView {
  readonly limit: number;
  /** Takes `bytes` if the bound allows it now. */
  tryTake(bytes: number): boolean;
  release(bytes: number): void;
}

/** The request thread's side: reservations wait their turn, first come first served. */
export interface IngestMemory extends IngestMemoryView {
  /** Handed to ingest threads (structured clone shares it). */
  readonly shared: SharedArrayBuffer;
  /** Resolves true once `bytes` are held, false if they could not be within the wait. */
  take(bytes: number): Promise<boolean>;
  /** Bytes held now and the most ever held: what a test or a metric reads. */
  usage(): { held: number; peak: number };
}

/** Attaches to the count `shared` holds (from createIngestMemory, perhaps on another thread). */
export function ingestMemoryView(shared: SharedArrayBuffer): IngestMemoryView {
  const slots = new BigInt64Array(shared);
  const limit = Number(Atomics.load(slots, LIMIT));
  return {
    limit,
    tryTake(bytes) {
      const want = BigInt(bytes);
      for (;;) {
        const held = Atomics.load(slots, HELD);
        // one batch alone is always let through: the per-batch limit is kept within the bound
        if (held > 0n && held + want > BigInt(limit)) return false;
        if (Atomics.compareExchange(slots, HELD, held, held + want) === held) {
          raisePeak(slots, held + want);
          return true;
        }
      }
    },
    release(bytes) {
      Atomics.sub(slots, HELD, BigInt(bytes));
    },
  };
}

function raisePeak(slots: BigInt64Array, held: bigint): void {
  for (;;) {
    const peak = Atomics.load(slots, PEAK);
    if (held <= peak || Atomics.compareExchange(slots, PEAK, peak, held) === peak) return;
  }
}

interface Waiter {
  bytes: number;
  resolve: (taken: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * `limitBytes` held at most; a reservation waits up to `waitMs` for its turn. Every release of a
 * whole batch happens on the request thread (the outcome comes back to it), so that is where the
 * queue moves on; a thread gives back what it took beyond the reservation before it answers.
 */
export function createIngestMemory(limitBytes: number, waitMs: number): IngestMemory {
  const shared = new SharedArrayBuffer(3 * BigInt64Array.BYTES_PER_ELEMENT);
  const slots = new BigInt64Array(shared);
  Atomics.store(slots, LIMIT, BigInt(limitBytes));
  const view = ingestMemoryView(shared);
  const queue: Waiter[] = [];

  const pump = () => {
    while (queue.length > 0 && view.tryTake(queue[0]!.bytes)) {
      const w = queue.shift()!;
      clearTimeout(w.timer);
      w.resolve(true);
    }
  };

  return {
    shared,
    limit: view.limit,
    tryTake: view.tryTake,
    release(bytes) {
      view.release(bytes);
      pump();
    },
    take(bytes) {
      if (queue.length === 0 && view.tryTake(bytes)) return Promise.resolve(true);
      return new Promise((resolve) => {
        const w: Waiter = {
          bytes,
          resolve,
          timer: setTimeout(() => {
            queue.splice(queue.indexOf(w), 1);
            resolve(false);
            // the head gave up: the next may fit
            pump();
          }, waitMs),
        };
        queue.push(w);
      });
    },
    usage: () => ({ held: Number(Atomics.load(slots, HELD)), peak: Number(Atomics.load(slots, PEAK)) }),
  };
}
