import type { CallRenderer, PlacedCall, ProxiedRequest, UpstreamAnswer } from "./call.ts";
import { loadModelTable, type ModelTable, memberOf, shapeOf, structureMembers } from "./models.ts";
import { createPlacer, type Placement, type PlacementOptions } from "./place.ts";

/**
 * The rendering half of the recording proxy behind `CallRenderer` (call.ts): placement from the
 * model table, then CloudTrail's rendering of the record fields.
 */

export type RendererOptions = PlacementOptions;

/** Content types whose bodies say which call it is or what its members are (never object data). */
const DISCRIMINATING_BODY = /^application\/(x-www-form-urlencoded|x-amz-json-1\.[01]|cbor|json)/;

export function createCallRenderer(
  models: ModelTable = loadModelTable(),
  options: RendererOptions = {},
): CallRenderer {
  const placer = createPlacer(models, options);
  const placements = new WeakMap<PlacedCall, Placement>();

  function placementOf(placed: PlacedCall, req: Omit<ProxiedRequest, "body">): Placement {
    return placements.get(placed) ?? placer.place(req);
  }

  return {
    keepsRequestBody(req) {
      const type = (req.headers["content-type"] ?? "").toLowerCase();
      if (placer.protocolOf(req) !== undefined || DISCRIMINATING_BODY.test(type)) return true;
      const placed = placer.place(req);
      return placed.operation !== undefined && !hasStreamingPayload(placed, "input");
    },
    place(req) {
      const placed = placer.place(req);
      placements.set(placed, placed);
      return placed;
    },
    keepsResponseBody(placed, answer) {
      if (answer.status >= 300) return true;
      const p = placements.get(placed);
      if (p === undefined || p.op === undefined) return false;
      return !hasStreamingPayload(p, "output");
    },
    render(placed, req, answer: UpstreamAnswer) {
      const p = placementOf(placed, req);
      if (p.model === undefined || p.operation === undefined) return undefined;
      return {
        eventSource: `${p.model.signingName}.amazonaws.com`,
        eventName: p.operation,
        readOnly: false,
        requestParameters: null,
        responseElements: null,
        ...(answer.status >= 300 ? { error: { code: String(answer.status), message: "" } } : {}),
      };
    },
  };
}

/** Whether the operation's input or output payload is a blob or a stream (object data, not members). */
function hasStreamingPayload(p: Placement, side: "input" | "output"): boolean {
  const name = side === "input" ? p.op?.i : p.op?.o;
  if (name === undefined || p.model === undefined) return false;
  const shape = shapeOf(p.model, name);
  if (shape.p === undefined) return false;
  const ref = structureMembers(shape)[shape.p];
  if (ref === undefined) return false;
  const member = memberOf(ref);
  if (member.st === 1) return true;
  const payload = shapeOf(p.model, member.s);
  return payload.T === "B" || payload.T === "s" || payload.st === 1 || payload.es === 1;
}
