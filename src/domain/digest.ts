/**
 * Digest files: their keys, bodies, signing strings and signatures, as integrity.md §2–5 lay
 * them out. Pure: the caller brings the times, the delivered files and the key.
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { escapeRegExp } from "./log-files.ts";
import { formatEventTime } from "./records/text.ts";

export const DIGEST_SIGNATURE_ALGORITHM = "SHA256withRSA";
export const DIGEST_HASH_ALGORITHM = "SHA-256";

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

export interface DigestKeyParts {
  /** The trail's S3KeyPrefix; absent or "" for none. Joined with one literal "/", never normalised. */
  prefix?: string;
  accountId: string;
  /** Region whose log files the digest covers. */
  region: string;
  trailName: string;
  homeRegion: string;
  /** digestEndTime: the folders and the seconds stamp. */
  endTime: Date;
}

/**
 * `[prefix/]AWSLogs/<acct>/CloudTrail-Digest/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDD>T<HHMMSS>Z.json.gz`.
 * The AWS CLI reads the stamp back as characters [-24:-8] of the key, so its width is fixed.
 */
export function digestKey(p: DigestKeyParts): string {
  const d = p.endTime;
  const yyyy = pad(d.getUTCFullYear(), 4);
  const mm = pad(d.getUTCMonth() + 1, 2);
  const dd = pad(d.getUTCDate(), 2);
  const time = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`;
  const head = p.prefix ? `${p.prefix}/` : "";
  const name = `${p.accountId}_CloudTrail-Digest_${p.region}_${p.trailName}_${p.homeRegion}_${yyyy}${mm}${dd}T${time}Z`;
  return `${head}AWSLogs/${p.accountId}/CloudTrail-Digest/${p.region}/${yyyy}/${mm}/${dd}/${name}.json.gz`;
}

/** Where a region's digests of one account lie: `[prefix/]AWSLogs/<acct>/CloudTrail-Digest/<region>`, no "/" after it. */
export function digestFolder(p: Pick<DigestKeyParts, "prefix" | "accountId" | "region">): string {
  const head = p.prefix ? `${p.prefix}/` : "";
  return `${head}AWSLogs/${p.accountId}/CloudTrail-Digest/${p.region}`;
}

/** Whether a key is one of `digestKey`'s for these parts, whatever its end time (and any suffix before `.json.gz`). */
export function digestKeyMatcher(p: Omit<DigestKeyParts, "endTime">): (key: string) => boolean {
  const e = escapeRegExp;
  const pattern = new RegExp(
    `^${e(p.prefix ? `${p.prefix}/` : "")}AWSLogs/${e(p.accountId)}/CloudTrail-Digest/${e(p.region)}/\\d+/\\d+/\\d+/` +
      `${e(p.accountId)}_CloudTrail-Digest_${e(p.region)}_${e(p.trailName)}_${e(p.homeRegion)}_.+\\.json\\.gz$`,
  );
  return (key) => pattern.test(key);
}

/** Backfill digests are AWS's own: a later pass fills in hours the chain missed. */
export function isBackfillDigestKey(key: string): boolean {
  return key.endsWith("_backfill.json.gz");
}

/**
 * The S3KeyPrefix a digest key was written under, as `digestKey` takes it: the text before
 * `AWSLogs/` without its joining "/".
 */
export function digestKeyPrefix(key: string): string | undefined {
  const head = key.slice(0, key.indexOf("AWSLogs/"));
  return head === "" ? undefined : head.slice(0, -1);
}

/** `20150108T052142Z`: the stamp of a digest key for its end time, compared as text like the AWS CLI does. */
export function digestStamp(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`.replace(/[-:]/g, "");
}

/** The stamp a digest key ends with (`…_<stamp>.json.gz`), as characters [-24:-8] of the key. */
export function digestKeyStamp(key: string): string {
  return key.slice(-24, -8);
}

/** A digest key's stamp as a time; undefined when the text is not one. */
export function parseDigestStamp(stamp: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?Z$/.exec(stamp);
  if (!m) return undefined;
  const t = Date.UTC(
    Number(m[1]),
    Number(m[2]) - 1,
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? 0),
  );
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** A log file a digest lists. `DeliveredFile` of the delivery store has this shape. */
export interface DigestLogFile {
  bucket: string;
  key: string;
  /** Lowercase hex SHA-256 of the uncompressed body. */
  sha256: string;
  oldestEventTime: Date;
  newestEventTime: Date;
}

/** The digest before this one in the chain. */
export interface PreviousDigest {
  bucket: string;
  key: string;
  /** Lowercase hex SHA-256 of its uncompressed bytes. */
  sha256: string;
  /** Lowercase hex signature (its `x-amz-meta-signature`). */
  signature: string;
}

export interface DigestFields {
  accountId: string;
  startTime: Date;
  endTime: Date;
  /** Where this digest is written; `key` is normally `digestKey(...)`. */
  bucket: string;
  key: string;
  /** Of the key that will sign it. */
  fingerprint: string;
  /** null for a starting digest. */
  previous: PreviousDigest | null;
  /** In delivery order; [] for an hour without log files. */
  logFiles: readonly DigestLogFile[];
}

export interface BuiltDigest {
  json: string;
  /** The UTF-8 bytes of `json`: what is hashed, signed and gzipped. */
  bytes: Buffer;
  sha256Hex: string;
}

function extremeTimes(files: readonly DigestLogFile[]): { oldest: string | null; newest: string | null } {
  if (files.length === 0) return { oldest: null, newest: null };
  let oldest = files[0]!.oldestEventTime.getTime();
  let newest = files[0]!.newestEventTime.getTime();
  for (const f of files) {
    oldest = Math.min(oldest, f.oldestEventTime.getTime());
    newest = Math.max(newest, f.newestEventTime.getTime());
  }
  return { oldest: formatEventTime(new Date(oldest)), newest: formatEventTime(new Date(newest)) };
}

const LOWER_HEX = (length: number) => new RegExp(`^[0-9a-f]{${length}}$`);
const SHA256_HEX = LOWER_HEX(64);
const MD5_HEX = LOWER_HEX(32);

/**
 * Mistakes a validator would only report later as a bad digest: the AWS CLI compares hashes as
 * strings (an upper-case hash never matches) and reads the chain back from these members.
 */
function checkFields(f: DigestFields): void {
  const bad = (what: string) => new Error(`buildDigest: ${what}`);
  if (!(f.startTime.getTime() <= f.endTime.getTime())) throw bad("startTime is after endTime");
  if (!MD5_HEX.test(f.fingerprint)) throw bad("fingerprint is not 32 lowercase hex digits");
  if (f.previous && !SHA256_HEX.test(f.previous.sha256)) throw bad("previous.sha256 is not lowercase hex");
  if (f.previous && !/^(?:[0-9a-f]{2})+$/.test(f.previous.signature)) {
    throw bad("previous.signature is not lowercase hex");
  }
  for (const l of f.logFiles) {
    if (!SHA256_HEX.test(l.sha256)) throw bad(`hash of ${l.key} is not lowercase hex`);
  }
}

/**
 * The digest body. Members appear in the order AWS writes them and every `previous*` member is
 * present (null in a starting digest): the AWS CLI calls a digest without `previousDigestSignature`
 * malformed.
 */
export function buildDigest(f: DigestFields): BuiltDigest {
  checkFields(f);
  const { oldest, newest } = extremeTimes(f.logFiles);
  const p = f.previous;
  const doc = {
    awsAccountId: f.accountId,
    digestStartTime: formatEventTime(f.startTime),
    digestEndTime: formatEventTime(f.endTime),
    digestS3Bucket: f.bucket,
    digestS3Object: f.key,
    digestPublicKeyFingerprint: f.fingerprint,
    digestSignatureAlgorithm: DIGEST_SIGNATURE_ALGORITHM,
    newestEventTime: newest,
    oldestEventTime: oldest,
    previousDigestS3Bucket: p ? p.bucket : null,
    previousDigestS3Object: p ? p.key : null,
    previousDigestHashValue: p ? p.sha256 : null,
    previousDigestHashAlgorithm: p ? DIGEST_HASH_ALGORITHM : null,
    previousDigestSignature: p ? p.signature : null,
    logFiles: f.logFiles.map((l) => ({
      s3Bucket: l.bucket,
      s3Object: l.key,
      hashValue: l.sha256,
      hashAlgorithm: DIGEST_HASH_ALGORITHM,
      newestEventTime: formatEventTime(l.newestEventTime),
      oldestEventTime: formatEventTime(l.oldestEventTime),
    })),
  };
  const json = JSON.stringify(doc);
  const bytes = Buffer.from(json, "utf8");
  return { json, bytes, sha256Hex: createHash("sha256").update(bytes).digest("hex") };
}

/**
 * The text a digest's signature covers: four lines joined by LF, no trailing LF. A validator passes
 * `digestEndTime` as the text read from the digest; a writer may pass the Date.
 */
export function signingString(
  digestEndTime: Date | string,
  bucket: string,
  key: string,
  sha256Hex: string,
  previousSignature: string | null,
): string {
  const end = typeof digestEndTime === "string" ? digestEndTime : formatEventTime(digestEndTime);
  return `${end}\n${bucket}/${key}\n${sha256Hex}\n${previousSignature ?? "null"}`;
}

/** RSASSA-PKCS1-v1_5 with SHA-256 over the UTF-8 bytes of `data`; lowercase hex. */
export function signDigest(privateKeyPem: string | KeyObject, data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return sign("sha256", bytes, privateKeyPem).toString("hex");
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Checks a signature against a DER PKCS#1 public key (ListPublicKeys `Value`). A signature that is
 * not whole hex bytes is false rather than decoded in part (Buffer.from would drop a trailing odd
 * digit). A key that cannot be loaded throws: that is a different verdict from a bad signature.
 */
export function verifyDigest(
  publicKeyDer: Uint8Array,
  data: string | Uint8Array,
  signatureHex: string,
): boolean {
  const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: "der", type: "pkcs1" });
  if (!HEX.test(signatureHex)) return false;
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return verify("sha256", bytes, key, Buffer.from(signatureHex, "hex"));
}

/**
 * DER of the PKCS#1 RSAPublicKey (`30 82 01 0a …` for 2048 bits), not SubjectPublicKeyInfo: the AWS
 * CLI loads ListPublicKeys values with a PKCS#1-only loader.
 */
export function publicKeyDer(privateKey: string | KeyObject): Buffer {
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  return createPublicKey(key).export({ type: "pkcs1", format: "der" });
}

/** Lowercase hex MD5 of the DER bytes, as ListPublicKeys and digests name a key. */
export function fingerprint(der: Uint8Array): string {
  return createHash("md5").update(der).digest("hex");
}
