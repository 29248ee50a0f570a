import type { LookupQuery, StoredEvent } from "../domain/events.ts";

export type { EventCategory, LookupKey, LookupQuery, StoredEvent } from "../domain/events.ts";

/** Recorded events: event history for LookupEvents, the source of delivery. */
export interface EventStore {
  /**
   * Stores a batch in one transaction; an (accountId, eventId) already stored is skipped.
   * Resolves only after the batch is durable (committed). `receivedAt` (the service's clock when
   * the batch arrived) is when its delivery interval starts; the wall clock when absent.
   */
  append(events: StoredEvent[], receivedAt?: Date): Promise<{ inserted: number; duplicates: string[] }>;
  /** Newest first, ties broken by eventId descending. */
  lookup(query: LookupQuery): Promise<StoredEvent[]>;
  /** Forgets events older than `cutoff`; returns how many. */
  purgeBefore(cutoff: Date): Promise<number>;
}
