import { pino } from "pino";
import type { CallerFacts, Clock, Ids, Principal, RequestContext } from "../api/context.ts";
import { CloudTrailError } from "../api/errors.ts";
import { type CloudTrailApi, methodName, OPERATIONS } from "../api/operations.ts";
import type { FinishedCall, Service } from "../api/service.ts";

export interface InProcessOptions {
  /** Who calls: the account and the userIdentity its records carry. */
  principal: Principal;
  region: string;
  clock?: Clock;
  ids?: Ids;
  /**
   * Called with every finished call, failures included, before its answer is returned: give it
   * the recorder (main.ts does for the console) and the calls are recorded as HTTP calls are.
   * Without it nothing is recorded.
   */
  onCall?: (call: FinishedCall) => Promise<void>;
  /** What the records say of the caller; default an in-process caller on loopback. */
  caller?: CallerFacts;
}

const IN_PROCESS_CALLER: CallerFacts = { sourceIPAddress: "127.0.0.1", userAgent: "opentrail-in-process" };

/**
 * CloudTrailApi straight onto a service, no HTTP, for embedding and tests. The service's checks
 * and answers are the same as over HTTP; what the wire adds (SigV4, member type checks against
 * the model, the JSON framing) is not there, since the caller is in the process already.
 */
export function inProcessClient(service: Service, opts: InProcessOptions): CloudTrailApi {
  const clock = opts.clock ?? { now: () => new Date() };
  const ids = opts.ids ?? { uuid: () => crypto.randomUUID() };
  const caller = opts.caller ?? IN_PROCESS_CALLER;
  const log = pino({ level: "silent" });
  const api: Record<string, unknown> = {};
  for (const operation of OPERATIONS) {
    api[methodName(operation)] = async (input: unknown) => {
      const requestId = ids.uuid();
      const ctx: RequestContext = {
        accountId: opts.principal.accountId,
        region: opts.region,
        principal: opts.principal,
        requestId,
        log: log.child({ requestId }),
        clock,
        ids,
      };
      const handler = service[operation] as (ctx: RequestContext, input: unknown) => Promise<unknown>;
      const given = (input ?? {}) as object;
      let output: unknown;
      try {
        output = await handler(ctx, given);
      } catch (e) {
        if (e instanceof CloudTrailError)
          await opts.onCall?.({ operation, input: given, error: e, ctx, caller });
        throw e;
      }
      await opts.onCall?.({ operation, input: given, output, ctx, caller });
      return output;
    };
  }
  return api as CloudTrailApi;
}
