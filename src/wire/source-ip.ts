import { isIP } from "node:net";

function plain(address: string): string {
  // IPv4 peers on a dual-stack socket appear as ::ffff:a.b.c.d
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * The caller's address for `sourceIPAddress`: the peer, or, when the peer is a proxy the
 * configuration trusts, the nearest untrusted address of X-Forwarded-For.
 */
export function sourceAddress(
  remoteAddress: string,
  forwardedFor: string | undefined,
  trustedProxies: ReadonlySet<string>,
): string {
  let address = plain(remoteAddress);
  if (!forwardedFor || !trustedProxies.has(address)) return address;
  const hops = forwardedFor
    .split(",")
    .map((h) => plain(h.trim()))
    .filter((h) => isIP(h) !== 0);
  while (hops.length > 0 && trustedProxies.has(address)) address = hops.pop()!;
  return address;
}
