import {
  EMPTY_BODY_SHA256,
  queryPairs,
  S3_NAMES,
  SIGNED_STREAMING,
  type Signed,
  signatureFor,
  UNSIGNED_PAYLOAD,
  uriEscape,
} from "../wire/aws-sigv4.ts";

/**
 * Re-signing for upstreams that check signatures under their own keys (s3rver, MinIO, real AWS):
 * the client's signature was verified with opentrail's key; the forwarded request carries the
 * same head signed again with the upstream's key, same time, scope region and signing name.
 */

export interface UpstreamKey {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ResignedHead {
  /** Raw header lines to forward (name, value, …). */
  rawHeaders: string[];
  query: string;
}

const TOKEN = "x-amz-security-token";

function setHeader(raw: string[], name: string, value: string | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== name) out.push(raw[i]!, raw[i + 1]!);
  }
  if (value !== undefined) out.push(name, value);
  return out;
}

function distinct(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    out[name] = [...(out[name] ?? []), raw[i + 1]!];
  }
  return out;
}

/**
 * The head signed with the upstream's key; undefined when it cannot be (an aws-chunked body whose
 * chunks are signed with the client's key, or a SigV2 request), in which case it is forwarded as it came.
 */
export function resign(
  request: { method: string; path: string; query: string; rawHeaders: readonly string[] },
  auth: Signed,
  key: UpstreamKey,
  bodySha256: string | undefined,
): ResignedHead | undefined {
  if (SIGNED_STREAMING.has(auth.payload) || auth.version === 2) return undefined;
  const day = auth.amzDate.slice(0, 8);
  const scope = {
    secretAccessKey: key.secretAccessKey,
    amzDate: auth.amzDate,
    region: auth.region,
    signingName: auth.signingName,
  };
  const credential = `${key.accessKeyId}/${day}/${auth.region}/${auth.signingName}/aws4_request`;

  if (auth.form === "query") {
    const pairs = queryPairs(request.query).filter(
      ([k]) => k !== "X-Amz-Signature" && k !== "X-Amz-Security-Token",
    );
    const signedPairs: [string, string][] = pairs.map(([k, v]) => [
      k,
      k === "X-Amz-Credential" ? credential : v,
    ]);
    if (key.sessionToken !== undefined) signedPairs.push(["X-Amz-Security-Token", key.sessionToken]);
    const head = {
      method: request.method,
      path: request.path,
      query: "",
      headers: distinct(request.rawHeaders),
    };
    const payload = S3_NAMES.has(auth.signingName) ? UNSIGNED_PAYLOAD : (bodySha256 ?? EMPTY_BODY_SHA256);
    const signature = signatureFor(head, scope, auth.signedHeaders, signedPairs, payload);
    const query = [...signedPairs, ["X-Amz-Signature", signature] as const]
      .map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`)
      .join("&");
    return { rawHeaders: [...request.rawHeaders], query };
  }

  let raw = setHeader([...request.rawHeaders], TOKEN, key.sessionToken);
  let signed = auth.signedHeaders.filter((h) => h !== TOKEN);
  if (key.sessionToken !== undefined) signed.push(TOKEN);
  let payload = auth.payload;
  if (payload === "") {
    payload = bodySha256 ?? UNSIGNED_PAYLOAD;
    if (bodySha256 === undefined) {
      // a streamed body whose hash is not known before it is sent
      raw = setHeader(raw, "x-amz-content-sha256", UNSIGNED_PAYLOAD);
      signed.push("x-amz-content-sha256");
    }
  }
  signed = [...new Set(signed)].sort();
  const head = { method: request.method, path: request.path, query: request.query, headers: distinct(raw) };
  const signature = signatureFor(head, scope, signed, queryPairs(request.query), payload);
  raw = setHeader(
    raw,
    "authorization",
    `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=${signed.join(";")}, Signature=${signature}`,
  );
  return { rawHeaders: raw, query: request.query };
}
