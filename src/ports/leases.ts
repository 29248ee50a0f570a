/**
 * Leases on named pieces of background work (a delivery lane, a digest chain, the retention
 * purge), so that nodes sharing a database work each piece one at a time. A lease lasts `ttlMs`
 * from `now` (the caller's clock) unless renewed; a holder that dies loses it when it expires.
 */
export interface Leases {
  /** True when `holder` holds `name` until now + ttlMs: it was free, expired, or `holder`'s already. */
  tryAcquire(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Extends `holder`'s lease; false when it is someone else's now (it expired and was taken). */
  renew(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once, if `holder` holds it. */
  release(name: string, holder: string): Promise<void>;
}
