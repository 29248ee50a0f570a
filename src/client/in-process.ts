import { pino } from "pino";
import type { Clock, Ids, Principal, RequestContext } from "../api/context.ts";
import { type CloudTrailApi, methodName, OPERATIONS } from "../api/operations.ts";
import type { Service } from "../api/service.ts";

export interface InProcessOptions {
  principal: Principal;
  region: string;
  clock?: Clock;
  ids?: Ids;
}

/** CloudTrailApi straight onto a service, no HTTP: same behaviour, for embedding and tests. */
export function inProcessClient(service: Service, opts: InProcessOptions): CloudTrailApi {
  const clock = opts.clock ?? { now: () => new Date() };
  const ids = opts.ids ?? { uuid: () => crypto.randomUUID() };
  const log = pino({ level: "silent" });
  const api: Record<string, unknown> = {};
  for (const op of OPERATIONS) {
    api[methodName(op)] = (input: unknown) => {
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
      const handler = service[op] as (ctx: RequestContext, input: unknown) => Promise<unknown>;
      return handler(ctx, input ?? {});
    };
  }
  return api as CloudTrailApi;
}
