import type {
  AdvancedEventSelector,
  CreateTrailResponse,
  EventSelector,
  Trail as WireTrail,
} from "@aws-sdk/client-cloudtrail";
import type { TagEntry, Trail } from "../domain/trail.ts";

/** The Trail object of GetTrail and DescribeTrails. */
export function toTrailDescription(trail: Trail): WireTrail {
  return {
    Name: trail.name,
    S3BucketName: trail.s3BucketName,
    S3KeyPrefix: trail.s3KeyPrefix,
    SnsTopicName: trail.snsTopicName,
    SnsTopicARN: trail.snsTopicArn,
    IncludeGlobalServiceEvents: trail.includeGlobalServiceEvents,
    IsMultiRegionTrail: trail.isMultiRegionTrail,
    HomeRegion: trail.homeRegion,
    TrailARN: trail.arn,
    LogFileValidationEnabled: trail.logFileValidationEnabled,
    CloudWatchLogsLogGroupArn: trail.cloudWatchLogsLogGroupArn,
    CloudWatchLogsRoleArn: trail.cloudWatchLogsRoleArn,
    KmsKeyId: trail.kmsKeyId,
    HasCustomEventSelectors: trail.hasCustomEventSelectors,
    HasInsightSelectors: trail.insightSelectors.length > 0,
    IsOrganizationTrail: trail.isOrganizationTrail,
  };
}

/** CreateTrail and UpdateTrail answer with the trail minus HomeRegion and the selector flags. */
export function toTrailResponse(trail: Trail): CreateTrailResponse {
  const { HomeRegion, HasCustomEventSelectors, HasInsightSelectors, ...response } = toTrailDescription(trail);
  return response;
}

/** GetEventSelectors / PutEventSelectors answer with the kind of selectors the trail is in. */
export function toSelectorsResponse(trail: Trail): {
  TrailARN: string;
  EventSelectors?: EventSelector[];
  AdvancedEventSelectors?: AdvancedEventSelector[];
} {
  const config = trail.eventSelectors;
  return config.mode === "basic"
    ? { TrailARN: trail.arn, EventSelectors: config.selectors }
    : { TrailARN: trail.arn, AdvancedEventSelectors: config.selectors };
}

export function toWireTags(tags: TagEntry[]): { Key: string; Value?: string }[] {
  return tags.map((t) => (t.value === undefined ? { Key: t.key } : { Key: t.key, Value: t.value }));
}
