import type { RequestContext } from "../api/context.ts";
import type { CloudTrailError } from "../api/errors.ts";
import type { OperationName } from "../api/operations.ts";
import { buildApiCallRecord, toStoredEvent } from "../domain/records.ts";
import type { EventStore, StoredEvent } from "../ports/index.ts";
import type { Route } from "./router.ts";

/** One finished call to the API, as the wire layer saw it. */
export interface FinishedCall {
  operation: OperationName;
  input: object;
  output?: unknown;
  error?: CloudTrailError;
  ctx: RequestContext;
  sourceIPAddress: string;
  userAgent?: string;
  tls?: { version: string; cipher: string; host?: string };
}

/**
 * Turns every call (failures included) into a CloudTrail record and stores it. The caller's
 * answer waits for this, so an acknowledged call is a recorded call.
 */
export function createRecorder(events: EventStore, route?: Route) {
  return {
    async recordCall(call: FinishedCall): Promise<StoredEvent> {
      const at = call.ctx.clock.now();
      const { record, resources } = buildApiCallRecord({
        operation: call.operation,
        input: call.input,
        output: call.output,
        error: call.error ? { code: call.error.code, message: call.error.message } : undefined,
        ctx: call.ctx,
        sourceIPAddress: call.sourceIPAddress,
        userAgent: call.userAgent,
        tls: call.tls,
        eventTime: at,
      });
      const stored: StoredEvent = { ...toStoredEvent(record, call.ctx.accountId), resources };
      // the call's exact time places it before or after a StartLogging/StopLogging of the same
      // second; the StopLogging call itself still belongs to the trail it stopped
      const exact = call.operation !== "StopLogging";
      stored.destinations = await route?.(call.ctx.accountId, record, exact ? at : stored.eventTime, exact);
      await events.append([stored], call.ctx.clock.now());
      return stored;
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
