import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * V8 collects when a thread allocates, not when memory is given up: the inflated text and parsed
 * records of a large batch (hundreds of MiB) stay resident until the heap grows enough to collect,
 * so under load the garbage of earlier batches adds to the live ones, and a thread that goes idle
 * keeps its last batches' garbage until its next batch. After a batch that held at least
 * `thresholdBytes`, once its frames are gone, this runs one full collection (a few milliseconds to
 * tens of them, against the hundreds the batch took).
 */
export function largeBatchCollector(thresholdBytes: number): (heldBytes: number) => void {
  let due = false;
  let gc: (() => void) | undefined;
  return (heldBytes) => {
    if (heldBytes < thresholdBytes || due) return;
    due = true;
    setImmediate(() => {
      due = false;
      gc ??= fullCollection();
      gc();
    }).unref();
  };
}

/** V8's gc(), which Node exposes only under --expose-gc: the flag is read when a context is made. */
function fullCollection(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
