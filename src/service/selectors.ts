import { fail } from "../api/errors.ts";
import { insightNotEnabled } from "../api/messages.ts";
import type { Handler } from "../api/service.ts";
import { validateEventSelectors, validateInsightSelectors } from "../domain/selectors.ts";
import { toSelectorsResponse } from "./mappers.ts";
import { checkBucket, resolveTrail, saveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function getEventSelectors(deps: ServiceDeps): Handler<"GetEventSelectors"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.TrailName, "read");
    return toSelectorsResponse(trail);
  };
}

export function putEventSelectors(deps: ServiceDeps): Handler<"PutEventSelectors"> {
  return async (ctx, input) => {
    const eventSelectors = validateEventSelectors(input);
    const trail = await resolveTrail(deps, ctx, input.TrailName, "write");
    const saved = await saveTrail(deps, { ...trail, eventSelectors, hasCustomEventSelectors: true });
    return toSelectorsResponse(saved);
  };
}

/** The Lake members of the insight selector calls: both, neither, or an event data store. */
function insightTarget(input: { TrailName?: string; EventDataStore?: string; InsightsDestination?: string }) {
  if (input.TrailName !== undefined && input.EventDataStore !== undefined) {
    throw fail(
      "InvalidParameterCombinationException",
      "You cannot specify both a trail name and an event data store in the same request.",
    );
  }
  if (input.EventDataStore !== undefined || input.InsightsDestination !== undefined) {
    throw fail("UnsupportedOperationException", "Event data stores are not supported by this service.");
  }
  if (input.TrailName === undefined) {
    throw fail("InvalidParameterException", "You must specify either a trail name or an event data store.");
  }
  return input.TrailName;
}

export function getInsightSelectors(deps: ServiceDeps): Handler<"GetInsightSelectors"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, insightTarget(input), "read");
    if (trail.insightSelectors.length === 0) throw insightNotEnabled(trail.name);
    return { TrailARN: trail.arn, InsightSelectors: trail.insightSelectors };
  };
}

export function putInsightSelectors(deps: ServiceDeps): Handler<"PutInsightSelectors"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, insightTarget(input), "write");
    const insightSelectors = validateInsightSelectors(input.InsightSelectors, trail.eventSelectors);
    if (insightSelectors.length > 0) await checkBucket(deps, ctx, trail);
    const saved = await saveTrail(deps, { ...trail, insightSelectors });
    return { TrailARN: saved.arn, InsightSelectors: saved.insightSelectors };
  };
}
