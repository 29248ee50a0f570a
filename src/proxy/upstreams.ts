/**
 * Which upstream a request goes to: the one configured for its service (botocore's name, as the
 * models place it), else for its signing name (`s3`, `dynamodb`), else the default.
 */
export interface Upstreams {
  default?: string;
  services: Readonly<Record<string, string>>;
}

export function upstreamFor(
  upstreams: Upstreams,
  service: string | undefined,
  signingName: string | undefined,
): URL | undefined {
  const byService = service === undefined ? undefined : upstreams.services[service];
  const bySigningName = signingName === undefined ? undefined : upstreams.services[signingName];
  const url = byService ?? bySigningName ?? upstreams.default;
  if (url === undefined) return undefined;
  let parsed = parsedUrls.get(url);
  if (parsed === undefined) {
    parsed = new URL(url);
    parsedUrls.set(url, parsed);
  }
  return parsed;
}

/** Each configured URL parsed once, not once a call (the callers only read it). */
const parsedUrls = new Map<string, URL>();

/** Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), and Expect, which this hop answers. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
]);

/**
 * Raw header lines (name, value, name, value…) without the hop-by-hop ones and those the
 * Connection header names; names keep the case they came in.
 */
export function endToEndHeaders(raw: readonly string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === "connection") {
      for (const n of raw[i + 1]!.split(",")) named.add(n.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
