import type { Handler } from "../api/service.ts";
import { startPeriod } from "../domain/log-files.ts";
import { resolveTrail, saveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function startLogging(deps: ServiceDeps): Handler<"StartLogging"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "write");
    if (!trail.isLogging) {
      const now = ctx.clock.now();
      await saveTrail(deps, {
        ...trail,
        isLogging: true,
        startLoggingTime: now,
        loggingPeriods: startPeriod(trail.loggingPeriods ?? [], now),
      });
      ctx.log.info({ trailArn: trail.arn }, "started logging");
    }
    return {};
  };
}
