import { resolveTrail, saveTrail } from "./resolve.ts";
import type { Handler, ServiceDeps } from "./types.ts";

export function stopLogging(deps: ServiceDeps): Handler<"StopLogging"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "write");
    if (trail.isLogging) {
      await saveTrail(deps, { ...trail, isLogging: false, stopLoggingTime: ctx.clock.now() });
      ctx.log.info({ trailArn: trail.arn }, "stopped logging");
    }
    return {};
  };
}
