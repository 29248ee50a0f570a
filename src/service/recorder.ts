import type { CloudTrailError } from "../api/errors.ts";
import type { OperationName } from "../api/operations.ts";
import { buildApiCallRecord, toStoredEvent } from "../domain/records.ts";
import type { EventStore, StoredEvent } from "../ports/index.ts";
import type { RequestContext } from "./context.ts";

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
export function createRecorder(events: EventStore) {
  return {
    async recordCall(call: FinishedCall): Promise<StoredEvent> {
      const { record, resources } = buildApiCallRecord({
        operation: call.operation,
        input: call.input,
        output: call.output,
        error: call.error ? { code: call.error.code, message: call.error.message } : undefined,
        ctx: call.ctx,
        sourceIPAddress: call.sourceIPAddress,
        userAgent: call.userAgent,
        tls: call.tls,
        eventTime: call.ctx.clock.now(),
      });
      const stored = { ...toStoredEvent(record, call.ctx.accountId), resources };
      await events.append([stored]);
      return stored;
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;
