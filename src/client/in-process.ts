import { pino } from "pino";
import type { CallerFacts, Clock, Ids, Principal, RequestContext } from "../api/context.ts";
import { isCloudTrailError } from "../api/errors.ts";
import { type CloudTrailApi, methodName, OPERATIONS } from "../api/operations.ts";
import type { FinishedCall, Service } from "../api/service.ts";

export interface InProcessOptions {
  /**
   * Who calls: the account whose trails the calls see, and the `userIdentity` of their records.
   * `OpenTrail.client()` builds it from a configured access key, as a signed call with that key
   * gets it; by hand it is `{ accountId, accessKeyId, identity }` with `identity` the record's
   * `userIdentity` object (`type`, `principalId`, `arn`, `accountId`, `userName`…).
   */
  principal: Principal;
  region: string;
  clock?: Clock;
  ids?: Ids;
  /**
   * Told of every call that returned or failed with a CloudTrail error, before the caller gets
   * the answer, as the HTTP wire tells its recorder; `OpenTrail.client()` records them.
   */
  record?: (call: FinishedCall) => Promise<void>;
  /** What the records say of the caller; by default 127.0.0.1 and the user agent below. */
  caller?: CallerFacts;
}

export const IN_PROCESS_USER_AGENT = "opentrail-in-process";

/**
 * CloudTrailApi straight onto a service, no HTTP: the same operations, errors and, with
 * `record`, records as over the wire. What HTTP adds is left out: the signature check and the
 * wire's member type checks (TypeScript's types stand in for them).
 */
export function inProcessClient(service: Service, opts: InProcessOptions): CloudTrailApi {
  const clock = opts.clock ?? { now: () => new Date() };
  const ids = opts.ids ?? { uuid: () => crypto.randomUUID() };
  const caller = opts.caller ?? { sourceIPAddress: "127.0.0.1", userAgent: IN_PROCESS_USER_AGENT };
  const log = pino({ level: "silent" });
  const api: Record<string, unknown> = {};
  for (const operation of OPERATIONS) {
    api[methodName(operation)] = async (given: unknown) => {
      const input = (given ?? {}) as object;
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
      if (!opts.record) return handler(ctx, input);
      let output: unknown;
      try {
        output = await handler(ctx, input);
      } catch (e) {
        if (isCloudTrailError(e)) await opts.record({ operation, input, error: e, ctx, caller });
        throw e;
      }
      await opts.record({ operation, input, output, ctx, caller });
      return output;
    };
  }
  return api as CloudTrailApi;
}
