import type { RequestContext } from "../api/context.ts";
import type { Handler } from "../api/service.ts";
import {
  normalizeKmsKeyId,
  normalizeSnsTopic,
  parseTrailRef,
  validateBucketName,
  validateS3KeyPrefix,
} from "../domain/names.ts";
import { checkRoomForTrail } from "../domain/trail.ts";
import { oneAtATime } from "./account-lock.ts";
import { toTrailResponse } from "./mappers.ts";
import {
  checkBucket,
  checkBucketPolicy,
  checkLogGroup,
  checkTopic,
  resolveKey,
  resolveTrail,
  saveTrail,
} from "./resolve.ts";
import { applySettings, type TrailSettingsInput } from "./trail-settings.ts";
import type { ServiceDeps } from "./types.ts";

/**
 * Member syntax answers before the trail is looked up (errors.md §4), as in CreateTrail; the
 * rules that depend on the stored trail (pairs, combinations) wait for it.
 */
function checkSyntax(ctx: RequestContext, name: string | undefined, input: TrailSettingsInput): void {
  parseTrailRef(name);
  if (input.S3BucketName !== undefined) validateBucketName(input.S3BucketName);
  validateS3KeyPrefix(input.S3KeyPrefix);
  normalizeSnsTopic(input.SnsTopicName, ctx.region, ctx.accountId);
  normalizeKmsKeyId(input.KmsKeyId, ctx.region, ctx.accountId);
}

export function updateTrail(deps: ServiceDeps): Handler<"UpdateTrail"> {
  return async (ctx, input) => {
    const { Name, ...rest } = input;
    checkSyntax(ctx, Name, rest);
    // turning multi-Region checks names and quotas like CreateTrail, so it takes its turn too
    const saved = await oneAtATime(deps.trails, ctx.accountId, async () => {
      const trail = await resolveTrail(deps, ctx, Name, "write");
      const settings = applySettings(ctx, trail.homeRegion, trail, rest);

      if (settings.isMultiRegionTrail && !trail.isMultiRegionTrail) {
        // becoming multi-Region puts a shadow in every other region: names and quotas must allow it
        const others = (await deps.trails.list(ctx.accountId)).filter((t) => t.arn !== trail.arn);
        checkRoomForTrail(others, { ...trail, isMultiRegionTrail: true }, deps.regions);
      }
      if (rest.S3BucketName !== undefined) await checkBucket(deps, ctx, { ...trail, ...settings });
      // a new prefix needs its own grant in the bucket policy
      else if (rest.S3KeyPrefix !== undefined) await checkBucketPolicy(deps, ctx, { ...trail, ...settings });
      if (rest.SnsTopicName !== undefined && settings.snsTopicArn) {
        await checkTopic(deps, ctx, trail, settings.snsTopicArn);
      }
      // a new role alone is assumed as a new group is
      const logsChanged =
        rest.CloudWatchLogsLogGroupArn !== undefined || rest.CloudWatchLogsRoleArn !== undefined;
      if (logsChanged && settings.cloudWatchLogsLogGroupArn && settings.cloudWatchLogsRoleArn) {
        const { cloudWatchLogsLogGroupArn: group, cloudWatchLogsRoleArn: role } = settings;
        await checkLogGroup(deps, ctx, trail, group, role);
      }
      if (rest.KmsKeyId !== undefined && settings.kmsKeyId) {
        settings.kmsKeyId = await resolveKey(deps, ctx, { ...trail, ...settings }, settings.kmsKeyId);
      }

      const next = await saveTrail(deps, { ...trail, ...settings });
      const moved =
        next.s3BucketName !== trail.s3BucketName ||
        next.s3KeyPrefix !== trail.s3KeyPrefix ||
        next.kmsKeyId !== trail.kmsKeyId;
      // what the old destination holds is written out now, not an interval later
      if (moved) deps.flush?.(trail);
      return next;
    });
    ctx.log.info({ trailArn: saved.arn }, "updated trail");
    return toTrailResponse(saved);
  };
}
