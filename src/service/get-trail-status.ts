import { resolveTrail } from "./resolve.ts";
import type { Handler, ServiceDeps } from "./types.ts";

/** The deprecated string members use `YYYY-MM-DDTHH:MM:SSZ`, or "" when unknown. */
function isoSeconds(d: Date | undefined): string {
  return d ? `${d.toISOString().slice(0, 19)}Z` : "";
}

export function getTrailStatus(deps: ServiceDeps): Handler<"GetTrailStatus"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "read");
    return {
      IsLogging: trail.isLogging,
      StartLoggingTime: trail.startLoggingTime,
      StopLoggingTime: trail.stopLoggingTime,
      LatestDeliveryAttemptTime: "",
      LatestNotificationAttemptTime: "",
      LatestNotificationAttemptSucceeded: "",
      LatestDeliveryAttemptSucceeded: "",
      TimeLoggingStarted: isoSeconds(trail.startLoggingTime),
      TimeLoggingStopped: isoSeconds(trail.stopLoggingTime),
    };
  };
}
