import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { Clock, Credential, CredentialStore } from "../ports/index.ts";
import { AuthFailure } from "./auth-failure.ts";
import { type BodyCheck, chunkSignatureCheck } from "./aws-chunked.ts";
import { signingKey } from "./signing-key.ts";
import { formatAmzDate, MAX_SKEW_MS, parseAmzDate } from "./sigv4.ts";

export { AuthFailure, type AuthFailureReason } from "./auth-failure.ts";
export type { BodyCheck } from "./aws-chunked.ts";

/**
 * SigV4 verification for a request to any AWS service, in the header form and the presigned query
 * form, with the signing name and region taken from the credential scope. Unlike CloudTrail's own
 * verifier (sigv4.ts), it does not answer: it says why a request fails (`AuthFailure.reason`), and
 * the proxy words that in the service's own error format. The body may not have arrived yet: when
 * the signature covers a payload hash that only the whole body gives, the last check runs when the
 * body has ended (`Signed.bodyCheck`).
 */

const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
/** A presigned URL lives at most seven days (X-Amz-Expires ≤ 604800). */
const MAX_PRESIGN_SECONDS = 604_800;
/** Signing names whose requests sign the path encoded once and presign no payload. */
export const S3_NAMES = new Set(["s3", "s3-object-lambda", "s3express"]);
const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** x-amz-content-sha256 values of aws-chunked bodies whose chunks are signed. */
export const SIGNED_STREAMING = new Set([
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
  "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
  "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
]);
/** x-amz-content-sha256 values whose body no signature covers. */
const UNSIGNED_BODY = new Set([UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"]);

/** The request's head as received: raw path and query, every header's values. */
export interface SignedHead {
  method: string;
  /** As received, still percent-encoded. */
  path: string;
  /** As received, without "?". */
  query: string;
  /** Lower-case names; a repeated header's values in order. */
  headers: Readonly<Record<string, readonly string[]>>;
}

export interface Signed {
  kind: "signed";
  /** SigV2 (S3's legacy HMAC-SHA1) signs no body and cannot be re-signed as it came; SigV4 when absent. */
  version?: 2;
  credential: Credential;
  region: string;
  signingName: string;
  form: "header" | "query";
  /** The headers the signature covers, lower case, in the client's order. */
  signedHeaders: readonly string[];
  /** The request's X-Amz-Date. */
  amzDate: string;
  /** The x-amz-content-sha256 value the signature covers, or the hash the body must have; "" when only the body gives it. */
  payload: string;
  /**
   * Set when the body still has to be checked (its hash, or its chunks' signatures): a check to
   * feed the body to as it streams. Undefined when nothing about the body is left to check.
   */
  bodyCheck?: () => BodyCheck;
}

export type AwsAuth = { kind: "anonymous" } | Signed;

export interface AwsSigV4Options {
  credentials: CredentialStore;
  clock: Clock;
  /** Verify S3's SigV2 as well, giving this region (SigV2 names none); refused when absent. */
  sigV2?: (head: SignedHead) => Signed;
}

function first(head: SignedHead, name: string): string | undefined {
  return head.headers[name]?.[0];
}

/** RFC 3986 escaping as SigV4 wants it: everything but A–Z a–z 0–9 - _ . ~ */
export function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Query pairs as received, decoded once; `+` is a plus, as AWS reads it. */
export function queryPairs(query: string): [string, string][] {
  if (query === "") return [];
  return query.split("&").flatMap((part): [string, string][] => {
    if (part === "") return [];
    const eq = part.indexOf("=");
    return eq < 0 ? [[decode(part), ""]] : [[decode(part.slice(0, eq)), decode(part.slice(eq + 1))]];
  });
}

function canonicalQuery(pairs: readonly [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/**
 * S3 signs the path encoded once; every other service signs it encoded twice (the SDKs escape the
 * already-escaped path), after removing `.` and `..` segments.
 */
function canonicalPath(path: string, signingName: string): string {
  const raw = path === "" ? "/" : path;
  if (S3_NAMES.has(signingName)) {
    return raw
      .split("/")
      .map((s) => uriEscape(decode(s)))
      .join("/");
  }
  const segments: string[] = [];
  for (const s of raw.split("/")) {
    if (s === "..") segments.pop();
    else if (s !== "." && s !== "") segments.push(s);
  }
  const normalized = `/${segments.join("/")}${raw.endsWith("/") && segments.length > 0 ? "/" : ""}`;
  return normalized
    .split("/")
    .map((s) => uriEscape(s))
    .join("/");
}

function canonicalHeaders(head: SignedHead, signed: readonly string[]): string {
  return signed
    .map((name) => {
      const values = (head.headers[name] ?? []).map((v) => v.trim().replace(/\s+/g, " "));
      return `${name}:${values.join(",")}\n`;
    })
    .join("");
}

interface Parts {
  form: "header" | "query";
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** Presigned: seconds the URL is valid. */
  expires?: number;
  token: string | undefined;
  /** The query pairs the signature covers (presigned: all but X-Amz-Signature). */
  pairs: [string, string][];
}

function headerParts(head: SignedHead, value: string): Parts {
  const space = value.search(/\s/);
  const algorithm = space < 0 ? value : value.slice(0, space);
  const params = new Map<string, string>();
  for (const raw of (space < 0 ? "" : value.slice(space + 1)).split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0)
      throw new AuthFailure(
        "incomplete",
        `'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${value}'`,
      );
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((n) => !params.get(n));
  const amzDate = first(head, "x-amz-date") ?? "";
  if (missing.length > 0 || amzDate === "") {
    const parts = missing.map((n) => `Authorization header requires '${n}' parameter.`);
    if (amzDate === "")
      parts.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    throw new AuthFailure("incomplete", `${parts.join(" ")} Authorization=${value}`);
  }
  return {
    form: "header",
    algorithm,
    credential: params.get("Credential")!,
    signature: params.get("Signature")!,
    signedHeaders: splitSignedHeaders(params.get("SignedHeaders")!),
    amzDate: amzDate.trim(),
    token: first(head, "x-amz-security-token"),
    pairs: queryPairs(head.query),
  };
}

function splitSignedHeaders(text: string): string[] {
  return text
    .split(";")
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== "");
}

function queryParts(pairs: [string, string][]): Parts {
  const get = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const missing = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
  ].filter((n) => !get(n));
  if (missing.length > 0) {
    throw new AuthFailure(
      "incomplete",
      `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.`,
    );
  }
  const expiresText = get("X-Amz-Expires");
  const expires = expiresText === undefined ? undefined : Number(expiresText);
  if (expires !== undefined && (!Number.isInteger(expires) || expires < 0)) {
    throw new AuthFailure("incomplete", "X-Amz-Expires should be a number");
  }
  if (expires !== undefined && expires > MAX_PRESIGN_SECONDS) {
    throw new AuthFailure("incomplete", "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  }
  return {
    form: "query",
    algorithm: get("X-Amz-Algorithm")!,
    credential: get("X-Amz-Credential")!,
    signature: get("X-Amz-Signature")!,
    signedHeaders: splitSignedHeaders(get("X-Amz-SignedHeaders")!),
    amzDate: get("X-Amz-Date")!,
    ...(expires !== undefined ? { expires } : {}),
    token: get("X-Amz-Security-Token"),
    pairs: pairs.filter(([k]) => k !== "X-Amz-Signature"),
  };
}

const SIGV2 = Symbol("sigv2");

/** How the request is authenticated, if at all; throws AuthFailure when the head is wrong. */
function readParts(head: SignedHead, sigV2: boolean): Parts | typeof SIGV2 | undefined {
  const authorization = first(head, "authorization")?.trim();
  if (authorization !== undefined && authorization !== "") {
    if (authorization.startsWith("AWS4-")) return headerParts(head, authorization);
    if (sigV2 && authorization.startsWith("AWS ")) return SIGV2;
    throw new AuthFailure(
      "unsupported",
      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    );
  }
  const pairs = queryPairs(head.query);
  if (pairs.some(([k]) => k === "X-Amz-Credential" || k === "X-Amz-Signature" || k === "X-Amz-Algorithm")) {
    return queryParts(pairs);
  }
  if (pairs.some(([k]) => k === "AWSAccessKeyId" || k === "Signature")) {
    if (sigV2) return SIGV2;
    throw new AuthFailure(
      "unsupported",
      "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    );
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkTime(parts: Parts, now: Date): Date {
  const date = parseAmzDate(parts.amzDate);
  if (date === undefined) {
    throw new AuthFailure(
      "badDate",
      `Date must be in ISO-8601 'basic format'. Got '${parts.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  if (parts.form === "query") {
    if (date.getTime() > now.getTime() + MAX_SKEW_MS)
      throw new AuthFailure("skew", "Request is not yet valid");
    if (parts.expires !== undefined && now.getTime() > date.getTime() + parts.expires * 1000) {
      throw new AuthFailure("expired", "Request has expired");
    }
    return date;
  }
  if (Math.abs(date.getTime() - now.getTime()) > MAX_SKEW_MS) {
    const earlier = date < now;
    const bound = new Date(now.getTime() + (earlier ? -MAX_SKEW_MS : MAX_SKEW_MS));
    throw new AuthFailure(
      "skew",
      earlier
        ? `Signature expired: ${formatAmzDate(date)} is now earlier than ${formatAmzDate(bound)} (${formatAmzDate(now)} - 15 min.)`
        : `Signature not yet current: ${formatAmzDate(date)} is still later than ${formatAmzDate(bound)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
  return date;
}

/** Who signs and for what: the key, the request's time, and the credential scope's region and name. */
export interface SigningScope {
  secretAccessKey: string;
  /** `YYYYMMDDTHHMMSSZ`; the scope's day is its first eight characters. */
  amzDate: string;
  region: string;
  signingName: string;
}

/** The SigV4 signature of a head over the given signed headers, query pairs and payload hash. */
export function signatureFor(
  head: SignedHead,
  scope: SigningScope,
  signedHeaders: readonly string[],
  pairs: readonly [string, string][],
  payloadHash: string,
): string {
  const day = scope.amzDate.slice(0, 8);
  const canonical = [
    head.method,
    canonicalPath(head.path, scope.signingName),
    canonicalQuery(pairs),
    canonicalHeaders(head, signedHeaders),
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
  const toSign = [
    ALGORITHM,
    scope.amzDate,
    `${day}/${scope.region}/${scope.signingName}/${TERMINATOR}`,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  const key = signingKey(scope.secretAccessKey, day, scope.region, scope.signingName);
  return createHmac("sha256", key).update(toSign).digest("hex");
}

/** The declared payload hash, or undefined when only the body can give it. */
function declaredPayload(head: SignedHead, parts: Parts, signingName: string): string | undefined {
  // S3's presigned URLs sign no payload; other services' (STS GetCallerIdentity for EKS) sign the body
  if (parts.form === "query" && S3_NAMES.has(signingName)) {
    return first(head, "x-amz-content-sha256") ?? UNSIGNED_PAYLOAD;
  }
  if (parts.form === "query") return undefined;
  return parts.signedHeaders.includes("x-amz-content-sha256")
    ? first(head, "x-amz-content-sha256")?.trim()
    : undefined;
}

/**
 * Verifies what the head alone can show; the body's part, when there is one, is left in
 * `bodyCheck`. Unsigned requests are anonymous: the upstream decides whether it serves them.
 */
export function verifyAwsSigV4(head: SignedHead, opts: AwsSigV4Options): AwsAuth {
  const parts = readParts(head, opts.sigV2 !== undefined);
  if (parts === undefined) return { kind: "anonymous" };
  if (parts === SIGV2) return opts.sigV2!(head);
  if (parts.algorithm !== ALGORITHM) {
    throw new AuthFailure(
      "unsupported",
      `Unsupported AWS 'algorithm': '${parts.algorithm}' (only ${ALGORITHM} for now).`,
    );
  }
  const scope = parts.credential.replace(/\/+$/, "").split("/");
  if (scope.length !== 5 || scope.some((s) => s === "") || scope[4] !== TERMINATOR) {
    throw new AuthFailure(
      "incomplete",
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${parts.credential}'`,
    );
  }
  const [accessKeyId, day, region, signingName] = scope as [string, string, string, string];
  const date = checkTime(parts, opts.clock.now());
  if (day !== parts.amzDate.slice(0, 8)) {
    throw new AuthFailure(
      "incomplete",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${parts.amzDate.slice(0, 8)}', from '${parts.amzDate}'.`,
    );
  }
  if (!parts.signedHeaders.includes("host")) {
    throw new AuthFailure("incomplete", "'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const credential = opts.credentials.lookup(accessKeyId);
  if (credential === undefined)
    throw new AuthFailure("unknownKey", "The security token included in the request is invalid.");

  const signing = {
    secretAccessKey: credential.secretAccessKey,
    amzDate: formatAmzDate(date),
    region,
    signingName,
  };
  const signatureOver = (payloadHash: string): boolean =>
    sameText(parts.signature, signatureFor(head, signing, parts.signedHeaders, parts.pairs, payloadHash));
  const checkToken = () => {
    const ok =
      credential.sessionToken === undefined
        ? parts.token === undefined
        : parts.token !== undefined && sameText(parts.token, credential.sessionToken);
    if (!ok) throw new AuthFailure("badToken", "The security token included in the request is invalid");
  };

  const declared = declaredPayload(head, parts, signingName);
  const base = {
    kind: "signed" as const,
    credential,
    region,
    signingName,
    form: parts.form,
    signedHeaders: parts.signedHeaders,
    amzDate: formatAmzDate(date),
  };
  if (declared === undefined) {
    // the signature covers the body's hash: known once the body has been read
    checkToken();
    return {
      ...base,
      payload: "",
      bodyCheck: () =>
        hashCheck((sha256) =>
          signatureOver(sha256) ? undefined : new AuthFailure("mismatch", SIGNATURE_MISMATCH_TEXT),
        ),
    };
  }
  if (!signatureOver(declared)) throw new AuthFailure("mismatch", SIGNATURE_MISMATCH_TEXT);
  checkToken();
  if (
    declared === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" ||
    declared === "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
  ) {
    const chunks = {
      signingKey: signingKey(credential.secretAccessKey, day, region, signingName),
      amzDate: base.amzDate,
      scope: `${day}/${region}/${signingName}/${TERMINATOR}`,
      seedSignature: parts.signature,
      trailer: declared.endsWith("-TRAILER"),
    };
    return { ...base, payload: declared, bodyCheck: () => chunkSignatureCheck(chunks) };
  }
  const hex = declared.toLowerCase();
  if (UNSIGNED_BODY.has(declared) || SIGNED_STREAMING.has(declared) || !/^[0-9a-f]{64}$/.test(hex)) {
    return { ...base, payload: declared };
  }
  return {
    ...base,
    payload: hex,
    bodyCheck: () =>
      hashCheck((sha256) =>
        sameText(sha256, hex)
          ? undefined
          : new AuthFailure(
              "contentHash",
              "The provided 'x-amz-content-sha256' header does not match what was computed.",
            ),
      ),
  };
}

/** A body check on the SHA-256 of the whole body. */
function hashCheck(verdict: (sha256: string) => AuthFailure | undefined): BodyCheck {
  const hash = createHash("sha256");
  return {
    update(bytes) {
      hash.update(bytes);
      return undefined;
    },
    end: () => verdict(hash.digest("hex")),
  };
}

export const SIGNATURE_MISMATCH_TEXT =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/** The SHA-256 of an empty body: a body-less request's hash. */
export const EMPTY_BODY_SHA256 = EMPTY_SHA256;
