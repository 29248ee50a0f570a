import { fail, isCloudTrailError } from "../api/errors.ts";
import type { Handler } from "../api/service.ts";
import { trailArn, validateBucketName, validateTrailName } from "../domain/names.ts";
import { mergeTags, validateTagsList } from "../domain/tags.ts";
import { DEFAULT_EVENT_SELECTORS, type Trail, visibleIn } from "../domain/trail.ts";
import { oneAtATime } from "./account-lock.ts";
import { toTrailResponse } from "./mappers.ts";
import { checkBucket } from "./resolve.ts";
import { applySettings } from "./trail-settings.ts";
import type { ServiceDeps } from "./types.ts";

/** AWS: at most 5 trails per account and region, shadows of multi-Region trails included. */
export const MAX_TRAILS_PER_REGION = 5;

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
      const clash = existing.find(
        (t) => t.name === name && (visibleIn(t, ctx.region) || settings.isMultiRegionTrail),
      );
      if (clash) throw alreadyExists(name, ctx.accountId);
      const regions = settings.isMultiRegionTrail ? deps.regions : [ctx.region];
      for (const region of regions) {
        const count = existing.filter((t) => visibleIn(t, region)).length;
        if (count >= MAX_TRAILS_PER_REGION) {
          throw fail(
            "MaximumNumberOfTrailsExceededException",
            `User: ${ctx.accountId} already has ${MAX_TRAILS_PER_REGION} trails in ${region}.`,
          );
        }
      }
      await checkBucket(deps, settings.s3BucketName);

      const created: Trail = {
        ...settings,
        accountId: ctx.accountId,
        homeRegion: ctx.region,
        name,
        arn: trailArn(ctx.region, ctx.accountId, name),
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
        if (isCloudTrailError(e) && e.code === "ConflictException") throw alreadyExists(name, ctx.accountId);
        throw e;
      }
      return created;
    });
    ctx.log.info({ trailArn: trail.arn }, "created trail");
    return toTrailResponse(trail);
  };
}

function alreadyExists(name: string, accountId: string) {
  return fail("TrailAlreadyExistsException", `Trail ${name} already exists for customer: ${accountId}`);
}
