import type { PublicKey } from "@aws-sdk/client-cloudtrail";
import { invalidTimeRange, invalidToken } from "../api/messages.ts";
import type { Handler } from "../api/service.ts";
import type { DigestPublicKey } from "../ports/index.ts";
import { notYetAvailable } from "./not-yet.ts";
import type { ServiceDeps } from "./types.ts";

/** The SDK's `Value` is a plain Uint8Array; a Buffer would compare unequal to what the wire decodes. */
function toPublicKey(k: DigestPublicKey): PublicKey {
  return {
    Value: new Uint8Array(k.publicKeyDer),
    ValidityStartTime: k.validFrom,
    ValidityEndTime: k.validTo,
    Fingerprint: k.fingerprint,
  };
}

/**
 * The current region's digest public keys whose validity overlaps [StartTime, EndTime] (both
 * default to now). Keys are made on demand, so the region's key valid now is ensured first: a
 * fresh server answers with one key, as AWS always has one.
 */
export function listPublicKeys(deps: ServiceDeps): Handler<"ListPublicKeys"> {
  const keys = deps.keys;
  if (!keys) return notYetAvailable("ListPublicKeys");
  return async (ctx, input) => {
    const now = ctx.clock.now();
    const start = input.StartTime ?? now;
    const end = input.EndTime ?? now;
    if (!(start.getTime() <= end.getTime())) throw invalidTimeRange();
    // reserved: this service never hands out a token, so none can be valid
    if (input.NextToken !== undefined) throw invalidToken();
    await keys.activeKey(ctx.region, now);
    const found = await keys.publicKeys(ctx.region, start, end);
    return { PublicKeyList: found.map(toPublicKey) };
  };
}
