import type { Clock, Leases } from "../ports/index.ts";

/** How a worker shares its work with other nodes: their leases, and its own name among them. */
export interface LeaseOptions {
  leases: Leases;
  /** This node's name, the same for every worker of the process. */
  holder: string;
  /** How long a lease lasts unless renewed (default 30 s): how long a dead node's work waits. */
  ttlMs?: number;
}

/** A worker's view of its leases, by name. */
export interface WorkLeases {
  /** True when this node may work `name` now. */
  take(name: string): Promise<boolean>;
  /** Renews a lease taken, between steps of a long piece of work; false when it was lost. */
  keep(name: string): Promise<boolean>;
  give(name: string): Promise<void>;
}

export const DEFAULT_LEASE_TTL_MS = 30_000;

/** Every piece of work is this node's: no other node shares the store. */
const ALONE: WorkLeases = {
  take: async () => true,
  keep: async () => true,
  give: async () => {},
};

export function workLeases(opts: LeaseOptions | undefined, clock: Clock): WorkLeases {
  if (opts === undefined) return ALONE;
  const { leases, holder } = opts;
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  return {
    take: (name) => leases.tryAcquire(name, holder, clock.now(), ttlMs),
    keep: (name) => leases.renew(name, holder, clock.now(), ttlMs),
    give: (name) => leases.release(name, holder),
  };
}

/** Runs `work` holding the lease `name`, and gives it back after; undefined when another node holds it. */
export async function underLease<T>(
  leases: WorkLeases,
  name: string,
  work: () => Promise<T>,
): Promise<T | undefined> {
  if (!(await leases.take(name))) return undefined;
  try {
    return await work();
  } finally {
    await leases.give(name);
  }
}
