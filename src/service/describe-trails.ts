import type { Handler } from "../api/service.ts";
import { parseTrailRef } from "../domain/names.ts";
import type { Trail } from "../domain/trail.ts";
import { toTrailDescription } from "./mappers.ts";
import { visibleTrails } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function describeTrails(deps: ServiceDeps): Handler<"DescribeTrails"> {
  return async (ctx, input) => {
    const names = input.trailNameList ?? [];
    const refs = names.map((n) => parseTrailRef(n));
    if (refs.length === 0) {
      const trails = await visibleTrails(deps, ctx, input.includeShadowTrails ?? true);
      return { trailList: trails.map(toTrailDescription) };
    }
    // entries that match nothing are skipped silently, as AWS does
    const visible = await visibleTrails(deps, ctx, true);
    const picked = new Set<Trail>();
    for (const ref of refs) {
      const hit =
        ref.kind === "name"
          ? visible.find((t) => t.homeRegion === ctx.region && t.name === ref.name)
          : visible.find((t) => t.arn === ref.arn);
      if (hit) picked.add(hit);
    }
    return { trailList: visible.filter((t) => picked.has(t)).map(toTrailDescription) };
  };
}
