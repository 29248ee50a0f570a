import type { TrailChangeFeed } from "../ports/index.ts";

/**
 * Who must hear that an account's trails changed: every router's compiled trails (the request
 * thread's and each ingest thread's), and through `feed` the other nodes on the same database.
 * `undefined` means every account (the development reset).
 */
export interface TrailChanges {
  subscribe(listener: (accountId?: string) => void): void;
  /** A change made here: told to this node's listeners and announced to the other nodes. */
  changed(accountId?: string): void;
  /** A change another node announced: told to this node's listeners only. */
  heard(accountId?: string): void;
}

export function createTrailChanges(feed?: TrailChangeFeed): TrailChanges {
  const listeners: ((accountId?: string) => void)[] = [];
  const heard = (accountId?: string) => {
    for (const listener of listeners) listener(accountId);
  };
  return {
    subscribe(listener) {
      listeners.push(listener);
    },
    changed(accountId) {
      heard(accountId);
      // a notice that cannot be sent leaves other nodes to their next change or reconnection
      feed?.announce(accountId).catch(() => {});
    },
    heard,
  };
}
