import type { CreateTrailRequest } from "@aws-sdk/client-cloudtrail";
import type { RequestContext } from "../api/context.ts";
import { multiRegionWithoutGlobalEvents, organizationsNotInUse } from "../api/messages.ts";
import {
  normalizeKmsKeyId,
  normalizeSnsTopic,
  validateBucketName,
  validateCloudWatchLogs,
  validateS3KeyPrefix,
} from "../domain/names.ts";
import type { Trail } from "../domain/trail.ts";

/** The settable members CreateTrail and UpdateTrail share (UpdateTrail has no TagsList). */
export type TrailSettingsInput = Omit<CreateTrailRequest, "Name" | "TagsList" | "S3BucketName"> & {
  S3BucketName?: string;
};

type Settings = Pick<
  Trail,
  | "s3BucketName"
  | "s3KeyPrefix"
  | "snsTopicName"
  | "snsTopicArn"
  | "includeGlobalServiceEvents"
  | "isMultiRegionTrail"
  | "logFileValidationEnabled"
  | "cloudWatchLogsLogGroupArn"
  | "cloudWatchLogsRoleArn"
  | "kmsKeyId"
  | "isOrganizationTrail"
>;

/**
 * Applies the members that were sent onto `base`: an absent member keeps the base value, an empty
 * string clears the optional ones. Syntax errors surface here, before any lookup.
 */
export function applySettings(
  ctx: RequestContext,
  region: string,
  base: Settings,
  input: TrailSettingsInput,
): Settings {
  const next: Settings = { ...base };
  if (input.S3BucketName !== undefined) next.s3BucketName = validateBucketName(input.S3BucketName);
  if (input.S3KeyPrefix !== undefined) next.s3KeyPrefix = validateS3KeyPrefix(input.S3KeyPrefix);
  if (input.SnsTopicName !== undefined) {
    const topic = normalizeSnsTopic(input.SnsTopicName, region, ctx.accountId);
    next.snsTopicName = topic?.name;
    next.snsTopicArn = topic?.arn;
  }
  if (input.KmsKeyId !== undefined) next.kmsKeyId = normalizeKmsKeyId(input.KmsKeyId, region, ctx.accountId);
  if (input.CloudWatchLogsLogGroupArn !== undefined || input.CloudWatchLogsRoleArn !== undefined) {
    const cwl = validateCloudWatchLogs(
      input.CloudWatchLogsLogGroupArn ?? base.cloudWatchLogsLogGroupArn,
      input.CloudWatchLogsRoleArn ?? base.cloudWatchLogsRoleArn,
    );
    next.cloudWatchLogsLogGroupArn = cwl.groupArn;
    next.cloudWatchLogsRoleArn = cwl.roleArn;
  }
  if (input.IncludeGlobalServiceEvents !== undefined)
    next.includeGlobalServiceEvents = input.IncludeGlobalServiceEvents;
  if (input.IsMultiRegionTrail !== undefined) next.isMultiRegionTrail = input.IsMultiRegionTrail;
  if (input.EnableLogFileValidation !== undefined)
    next.logFileValidationEnabled = input.EnableLogFileValidation;
  if (input.IsOrganizationTrail === true) throw organizationsNotInUse();
  if (next.isMultiRegionTrail && !next.includeGlobalServiceEvents) throw multiRegionWithoutGlobalEvents();
  return next;
}
