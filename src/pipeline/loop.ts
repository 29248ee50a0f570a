import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";

/**
 * Serialises a worker's passes: a second caller waits for the running pass, then runs its own,
 * so a pass asked for (drain) always sees what was stored before the call.
 */
export function serialPasses<A>(pass: (arg: A) => Promise<void>): (arg: A) => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  return (arg) => {
    const next = running.then(() => pass(arg));
    running = next.catch(() => {});
    return next;
  };
}

/** Runs `pass` every `everyMs` until `signal` aborts; a failed pass is logged and the loop goes on. */
export async function runEvery(
  signal: AbortSignal,
  everyMs: number,
  pass: () => Promise<unknown>,
  log: Logger,
  what: string,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await pass();
    } catch (err) {
      log.error({ err }, `${what} failed`);
    }
    // the timer's abort listener goes with the timer: one added per pass and never removed
    // grew without bound (MaxListenersExceededWarning after ten passes)
    await sleep(everyMs, undefined, { signal }).catch(() => {});
  }
}

/**
 * The entry points of a worker whose pass takes `force`: `runOnce` and the loop run passes of what
 * is due, `drain` forces one (due or not); passes never overlap.
 */
export function forcedPasses(
  pass: (force: boolean) => Promise<void>,
  tickMs: number,
  log: Logger,
  what: string,
): { runOnce(): Promise<void>; drain(): Promise<void>; start(signal: AbortSignal): Promise<void> } {
  const once = serialPasses(pass);
  return {
    runOnce: () => once(false),
    drain: () => once(true),
    start: (signal) => runEvery(signal, tickMs, () => once(false), log, what),
  };
}
