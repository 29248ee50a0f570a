/**
 * Who must hear that an account's trails changed: every router's compiled trails (the request
 * thread's and each ingest thread's). `undefined` means every account (the development reset).
 */
export interface TrailChanges {
  subscribe(listener: (accountId?: string) => void): void;
  changed(accountId?: string): void;
}

export function createTrailChanges(): TrailChanges {
  const listeners: ((accountId?: string) => void)[] = [];
  return {
    subscribe(listener) {
      listeners.push(listener);
    },
    changed(accountId) {
      for (const listener of listeners) listener(accountId);
    },
  };
}
