import type { Handler } from "../api/service.ts";
import { resolveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function deleteTrail(deps: ServiceDeps): Handler<"DeleteTrail"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "write");
    await deps.trails.delete(trail.accountId, trail.homeRegion, trail.name);
    // what the trail selected before it went is still delivered, in a final file
    deps.flush?.(trail);
    ctx.log.info({ trailArn: trail.arn }, "deleted trail");
    return {};
  };
}
