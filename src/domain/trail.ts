import type { AdvancedEventSelector, EventSelector, InsightSelector } from "@aws-sdk/client-cloudtrail";
import type { LoggingPeriod } from "./log-files.ts";

/** A tag as stored; a key given without a value has no value. */
export interface TagEntry {
  key: string;
  value?: string;
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
} {
  return {
    accountId: trail.accountId,
    trailArn: trail.arn,
    bucket: trail.s3BucketName,
    prefix: trail.s3KeyPrefix,
    kmsKeyId: trail.kmsKeyId,
  };
}
