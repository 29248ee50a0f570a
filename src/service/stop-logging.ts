import type { Handler } from "../api/service.ts";
import { stopPeriod } from "../domain/log-files.ts";
import { resolveTrail, saveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function stopLogging(deps: ServiceDeps): Handler<"StopLogging"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "write");
    if (trail.isLogging) {
      const now = ctx.clock.now();
      await saveTrail(deps, {
        ...trail,
        isLogging: false,
        stopLoggingTime: now,
        loggingPeriods: stopPeriod(trail.loggingPeriods ?? [], now),
      });
      deps.flush?.(trail);
      ctx.log.info({ trailArn: trail.arn }, "stopped logging");
    }
    return {};
  };
}
