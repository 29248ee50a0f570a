import type { Leases } from "../../ports/index.ts";

/**
 * Leases within one process: a SQLite database has one (the data-directory lock sees to that), so
 * nobody else could ask; kept honest all the same, for workers of one process that share a name.
 */
export class InProcessLeases implements Leases {
  readonly #held = new Map<string, { holder: string; expiresAt: number }>();

  async tryAcquire(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const lease = this.#held.get(name);
    if (lease !== undefined && lease.holder !== holder && lease.expiresAt > now.getTime()) return false;
    this.#held.set(name, { holder, expiresAt: now.getTime() + ttlMs });
    return true;
  }

  async renew(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    if (this.#held.get(name)?.holder !== holder) return false;
    this.#held.set(name, { holder, expiresAt: now.getTime() + ttlMs });
    return true;
  }

  async release(name: string, holder: string): Promise<void> {
    if (this.#held.get(name)?.holder === holder) this.#held.delete(name);
  }
}
