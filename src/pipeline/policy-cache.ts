import type { Clock } from "../ports/index.ts";

/** One read of a policy or key, and what was decided from it (cleared with it). */
export interface Cached<T> {
  value: T;
  verdicts: Map<string, string | undefined>;
}

/** Bounded by the destinations in use; a deployment with more starts over. */
const MAX_ENTRIES = 10_000;

/**
 * Reads by name, each kept for `maxAgeMs` (a clock of the caller's, so tests move it), shared by
 * concurrent askers. A read that throws is not kept: the answer is undefined and the next ask
 * reads again.
 */
export function readCache<T>(clock: Clock, maxAgeMs: number, read: (name: string) => Promise<T>) {
  const entries = new Map<string, { at: number; read: Promise<Cached<T> | undefined> }>();
  return {
    get(name: string): Promise<Cached<T> | undefined> {
      const now = clock.now().getTime();
      const entry = entries.get(name);
      if (entry && now - entry.at < maxAgeMs && now >= entry.at) return entry.read;
      if (entries.size >= MAX_ENTRIES) entries.clear();
      const fresh = read(name).then(
        (value): Cached<T> => ({ value, verdicts: new Map() }),
        () => {
          if (entries.get(name)?.read === fresh) entries.delete(name);
          return undefined;
        },
      );
      entries.set(name, { at: now, read: fresh });
      return fresh;
    },
    forget(name: string): void {
      entries.delete(name);
    },
  };
}
