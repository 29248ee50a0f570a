import type { AdvancedEventSelector, EventSelector, InsightSelector } from "@aws-sdk/client-cloudtrail";
import { maximumNumberOfTrailsExceeded, trailAlreadyExists } from "../api/messages.ts";
import type { LoggingPeriod } from "./log-files.ts";

/** A tag as stored; a key given without a value has no value. */
export interface TagEntry {
  key: string;
  value?: string;
}

/** AWS's CloudWatch Logs stream naming: `<account>_CloudTrail_<region>`, the trail's home region. */
export function logStreamName(trail: { accountId: string; homeRegion: string }): string {
  return `${trail.accountId}_CloudTrail_${trail.homeRegion}`;
}

/** Exactly one selector mode at a time. */
export type SelectorConfig =
  | { mode: "basic"; selectors: EventSelector[] }
  | { mode: "advanced"; selectors: AdvancedEventSelector[] };

/** A trail as the core keeps it: one stored object, shadows included. */
export interface Trail {
  accountId: string;
  homeRegion: string;
  name: string;
  arn: string;
  s3BucketName: string;
  s3KeyPrefix?: string;
  snsTopicName?: string;
  snsTopicArn?: string;
  includeGlobalServiceEvents: boolean;
  isMultiRegionTrail: boolean;
  logFileValidationEnabled: boolean;
  cloudWatchLogsLogGroupArn?: string;
  cloudWatchLogsRoleArn?: string;
  kmsKeyId?: string;
  isOrganizationTrail: boolean;
  hasCustomEventSelectors: boolean;
  eventSelectors: SelectorConfig;
  insightSelectors: InsightSelector[];
  tags: TagEntry[];
  isLogging: boolean;
  /** When the trail logged: delivery follows the logging state at each record's time. */
  loggingPeriods?: LoggingPeriod[];
  startLoggingTime?: Date;
  stopLoggingTime?: Date;
  createdAt: Date;
  /** Bumped on every write; stale writes are refused (ConflictException). */
  version: number;
}

export const DEFAULT_EVENT_SELECTORS: SelectorConfig = {
  mode: "basic",
  selectors: [
    {
      ReadWriteType: "All",
      IncludeManagementEvents: true,
      DataResources: [],
      ExcludeManagementEventSources: [],
    },
  ],
};

/** Is the trail visible (home or shadow) in `region`? */
export function visibleIn(trail: Trail, region: string): boolean {
  return trail.homeRegion === region || trail.isMultiRegionTrail;
}

/** Where a trail's log files go now: a new delivery destination whenever one of these changes. */
export function trailDestination(trail: Trail): {
  accountId: string;
  trailArn: string;
  bucket: string;
  prefix?: string;
  kmsKeyId?: string;
  trailCreatedAt: Date;
} {
  return {
    accountId: trail.accountId,
    trailArn: trail.arn,
    // a trail deleted and created again under the same name gets destinations of its own
    trailCreatedAt: trail.createdAt,
    bucket: trail.s3BucketName,
    prefix: trail.s3KeyPrefix,
    kmsKeyId: trail.kmsKeyId,
  };
}

/** AWS: at most 5 trails per account and region, shadows of multi-Region trails included. */
export const MAX_TRAILS_PER_REGION = 5;

/**
 * Whether the account's `others` leave room for `trail` wherever it would be visible (its home
 * region, or every region of `regions` when multi-Region): CreateTrail asks it of a new trail,
 * UpdateTrail of a trail turning multi-Region. A name may appear once in any one region, and a
 * region holds at most MAX_TRAILS_PER_REGION trails; the name is checked first, as AWS does.
 */
export function checkRoomForTrail(
  others: readonly Trail[],
  trail: Pick<Trail, "accountId" | "homeRegion" | "name" | "isMultiRegionTrail">,
  regions: readonly string[],
): void {
  const clash = others.some(
    (t) => t.name === trail.name && (trail.isMultiRegionTrail || visibleIn(t, trail.homeRegion)),
  );
  if (clash) throw trailAlreadyExists(trail.name, trail.accountId);
  for (const region of trail.isMultiRegionTrail ? regions : [trail.homeRegion]) {
    if (others.filter((t) => visibleIn(t, region)).length >= MAX_TRAILS_PER_REGION) {
      throw maximumNumberOfTrailsExceeded(trail.accountId, MAX_TRAILS_PER_REGION, region);
    }
  }
}
