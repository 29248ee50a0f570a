import type { Handler } from "../api/service.ts";
import { encodeLookupToken, parseLookupRequest, toLookupEvent } from "../domain/records.ts";
import type { ServiceDeps } from "./types.ts";

export function lookupEvents(deps: ServiceDeps): Handler<"LookupEvents"> {
  return async (ctx, input) => {
    deps.lookupRate?.take(ctx.accountId, ctx.region);
    const query = parseLookupRequest(input, {
      accountId: ctx.accountId,
      region: ctx.region,
      now: ctx.clock.now(),
    });
    // one more than asked tells whether another page exists
    const found = await deps.events.lookup({ ...query, limit: query.limit + 1 });
    const page = found.slice(0, query.limit);
    const last = page.at(-1);
    return {
      Events: page.map(toLookupEvent),
      NextToken: found.length > query.limit && last ? encodeLookupToken(query, last) : undefined,
    };
  };
}
