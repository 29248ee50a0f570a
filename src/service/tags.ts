import type { RequestContext } from "../api/context.ts";
import { fail } from "../api/errors.ts";
import { invalidToken, resourceNotFound } from "../api/messages.ts";
import type { Handler } from "../api/service.ts";
import { parseTagResourceArn } from "../domain/names.ts";
import { mergeTags, removeTagKeys, validateTagsList } from "../domain/tags.ts";
import type { Trail } from "../domain/trail.ts";
import { toWireTags } from "./mappers.ts";
import { saveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

/** AWS: at most 20 resource ARNs in one ListTags call. */
const MAX_LIST_TAGS_RESOURCES = 20;

type TagResource = ReturnType<typeof parseTagResourceArn>;

async function findTagged(deps: ServiceDeps, ctx: RequestContext, ref: TagResource): Promise<Trail> {
  const trail = await deps.trails.get(ctx.accountId, ref.region, ref.name);
  if (!trail || trail.arn !== ref.arn) throw resourceNotFound(ref.arn);
  return trail;
}

async function taggedTrail(
  deps: ServiceDeps,
  ctx: RequestContext,
  resourceId: string | undefined,
): Promise<Trail> {
  return findTagged(deps, ctx, parseTagResourceArn(resourceId, ctx.region, ctx.accountId));
}

export function addTags(deps: ServiceDeps): Handler<"AddTags"> {
  return async (ctx, input) => {
    const added = validateTagsList(input.TagsList);
    const trail = await taggedTrail(deps, ctx, input.ResourceId);
    await saveTrail(deps, { ...trail, tags: mergeTags(trail.tags, added) });
    return {};
  };
}

export function removeTags(deps: ServiceDeps): Handler<"RemoveTags"> {
  return async (ctx, input) => {
    const removed = validateTagsList(input.TagsList);
    const trail = await taggedTrail(deps, ctx, input.ResourceId);
    await saveTrail(deps, { ...trail, tags: removeTagKeys(trail.tags, removed) });
    return {};
  };
}

export function listTags(deps: ServiceDeps): Handler<"ListTags"> {
  return async (ctx, input) => {
    if (input.NextToken !== undefined) throw invalidToken();
    const ids = input.ResourceIdList ?? [];
    if (ids.length > MAX_LIST_TAGS_RESOURCES) {
      throw fail(
        "InvalidParameterException",
        `ResourceIdList can contain at most ${MAX_LIST_TAGS_RESOURCES} resource ARNs; it has ${ids.length}.`,
      );
    }
    // every ARN's syntax answers before any lookup (errors.md §4)
    const refs = ids.map((id) => parseTagResourceArn(id, ctx.region, ctx.accountId));
    const ResourceTagList = [];
    for (const ref of refs) {
      const trail = await findTagged(deps, ctx, ref);
      ResourceTagList.push({ ResourceId: trail.arn, TagsList: toWireTags(trail.tags) });
    }
    return { ResourceTagList };
  };
}
