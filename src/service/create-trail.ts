import { isCloudTrailError } from "../api/errors.ts";
import { trailAlreadyExists } from "../api/messages.ts";
import type { Handler } from "../api/service.ts";
import { trailArn, validateBucketName, validateTrailName } from "../domain/names.ts";
import { mergeTags, validateTagsList } from "../domain/tags.ts";
import { checkRoomForTrail, DEFAULT_EVENT_SELECTORS, type Trail } from "../domain/trail.ts";
import { oneAtATime } from "./account-lock.ts";
import { toTrailResponse } from "./mappers.ts";
import { checkBucket, checkLogGroup, checkTopic, resolveKey } from "./resolve.ts";
import { applySettings } from "./trail-settings.ts";
import type { ServiceDeps } from "./types.ts";

export function createTrail(deps: ServiceDeps): Handler<"CreateTrail"> {
  return async (ctx, input) => {
    const name = validateTrailName(input.Name);
    validateBucketName(input.S3BucketName);
    const settings = applySettings(
      ctx,
      ctx.region,
      {
        s3BucketName: "",
        includeGlobalServiceEvents: true,
        isMultiRegionTrail: false,
        logFileValidationEnabled: false,
        isOrganizationTrail: false,
      },
      input,
    );
    const tags = mergeTags([], validateTagsList(input.TagsList));

    // the name and quota checks and the write must not interleave with another creation
    const trail = await oneAtATime(deps.trails, ctx.accountId, async () => {
      const existing = await deps.trails.list(ctx.accountId);
      checkRoomForTrail(
        existing,
        {
          accountId: ctx.accountId,
          homeRegion: ctx.region,
          name,
          isMultiRegionTrail: settings.isMultiRegionTrail,
        },
        deps.regions,
      );
      const arn = trailArn(ctx.region, ctx.accountId, name);
      await checkBucket(deps, ctx, { ...settings, arn, accountId: ctx.accountId });
      if (settings.snsTopicArn)
        await checkTopic(deps, ctx, { arn, accountId: ctx.accountId }, settings.snsTopicArn);
      if (settings.cloudWatchLogsLogGroupArn && settings.cloudWatchLogsRoleArn) {
        const home = { arn, accountId: ctx.accountId, homeRegion: ctx.region };
        const { cloudWatchLogsLogGroupArn: group, cloudWatchLogsRoleArn: role } = settings;
        await checkLogGroup(deps, ctx, home, group, role);
      }
      if (settings.kmsKeyId) {
        const owner = { arn, accountId: ctx.accountId, s3BucketName: settings.s3BucketName };
        settings.kmsKeyId = await resolveKey(deps, ctx, owner, settings.kmsKeyId);
      }

      const created: Trail = {
        ...settings,
        accountId: ctx.accountId,
        homeRegion: ctx.region,
        name,
        arn,
        hasCustomEventSelectors: false,
        eventSelectors: DEFAULT_EVENT_SELECTORS,
        insightSelectors: [],
        tags,
        isLogging: false,
        createdAt: ctx.clock.now(),
        version: 1,
      };
      try {
        await deps.trails.create(created);
      } catch (e) {
        // a concurrent CreateTrail of the same name won the race
        if (isCloudTrailError(e) && e.code === "ConflictException")
          throw trailAlreadyExists(name, ctx.accountId);
        throw e;
      }
      return created;
    });
    ctx.log.info({ trailArn: trail.arn }, "created trail");
    return toTrailResponse(trail);
  };
}
