import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock, CredentialStore } from "../ports/index.ts";
import { AuthFailure, queryPairs, type Signed, type SignedHead } from "./aws-sigv4.ts";

/**
 * S3's legacy signature (SigV2, HMAC-SHA1), in the header form `Authorization: AWS key:signature`
 * and the query form `AWSAccessKeyId`/`Signature`/`Expires`, which boto3 still uses for presigned
 * URLs to a custom endpoint. Path-style requests only: the bucket of a virtual-hosted one is in the
 * Host, which the proxy cannot tell from a host name of the upstream's.
 */

const MAX_SKEW_MS = 15 * 60 * 1000;

/** Query keys that are part of the signed resource (as botocore's HmacV1 lists them). */
const SUB_RESOURCES = new Set([
  "accelerate",
  "acl",
  "analytics",
  "cors",
  "defaultObjectAcl",
  "delete",
  "inventory",
  "lifecycle",
  "location",
  "logging",
  "metrics",
  "notification",
  "object-lock",
  "partNumber",
  "policy",
  "replication",
  "requestPayment",
  "response-cache-control",
  "response-content-disposition",
  "response-content-encoding",
  "response-content-language",
  "response-content-type",
  "response-expires",
  "restore",
  "select",
  "select-type",
  "storageClass",
  "tagging",
  "torrent",
  "uploadId",
  "uploads",
  "versionId",
  "versioning",
  "versions",
  "website",
]);

const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

function first(head: SignedHead, name: string): string | undefined {
  return head.headers[name]?.[0];
}

function stringToSign(head: SignedHead, dateOrExpires: string): string {
  const amz = Object.keys(head.headers)
    .filter((n) => n.startsWith("x-amz-"))
    .sort()
    .map((n) => `${n}:${(head.headers[n] ?? []).map((v) => v.trim()).join(",")}\n`)
    .join("");
  const sub = queryPairs(head.query)
    .filter(([k]) => SUB_RESOURCES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === "" ? k : `${k}=${v}`))
    .join("&");
  const resource = `${head.path === "" ? "/" : head.path}${sub === "" ? "" : `?${sub}`}`;
  return [
    head.method,
    first(head, "content-md5") ?? "",
    first(head, "content-type") ?? "",
    dateOrExpires,
    `${amz}${resource}`,
  ].join("\n");
}

/** A SigV2 request's key and signature, or undefined when it is not one. */
export function sigV2Parts(
  head: SignedHead,
): { accessKeyId: string; signature: string; expires?: string } | undefined {
  const authorization = first(head, "authorization")?.trim();
  const header = authorization === undefined ? null : /^AWS ([^:\s]+):(\S+)$/.exec(authorization);
  if (header) return { accessKeyId: header[1]!, signature: header[2]! };
  const pairs = queryPairs(head.query);
  const get = (k: string) => pairs.find(([n]) => n === k)?.[1];
  const accessKeyId = get("AWSAccessKeyId");
  const signature = get("Signature");
  const expires = get("Expires");
  if (accessKeyId === undefined || signature === undefined) return undefined;
  return { accessKeyId, signature, ...(expires !== undefined ? { expires } : {}) };
}

/** Verifies an S3 SigV2 request; the region is the configured one (SigV2 names none). */
export function verifySigV2(
  head: SignedHead,
  opts: { credentials: CredentialStore; clock: Clock; region: string },
): Signed {
  const parts = sigV2Parts(head);
  if (parts === undefined) throw new AuthFailure("incomplete", "The authorization header is malformed.");
  const now = opts.clock.now().getTime();
  let dateLine: string;
  if (parts.expires !== undefined) {
    const expires = Number(parts.expires);
    if (!Number.isInteger(expires))
      throw new AuthFailure("incomplete", "Invalid date (should be seconds since epoch)");
    if (now > expires * 1000) throw new AuthFailure("expired", "Request has expired");
    dateLine = parts.expires;
  } else {
    const amzDate = first(head, "x-amz-date");
    const when = Date.parse(amzDate ?? first(head, "date") ?? "");
    if (!Number.isFinite(when))
      throw new AuthFailure("badDate", "AWS authentication requires a valid Date or x-amz-date header");
    if (Math.abs(when - now) > MAX_SKEW_MS) {
      throw new AuthFailure(
        "skew",
        "The difference between the request time and the current time is too large.",
      );
    }
    // with x-amz-date, which the amz headers carry, the Date line is empty
    dateLine = amzDate !== undefined ? "" : (first(head, "date") ?? "");
  }
  const credential = opts.credentials.lookup(parts.accessKeyId);
  if (credential === undefined) {
    throw new AuthFailure("unknownKey", "The AWS Access Key Id you provided does not exist in our records.");
  }
  const expected = createHmac("sha1", credential.secretAccessKey)
    .update(stringToSign(head, dateLine))
    .digest("base64");
  const a = Buffer.from(expected);
  const b = Buffer.from(parts.signature);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new AuthFailure("mismatch", MISMATCH);
  const token = first(head, "x-amz-security-token");
  const tokenOk =
    credential.sessionToken === undefined ? token === undefined : token === credential.sessionToken;
  if (!tokenOk) throw new AuthFailure("badToken", "The provided token is malformed or otherwise invalid.");
  return {
    kind: "signed",
    version: 2,
    credential,
    region: opts.region,
    signingName: "s3",
    form: parts.expires !== undefined ? "query" : "header",
    signedHeaders: [],
    amzDate: "",
    payload: "UNSIGNED-PAYLOAD",
  };
}
