/**
 * At most `size` tasks in flight. Urgent tasks (the digest the chain walk waits for) start before
 * queued ordinary ones (log files), so the walk never idles behind a long queue of hashes.
 */
export interface Pool {
  run<T>(task: () => Promise<T>, urgent?: boolean): Promise<T>;
  /** Tasks waiting to start. */
  readonly queued: number;
}

export function createPool(size: number): Pool {
  if (!Number.isInteger(size) || size < 1) throw new Error(`pool size must be a positive integer: ${size}`);
  let active = 0;
  const urgentQueue: (() => void)[] = [];
  const queue: (() => void)[] = [];
  // a plain array's shift() is O(n); heads keep dequeues O(1) on queues of thousands. A queue that
  // never quite empties (log files queue faster than they are read) drops its started part once
  // that is half of it, or it would keep every task it ever ran
  let urgentHead = 0;
  let head = 0;
  const COMPACT_AT = 1024;

  const next = () => {
    if (active >= size) return;
    let start: (() => void) | undefined;
    if (urgentHead < urgentQueue.length) {
      start = urgentQueue[urgentHead++];
      if (urgentHead === urgentQueue.length) {
        urgentQueue.length = 0;
        urgentHead = 0;
      } else if (urgentHead >= COMPACT_AT && urgentHead * 2 >= urgentQueue.length) {
        urgentQueue.splice(0, urgentHead);
        urgentHead = 0;
      }
    } else if (head < queue.length) {
      start = queue[head++];
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      } else if (head >= COMPACT_AT && head * 2 >= queue.length) {
        queue.splice(0, head);
        head = 0;
      }
    }
    if (start) {
      active++;
      start();
    }
  };

  return {
    get queued() {
      return urgentQueue.length - urgentHead + queue.length - head;
    },
    run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const start = () => {
          task()
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            });
        };
        (urgent ? urgentQueue : queue).push(start);
        next();
      });
    },
  };
}
