import type { Handler } from "../api/service.ts";
import { toTrailDescription } from "./mappers.ts";
import { resolveTrail } from "./resolve.ts";
import type { ServiceDeps } from "./types.ts";

export function getTrail(deps: ServiceDeps): Handler<"GetTrail"> {
  return async (ctx, input) => {
    const trail = await resolveTrail(deps, ctx, input.Name, "read", "as-given");
    return { Trail: toTrailDescription(trail) };
  };
}
