import type { Clock } from "../api/context.ts";
import { buildCallRecord, type CallFacts } from "../domain/records/api-call.ts";
import { toStoredEvent } from "../domain/records/stored.ts";
import type { EventStore, StoredEvent } from "../ports/index.ts";
import type { Route } from "./router.ts";

/** A finished call of any service, as its caller describes it; the recorder stamps its time. */
export interface CallToRecord extends Omit<CallFacts, "eventTime"> {
  clock: Clock;
  /**
   * Route by the call's exact time (default), which places it before or after a logging change
   * of the same second, rather than by the record's whole second.
   */
  exactTime?: boolean;
}

/**
 * Turns every call (failures included) into a CloudTrail record, routes it to the trails that
 * select it and stores it. The caller's answer waits for this, so an acknowledged call is a
 * recorded call.
 */
export function createRecorder(events: EventStore, route?: Route) {
  async function prepare(call: CallToRecord): Promise<StoredEvent> {
    const { clock, exactTime, ...facts } = call;
    const at = clock.now();
    const { record, resources } = buildCallRecord({ ...facts, eventTime: at });
    const stored: StoredEvent = { ...toStoredEvent(record, call.ctx.accountId), resources };
    const exact = exactTime ?? true;
    stored.destinations = await route?.(call.ctx.accountId, record, exact ? at : stored.eventTime, exact);
    return stored;
  }
  return {
    async record(call: CallToRecord): Promise<StoredEvent> {
      const stored = await prepare(call);
      await events.append([stored], call.clock.now());
      return stored;
    },
    /** Several calls in one append (one transaction): all are stored, or none. */
    async recordAll(calls: readonly CallToRecord[]): Promise<StoredEvent[]> {
      if (calls.length === 0) return [];
      const stored = await Promise.all(calls.map(prepare));
      await events.append(stored, calls[0]!.clock.now());
      return stored;
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
