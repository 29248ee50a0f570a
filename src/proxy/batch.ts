import type { CallToRecord, Recorder } from "../recording/recorder.ts";

/**
 * The proxy's records in groups: the calls whose records are asked for in the same turn of the
 * event loop are stored in one append (one transaction, one commit) instead of one each. Each
 * caller still waits for the commit that holds its record, so an answered call is a stored call.
 */
export function batchingRecorder(recorder: Pick<Recorder, "recordAll">): {
  record(call: CallToRecord): Promise<void>;
} {
  let pending: { call: CallToRecord; resolve(): void; reject(err: unknown): void }[] = [];
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const batch = pending;
    pending = [];
    recorder.recordAll(batch.map((p) => p.call)).then(
      () => {
        for (const p of batch) p.resolve();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  return {
    record(call: CallToRecord): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        pending.push({ call, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // after this turn's I/O callbacks: the answers that arrived together are stored together
          setImmediate(flush);
        }
      });
    },
  };
}
