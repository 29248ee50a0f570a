import type { Service } from "../api/service.ts";
import { createTrail } from "./create-trail.ts";
import { deleteTrail } from "./delete-trail.ts";
import { describeTrails } from "./describe-trails.ts";
import { getTrail } from "./get-trail.ts";
import { getTrailStatus } from "./get-trail-status.ts";
import { listInsightsMetricData } from "./list-insights-metric-data.ts";
import { listPublicKeys } from "./list-public-keys.ts";
import { listTrails } from "./list-trails.ts";
import { lookupEvents } from "./lookup-events.ts";
import {
  getEventSelectors,
  getInsightSelectors,
  putEventSelectors,
  putInsightSelectors,
} from "./selectors.ts";
import { startLogging } from "./start-logging.ts";
import { stopLogging } from "./stop-logging.ts";
import { addTags, listTags, removeTags } from "./tags.ts";
import type { ServiceDeps } from "./types.ts";
import { updateTrail } from "./update-trail.ts";

export type { RequestContext } from "../api/context.ts";
export type { Handler, Service } from "../api/service.ts";
export type { ServiceDeps } from "./types.ts";

export function buildService(deps: ServiceDeps): Service {
  return {
    AddTags: addTags(deps),
    CreateTrail: createTrail(deps),
    DeleteTrail: deleteTrail(deps),
    DescribeTrails: describeTrails(deps),
    GetEventSelectors: getEventSelectors(deps),
    GetInsightSelectors: getInsightSelectors(deps),
    GetTrail: getTrail(deps),
    GetTrailStatus: getTrailStatus(deps),
    ListInsightsMetricData: listInsightsMetricData(deps),
    ListPublicKeys: listPublicKeys(deps),
    ListTags: listTags(deps),
    ListTrails: listTrails(deps),
    LookupEvents: lookupEvents(deps),
    PutEventSelectors: putEventSelectors(deps),
    PutInsightSelectors: putInsightSelectors(deps),
    RemoveTags: removeTags(deps),
    StartLogging: startLogging(deps),
    StopLogging: stopLogging(deps),
    UpdateTrail: updateTrail(deps),
  };
}
