import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { type CloudTrailError, fail } from "../api/index.ts";
import type { Clock, Credential, CredentialStore } from "../ports/index.ts";
import { NodeSha256 } from "../ports/sha256.ts";
import { signingKey } from "./signing-key.ts";
import type { RawRequest } from "./types.ts";

/**
 * SigV4 verification for AWS JSON requests. The checks run in the order AWS's front end runs
 * them, so that a request with several faults gets the error AWS would give, with AWS's wording:
 * header presence → key=value syntax → required parts → date syntax → clock skew → signed Host →
 * algorithm → credential syntax → scope → access key → signature → session token.
 */

export const SIGNING_SERVICE = "cloudtrail";
const ALGORITHM = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
/** How far the client's X-Amz-Date may be from the server clock. */
export const MAX_SKEW_MS = 15 * 60 * 1000;

export const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
export const UNKNOWN_ACCESS_KEY = "The security token included in the request is invalid.";
// AWS leaves the full stop off when it is the session token that is wrong.
export const INVALID_SESSION_TOKEN = "The security token included in the request is invalid";
export const MISSING_AUTHENTICATION = "Request is missing Authentication Token";

export interface SigV4Options {
  credentials: CredentialStore;
  /** Regions this deployment serves; a credential scoped elsewhere is refused. */
  regions: readonly string[];
  clock: Clock;
}

export interface Authenticated {
  credential: Credential;
  /** The region of the credential scope: the request's current region. */
  region: string;
  /** The headers the signature covers, lower-case. */
  signedHeaders: readonly string[];
}

interface AuthorizationHeader {
  algorithm: string;
  credential: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

const incomplete = (message: string): CloudTrailError => fail("IncompleteSignatureException", message);
const invalid = (message: string): CloudTrailError => fail("InvalidSignatureException", message);

function parseAuthorization(header: string | undefined, amzDate: string | undefined): AuthorizationHeader {
  const value = header?.trim() ?? "";
  if (!value.startsWith("AWS4-")) throw fail("MissingAuthenticationTokenException", MISSING_AUTHENTICATION);
  const space = value.search(/\s/);
  const algorithm = space < 0 ? value : value.slice(0, space);
  const rest = space < 0 ? "" : value.slice(space + 1);

  const params = new Map<string, string>();
  for (const raw of rest.split(",")) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) {
      throw incomplete(
        `'${part}' not a valid key=value pair (missing equal-sign) in Authorization header: '${value}'`,
      );
    }
    params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }

  const missing: string[] = [];
  for (const name of ["Credential", "Signature", "SignedHeaders"]) {
    if (!params.get(name)) missing.push(`Authorization header requires '${name}' parameter.`);
  }
  if (!amzDate) {
    missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (missing.length > 0) throw incomplete(`${missing.join(" ")} Authorization=${value}`);

  return {
    algorithm,
    credential: params.get("Credential")!,
    signature: params.get("Signature")!,
    signedHeaders: params
      .get("SignedHeaders")!
      .split(";")
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ""),
    amzDate: amzDate!.trim(),
  };
}

/** `20200102T030405Z` → Date, or undefined if it is not a real instant in that exact form. */
export function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const roundTrip =
    date.getUTCFullYear() === y &&
    date.getUTCMonth() === mo - 1 &&
    date.getUTCDate() === d &&
    date.getUTCHours() === h &&
    date.getUTCMinutes() === mi &&
    date.getUTCSeconds() === s;
  return roundTrip ? date : undefined;
}

/** `YYYYMMDDTHHMMSSZ`, the form AWS prints its times in. */
export function formatAmzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

function checkSkew(requestDate: Date, now: Date): void {
  const earliest = new Date(now.getTime() - MAX_SKEW_MS);
  const latest = new Date(now.getTime() + MAX_SKEW_MS);
  if (requestDate < earliest) {
    throw invalid(
      `Signature expired: ${formatAmzDate(requestDate)} is now earlier than ${formatAmzDate(earliest)} (${formatAmzDate(now)} - 15 min.)`,
    );
  }
  if (requestDate > latest) {
    throw invalid(
      `Signature not yet current: ${formatAmzDate(requestDate)} is still later than ${formatAmzDate(latest)} (${formatAmzDate(now)} + 15 min.)`,
    );
  }
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
}

function parseScope(
  credential: string,
  amzDate: string,
  regions: readonly string[],
  service: string = SIGNING_SERVICE,
): Scope {
  // AWS ignores trailing slashes when it counts the elements.
  const parts = credential.replace(/\/+$/, "").split("/");
  if (parts.length !== 5) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, date, region, , terminator] = parts as [string, string, string, string, string];
  const problems: string[] = [];
  if (!regions.includes(region))
    problems.push(`Credential should be scoped to a valid region, not '${region}'.`);
  if (parts[3] !== service) {
    problems.push(`Credential should be scoped to correct service: '${service}'.`);
  }
  if (terminator !== TERMINATOR) {
    problems.push(
      `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${terminator}'.`,
    );
  }
  if (date !== amzDate.slice(0, 8)) {
    problems.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (problems.length > 0) throw invalid(problems.join(" "));
  return { accessKeyId, date, region };
}

// signing clients in tests and benches import it from here, beside the verifier that checks them
export { NodeSha256 };

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

function header(req: RawRequest, name: string): string | undefined {
  return Object.hasOwn(req.headers, name) ? req.headers[name] : undefined;
}

/** The first x-amz-* header of the request that the signature does not cover. */
function unsignedAmzHeader(req: RawRequest, signedHeaders: readonly string[]): string | undefined {
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith("x-amz-") && !signedHeaders.includes(name)) return name;
  }
  return undefined;
}

/** `x-amz-target` → `X-Amz-Target`, as AWS names headers in its messages. */
function canonicalHeaderName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/** Headers the signer leaves out even when the client lists them: it writes them itself (smithy's GENERATED_HEADERS). */
const GENERATED_HEADERS: ReadonlySet<string> = new Set(["authorization", "x-amz-date", "date"]);

/** RFC 3986 escaping as SigV4 wants it: everything but A–Z a–z 0–9 - _ . ~ */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A header value as the canonical request holds it: line breaks and runs of blanks as one space, trimmed. */
function canonicalValue(value: string): string {
  return value
    .replace(/[\r\n]/g, " ")
    .replace(/[ \t]+/g, " ")
    .replace(/^ | $/g, "");
}

/** The path as signed: `.` and `..` segments resolved and escaped again when `escapePath` (all but S3). */
function canonicalPath(path: string, escapePath: boolean): string {
  if (!escapePath) return path;
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && path.endsWith("/") ? "/" : ""}`;
  return escapeUri(normalized).replace(/%2F/g, "/");
}

/** The query as signed: pairs escaped, sorted by key, a key's values sorted; X-Amz-Signature left out. */
function canonicalQuery(search: URLSearchParams): string {
  const serialized = new Map<string, string>();
  for (const key of new Set(search.keys())) {
    if (key.toLowerCase() === "x-amz-signature") continue;
    const k = escapeUri(key);
    const values = search.getAll(key).map((v) => `${k}=${escapeUri(v)}`);
    serialized.set(k, values.length === 1 ? values[0]! : values.sort().join("&"));
  }
  return [...serialized.keys()]
    .sort()
    .map((k) => serialized.get(k)!)
    .filter((v) => v !== "")
    .join("&");
}

/**
 * The signature the client should have sent, recomputed over exactly the headers it signed. The
 * canonical request is the one @smithy/signature-v4 (the SDKs' signer) builds from those headers,
 * rule for rule, without its per-request promises and copies; the signing key is cached.
 */
function expectedSignature(
  req: RawRequest,
  auth: AuthorizationHeader,
  credential: Credential,
  region: string,
  signingDate: Date,
  signing: Signing,
  /** The body's SHA-256 (hex), the payload hash unless the client signed x-amz-content-sha256. */
  bodyHash: string,
): string {
  const longDate = formatAmzDate(signingDate);
  const day = longDate.slice(0, 8);
  const names: string[] = [];
  const values = new Map<string, string>();
  let payloadHash: string | undefined;
  for (const name of auth.signedHeaders) {
    if (values.has(name)) continue;
    // the signer writes X-Amz-Date itself, from the signing date, and drops Date
    const value =
      name === "x-amz-date" ? longDate : GENERATED_HEADERS.has(name) ? undefined : header(req, name);
    if (value === undefined) continue;
    names.push(name);
    values.set(name, canonicalValue(value));
    if (name === "x-amz-content-sha256") payloadHash = value;
  }
  names.sort();
  // CloudTrail's API is POST / without a query: no URL to parse
  const url = req.url === "/" ? undefined : new URL(req.url, "http://placeholder");
  const canonical = [
    req.method,
    canonicalPath(url?.pathname ?? "/", signing.uriEscapePath),
    url === undefined ? "" : canonicalQuery(url.searchParams),
    names.map((name) => `${name}:${values.get(name)!}`).join("\n"),
    "",
    names.join(";"),
    payloadHash ?? bodyHash,
  ].join("\n");
  const scope = `${day}/${region}/${signing.service}/${TERMINATOR}`;
  const toSign = `${ALGORITHM}\n${longDate}\n${scope}\n${createHash("sha256").update(canonical).digest("hex")}`;
  return createHmac("sha256", signingKey(credential.secretAccessKey, day, region, signing.service))
    .update(toSign)
    .digest("hex");
}

/** How a service signs: its signing name, and whether the path is escaped twice (all but S3). */
interface Signing {
  service: string;
  uriEscapePath: boolean;
  /** S3 lets the client leave the body out of the signature. */
  unsignedPayload: boolean;
}

const CLOUDTRAIL_SIGNING: Signing = { service: SIGNING_SERVICE, uriEscapePath: true, unsignedPayload: false };
const S3_SIGNING: Signing = { service: "s3", uriEscapePath: false, unsignedPayload: true };

/** Verifies the request's SigV4 signature; throws the CloudTrailError AWS would answer with. */
export function verifySigV4(req: RawRequest, opts: SigV4Options): Promise<Authenticated> {
  return verifyFor(req, opts, CLOUDTRAIL_SIGNING);
}

/**
 * Verifies a request to the S3 API (signing name s3, the path escaped once, UNSIGNED-PAYLOAD
 * allowed). Failures are the CloudTrailErrors of verifySigV4: the S3 layer names them as S3 does.
 */
export function verifyS3SigV4(req: RawRequest, opts: SigV4Options): Promise<Authenticated> {
  return verifyFor(req, opts, S3_SIGNING);
}

async function verifyFor(req: RawRequest, opts: SigV4Options, signing: Signing): Promise<Authenticated> {
  const auth = parseAuthorization(header(req, "authorization"), header(req, "x-amz-date"));

  const requestDate = parseAmzDate(auth.amzDate);
  if (requestDate === undefined) {
    throw incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${auth.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  checkSkew(requestDate, opts.clock.now());

  if (!auth.signedHeaders.includes("host")) {
    throw invalid("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  }
  // An unsigned x-amz-* header could be changed in flight: X-Amz-Target would turn a signed
  // GetTrail into a DeleteTrail. AWS requires every x-amz-* header present to be signed.
  const unsigned = unsignedAmzHeader(req, auth.signedHeaders);
  if (unsigned !== undefined) {
    throw invalid(`'${canonicalHeaderName(unsigned)}' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  if (auth.algorithm !== ALGORITHM) {
    throw incomplete(`Unsupported AWS 'algorithm': '${auth.algorithm}' (only ${ALGORITHM} for now).`);
  }

  const scope = parseScope(auth.credential, auth.amzDate, opts.regions, signing.service);
  const credential = opts.credentials.lookup(scope.accessKeyId);
  if (credential === undefined) throw fail("UnrecognizedClientException", UNKNOWN_ACCESS_KEY);

  // The signer trusts a signed x-amz-content-sha256 as the payload hash; the body must match it.
  const declaredHash = auth.signedHeaders.includes("x-amz-content-sha256")
    ? header(req, "x-amz-content-sha256")
    : undefined;
  const unsignedPayload = signing.unsignedPayload && declaredHash?.trim() === "UNSIGNED-PAYLOAD";
  const checksBody = (declaredHash !== undefined && !unsignedPayload) || !credential.anySecret;
  const bodyHash = checksBody ? createHash("sha256").update(req.body).digest("hex") : "";
  const payloadOk =
    declaredHash === undefined || unsignedPayload || sameText(declaredHash.trim().toLowerCase(), bodyHash);
  if (!payloadOk) throw invalid(SIGNATURE_MISMATCH);
  if (!credential.anySecret) {
    const expected = expectedSignature(req, auth, credential, scope.region, requestDate, signing, bodyHash);
    if (expected === "" || !sameText(auth.signature, expected)) throw invalid(SIGNATURE_MISMATCH);
  }

  const token = header(req, "x-amz-security-token");
  const tokenOk =
    credential.sessionToken === undefined
      ? token === undefined
      : token !== undefined && sameText(token, credential.sessionToken);
  if (!tokenOk) throw fail("UnrecognizedClientException", INVALID_SESSION_TOKEN);

  return { credential, region: scope.region, signedHeaders: auth.signedHeaders };
}
