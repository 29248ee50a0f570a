import type { RequestContext } from "../api/context.ts";
import { fail } from "../api/errors.ts";
import {
  insufficientS3BucketPolicy,
  invalidHomeRegion,
  s3BucketDoesNotExist,
  trailNotFound,
} from "../api/messages.ts";
import { parseTrailRef, trailArn } from "../domain/names.ts";
import { type Trail, visibleIn } from "../domain/trail.ts";
import type { ServiceDeps } from "./types.ts";

/** Reads may see a shadow of a multi-Region trail; writes must come from the home region. */
export type Access = "read" | "write";

/**
 * Resolves a Name/TrailName argument (a name or an ARN) as AWS does: a bare name only finds trails
 * homed in the current region; an ARN also finds the shadow of a multi-Region trail.
 */
export async function resolveTrail(
  deps: ServiceDeps,
  ctx: RequestContext,
  value: string | undefined,
  access: Access,
): Promise<Trail> {
  const ref = parseTrailRef(value);
  if (ref.kind === "name") {
    const trail = await deps.trails.get(ctx.accountId, ctx.region, ref.name);
    if (!trail) throw trailNotFound(trailArn(ctx.region, ctx.accountId, ref.name), ctx.accountId);
    return trail;
  }
  if (ref.accountId !== ctx.accountId) throw trailNotFound(ref.arn, ctx.accountId);
  const trail = await deps.trails.get(ctx.accountId, ref.region, ref.name);
  if (!trail || trail.arn !== ref.arn) throw trailNotFound(ref.arn, ctx.accountId);
  if (trail.homeRegion !== ctx.region) {
    if (access === "write") throw invalidHomeRegion(trail.homeRegion);
    if (!visibleIn(trail, ctx.region)) throw trailNotFound(ref.arn, ctx.accountId);
  }
  return trail;
}

/** Trails visible in the current region: home trails first, then shadows, each by name. */
export async function visibleTrails(
  deps: ServiceDeps,
  ctx: RequestContext,
  includeShadows: boolean,
): Promise<Trail[]> {
  const all = await deps.trails.list(ctx.accountId);
  const byName = (a: Trail, b: Trail) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const home = all.filter((t) => t.homeRegion === ctx.region).sort(byName);
  const shadows = includeShadows
    ? all.filter((t) => t.homeRegion !== ctx.region && t.isMultiRegionTrail).sort(byName)
    : [];
  return [...home, ...shadows];
}

/** Saves a changed trail, bumping its version (a concurrent writer gets ConflictException). */
export async function saveTrail(deps: ServiceDeps, trail: Trail): Promise<Trail> {
  const next = { ...trail, version: trail.version + 1 };
  await deps.trails.update(next);
  return next;
}

/** CreateTrail, UpdateTrail and PutInsightSelectors check the destination bucket as AWS does. */
export async function checkBucket(deps: ServiceDeps, bucket: string): Promise<void> {
  const probe = await deps.objects.probeBucket(bucket);
  if (probe === "missing") throw s3BucketDoesNotExist(bucket);
  if (probe === "denied") throw insufficientS3BucketPolicy(bucket);
  if (probe === "unreachable") {
    throw fail(
      "ServiceUnavailable",
      `The object store holding bucket ${bucket} cannot be reached; try again later.`,
    );
  }
}
