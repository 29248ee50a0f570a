import type { Handler } from "../api/service.ts";
import { resolveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

/** The deprecated string members use `YYYY-MM-DDTHH:MM:SSZ`, or "" when unknown. */
function isoSeconds(d: Date | undefined): string {
  return d ? `${d.toISOString().slice(0, 19)}Z` : "";
}

/** The members that have a value. */
function present<T extends object>(members: T): T {
  return Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined)) as T;
}

export function getTrailStatus(deps: ServiceDeps): Handler<"GetTrailStatus"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "read");
    // delivery is per region: the current one; and per trail, not an earlier one of the same name
    const delivery = (await deps.deliveries?.status(trail.arn, ctx.region, trail.createdAt)) ?? {};
    const notification = (await deps.outputs?.outputStatus("sns", trail.arn, ctx.region)) ?? {};
    const logs = (await deps.outputs?.outputStatus("logs", trail.arn, ctx.region)) ?? {};
    const digest = (await deps.outputs?.outputStatus("digest", trail.arn, ctx.region)) ?? {};
    // Timestamps and errors only once they have a value, as on AWS, in process too (no undefined
    // members); the deprecated strings always, "" while unknown.
    return present({
      IsLogging: trail.isLogging,
      LatestDeliveryTime: delivery.latestDeliveryTime,
      LatestDeliveryError: delivery.latestDeliveryError || undefined,
      LatestNotificationTime: notification.latestTime,
      LatestNotificationError: notification.latestError || undefined,
      LatestCloudWatchLogsDeliveryTime: logs.latestTime,
      LatestCloudWatchLogsDeliveryError: logs.latestError || undefined,
      LatestDigestDeliveryTime: digest.latestTime,
      LatestDigestDeliveryError: digest.latestError || undefined,
      StartLoggingTime: trail.startLoggingTime,
      StopLoggingTime: trail.stopLoggingTime,
      LatestDeliveryAttemptTime: isoSeconds(delivery.latestDeliveryAttemptTime),
      LatestNotificationAttemptTime: isoSeconds(notification.latestAttemptTime),
      LatestNotificationAttemptSucceeded: isoSeconds(notification.latestTime),
      LatestDeliveryAttemptSucceeded: isoSeconds(delivery.latestDeliveryAttemptSucceeded),
      TimeLoggingStarted: isoSeconds(trail.startLoggingTime),
      TimeLoggingStopped: isoSeconds(trail.stopLoggingTime),
    });
  };
}
