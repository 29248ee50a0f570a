import type { PutOptions, StoredObject } from "../../ports/index.ts";

/**
 * The sidecar `<object>.metadata.json` is one flat JSON object: the user metadata under its
 * lower-case names (`{"signature":"…","signature-algorithm":"SHA256withRSA"}` for a digest), and
 * the content and encryption headers under their capitalised HTTP names. User metadata names are
 * lower-cased on the way in, so the two can never meet.
 */
const CONTENT_TYPE = "Content-Type";
const CONTENT_ENCODING = "Content-Encoding";
const SSE = "X-Amz-Server-Side-Encryption";
const SSE_KMS_KEY_ID = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id";
const HEADERS: ReadonlySet<string> = new Set([CONTENT_TYPE, CONTENT_ENCODING, SSE, SSE_KMS_KEY_ID]);

export function sidecarJson(opts: PutOptions): Buffer {
  const doc: Record<string, string> = {};
  for (const [name, value] of Object.entries(opts.metadata ?? {})) doc[name.toLowerCase()] = value;
  if (opts.contentType !== undefined) doc[CONTENT_TYPE] = opts.contentType;
  if (opts.contentEncoding !== undefined) doc[CONTENT_ENCODING] = opts.contentEncoding;
  if (opts.kmsKeyId !== undefined) {
    doc[SSE] = "aws:kms";
    doc[SSE_KMS_KEY_ID] = opts.kmsKeyId;
  }
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`);
}

/**
 * What a sidecar says; a missing or unreadable one (edited by hand, say) says nothing, so the object
 * reads as one without metadata, as a tampered digest should.
 */
export function readSidecar(text: string | undefined): Omit<StoredObject, "body"> {
  const read: Omit<StoredObject, "body"> = { metadata: {} };
  let doc: unknown;
  try {
    doc = text === undefined ? undefined : JSON.parse(text);
  } catch {
    return read;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return read;
  for (const [name, value] of Object.entries(doc)) {
    if (typeof value !== "string") continue;
    if (name === CONTENT_TYPE) read.contentType = value;
    else if (name === CONTENT_ENCODING) read.contentEncoding = value;
    else if (!HEADERS.has(name)) read.metadata[name.toLowerCase()] = value;
  }
  return read;
}
