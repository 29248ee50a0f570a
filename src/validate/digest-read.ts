import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gunzip as gunzipCallback } from "node:zlib";
import { signingString, verifyDigest } from "../domain/digest.ts";
import type { ObjectReader } from "../ports/index.ts";

const gunzip = promisify(gunzipCallback);

/** A digest's JSON as read: only what the checks touch is typed, and nothing is trusted. */
export interface DigestDoc {
  digestStartTime: unknown;
  digestEndTime: unknown;
  digestS3Bucket: unknown;
  digestS3Object: unknown;
  digestPublicKeyFingerprint: unknown;
  previousDigestSignature: unknown;
  previousDigestS3Bucket?: unknown;
  previousDigestS3Object?: unknown;
  previousDigestHashValue?: unknown;
  logFiles?: unknown;
}

export interface LogFileEntry {
  s3Bucket: string;
  s3Object: string;
  hashValue: unknown;
}

/** What reading one digest found. `sha256` and `signature` are there whenever the bytes could be read. */
export type DigestRead =
  | { kind: "missing" }
  | { kind: "invalid"; message: string; sha256?: string; signature?: string }
  | {
      kind: "valid";
      doc: DigestDoc;
      start: Date;
      end: Date;
      logFiles: LogFileEntry[];
      sha256: string;
      signature: string;
    };

const REQUIRED = [
  "digestPublicKeyFingerprint",
  "digestS3Bucket",
  "digestS3Object",
  "previousDigestSignature",
  "digestEndTime",
  "digestStartTime",
] as const;

/** Public keys of the range, by fingerprint: the DER of ListPublicKeys `Value`. */
export type PublicKeys = ReadonlyMap<string, Uint8Array>;

function parseDocTime(v: unknown): Date | undefined {
  if (typeof v !== "string") return undefined;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? undefined : t;
}

/** Python's str() of a JSON value, which is what the AWS CLI puts into the signing string. */
function pyText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function logFilesOf(doc: DigestDoc): LogFileEntry[] | undefined {
  if (!Array.isArray(doc.logFiles)) return undefined;
  const files: LogFileEntry[] = [];
  for (const f of doc.logFiles as unknown[]) {
    if (typeof f !== "object" || f === null) return undefined;
    const { s3Bucket, s3Object, hashValue } = f as Record<string, unknown>;
    if (typeof s3Bucket !== "string" || typeof s3Object !== "string") return undefined;
    files.push({ s3Bucket, s3Object, hashValue });
  }
  return files;
}

/**
 * Reads and checks one digest in the AWS CLI's order: gzip and JSON, the signature metadata, the
 * required members, the location, the key, the signature. Store failures other than a missing key
 * are thrown: the AWS CLI stops on them too.
 */
export async function readDigest(
  reader: ObjectReader,
  keys: PublicKeys,
  homeRegion: string,
  bucket: string,
  key: string,
): Promise<DigestRead> {
  const got = await reader.getObject(bucket, key);
  if (!got) return { kind: "missing" };
  const where = `Digest file\ts3://${bucket}/${key}\tINVALID:`;
  let bytes: Buffer;
  let doc: DigestDoc;
  try {
    bytes = await gunzip(got.body);
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as DigestDoc;
  } catch {
    return { kind: "invalid", message: `${where} invalid format` };
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const signature = got.metadata.signature;
  const seen = { sha256, ...(signature === undefined ? {} : { signature }) };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    return { kind: "invalid", message: `${where} invalid format`, ...seen };
  }
  if (signature === undefined || got.metadata["signature-algorithm"] === undefined) {
    return { kind: "invalid", message: `${where} signature verification failed`, ...seen };
  }
  if (REQUIRED.some((m) => !(m in doc)))
    return { kind: "invalid", message: `${where} invalid format`, ...seen };
  if (doc.digestS3Bucket !== bucket || doc.digestS3Object !== key) {
    return { kind: "invalid", message: `${where} has been moved from its original location`, ...seen };
  }
  const fp = pyText(doc.digestPublicKeyFingerprint);
  const der = keys.get(fp);
  if (!der) {
    return {
      kind: "invalid",
      message: `${where} public key not found in region ${homeRegion} for fingerprint ${fp}`,
      ...seen,
    };
  }
  const previous = doc.previousDigestSignature === null ? null : pyText(doc.previousDigestSignature);
  const toSign = signingString(pyText(doc.digestEndTime), bucket, key, sha256, previous);
  let verified: boolean;
  try {
    verified = verifyDigest(der, toSign, signature);
  } catch {
    return {
      kind: "invalid",
      message: `${where} Unable to load PKCS #1 key with fingerprint ${fp}`,
      ...seen,
    };
  }
  if (!verified) return { kind: "invalid", message: `${where} signature verification failed`, ...seen };
  const start = parseDocTime(doc.digestStartTime);
  const end = parseDocTime(doc.digestEndTime);
  const logFiles = logFilesOf(doc);
  // signed, yet unusable: the AWS CLI fails on such a digest as well
  if (!start || !end || !logFiles) return { kind: "invalid", message: `${where} invalid format`, ...seen };
  return { kind: "valid", doc, start, end, logFiles, sha256, signature };
}
