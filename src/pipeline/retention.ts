import type { Logger } from "pino";
import type { Clock, EventStore } from "../ports/index.ts";
import { type LeaseOptions, underLease, workLeases } from "./leases.ts";
import { runEvery } from "./loop.ts";

/** Event history keeps 90 days, as AWS does. */
export const RETENTION_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Purges events older than the retention window, now and then every `everyMs`. */
export function createRetentionWorker(opts: {
  events: EventStore;
  clock: Clock;
  log: Logger;
  everyMs?: number;
  /** Other nodes on the same store: one purges at a time. */
  lease?: LeaseOptions;
}) {
  const everyMs = opts.everyMs ?? 60 * 60 * 1000;
  const leases = workLeases(opts.lease, opts.clock);
  let running: Promise<number> | undefined;

  function purgeNow(): Promise<number> {
    running ??= (async () => {
      try {
        const cutoff = new Date(opts.clock.now().getTime() - RETENTION_DAYS * DAY_MS);
        const purged = (await underLease(leases, "retention", () => opts.events.purgeBefore(cutoff))) ?? 0;
        if (purged > 0) opts.log.info({ purged, cutoff }, "purged events past retention");
        return purged;
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    purgeNow,
    /** Waits for a purge in progress. */
    async drain(): Promise<void> {
      await running;
    },
    start: (signal: AbortSignal): Promise<void> =>
      runEvery(signal, everyMs, purgeNow, opts.log, "retention purge"),
  };
}
