import type { RecordResource } from "../domain/records/api-call.ts";
import type { JsonObject } from "../domain/records/text.ts";
import type { ProxiedRequest, UpstreamAnswer } from "./call.ts";
import { memberList, memberOf, shapeOf, structureMembers } from "./models.ts";
import type { Placement } from "./place.ts";
import { lowerFirst } from "./record-members.ts";
import { SERVICE_RULES } from "./rules.ts";
import { parseXml } from "./wire-members.ts";

/**
 * S3's own rendering (recording-other-services.md §2.6, §2.11, §2.12): requestParameters name the
 * bucket, the Host, the key, every query parameter and the modeled headers as sent; resources
 * list the object and its bucket; additionalEventData says how the call was signed and how many
 * bytes moved.
 */

/** Query parameters a presigned URL carries that records leave out (the credential and signature). */
const PRESIGN_SECRETS = new Set(["X-Amz-Credential", "X-Amz-Signature", "X-Amz-Security-Token"]);

/** Modeled request headers S3 records leave out: framing and integrity, not the call. */
const UNLOGGED_HEADER =
  /^(content-length|content-md5|expect|x-amz-checksum-|x-amz-sdk-checksum-algorithm|x-amz-content-sha256|x-amz-decoded-content-length)/i;

/** Answer headers that are transport, not the call's result. */
const UNLOGGED_ANSWER_HEADER =
  /^(content-|etag$|last-modified$|accept-ranges$|location$|x-amz-checksum-|x-amz-request-id$|x-amz-id-2$)/i;

/** S3 calls whose XML answer members are logged (the upload's id); other answers give headers only. */
const BODY_LOGGED = new Set(["CreateMultipartUpload"]);

/** S3 calls whose XML body is not logged (object data events, DeleteObjects' keys). */
const BODY_NOT_LOGGED = new Set([
  "DeleteObjects",
  "CompleteMultipartUpload",
  "RestoreObject",
  "SelectObjectContent",
]);

export function s3RequestParameters(p: Placement, req: ProxiedRequest): JsonObject | null {
  const out: JsonObject = {};
  const bucket = p.labels.Bucket;
  if (bucket !== undefined) out.bucketName = bucket;
  if (req.headers.host !== undefined) out.Host = req.headers.host;
  if (p.labels.Key !== undefined) out.key = p.labels.Key;
  for (const [k, v] of new URLSearchParams(req.query)) {
    if (!PRESIGN_SECRETS.has(k) && !(k in out)) out[k] = v;
  }
  const svc = p.model!;
  const input = p.op?.i;
  if (input !== undefined) {
    const shape = shapeOf(svc, input);
    for (const [name, member] of memberList(shape)) {
      if (member.l === "header") {
        const header = member.n ?? name;
        const value = req.headers[header.toLowerCase()];
        if (value !== undefined && !UNLOGGED_HEADER.test(header) && shapeOf(svc, member.s).S !== 1)
          out[header] = value;
      }
    }
    const payload = shape.p === undefined ? undefined : structureMembers(shape)[shape.p];
    const op = p.operation ?? "";
    if (payload !== undefined && !BODY_NOT_LOGGED.has(op) && shapeOf(svc, memberOf(payload).s).T === "S") {
      const body = req.body === undefined ? "" : new TextDecoder().decode(req.body);
      if (body.trimStart().startsWith("<")) {
        const doc = parseXml(body);
        for (const [k, v] of Object.entries(doc)) if (!k.startsWith("?")) out[k] = xmlAsRecord(v);
      }
    }
  }
  return Object.keys(out).length === 0 ? null : out;
}

/** An XML element as S3 records show it: element names as sent, attributes (xmlns) as keys. */
function xmlAsRecord(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(xmlAsRecord);
  if (node === null || typeof node !== "object") return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k.startsWith("@") ? k.slice(1) : k] = xmlAsRecord(v);
  return out;
}

export function s3ResponseElements(p: Placement, answer: UpstreamAnswer): JsonObject | null {
  const svc = p.model!;
  const output = p.op?.o;
  if (output === undefined) return null;
  const out: JsonObject = {};
  const shape = shapeOf(svc, output);
  for (const [name, member] of memberList(shape)) {
    if (member.l !== "header") continue;
    const header = member.n ?? name;
    const value = answer.headers[header.toLowerCase()];
    if (value !== undefined && !UNLOGGED_ANSWER_HEADER.test(header)) out[header] = value;
  }
  const body = answer.body === undefined ? "" : new TextDecoder().decode(answer.body);
  if (body.trimStart().startsWith("<") && BODY_LOGGED.has(p.operation ?? "")) {
    const doc = parseXml(body);
    const root = Object.entries(doc).find(([k]) => !k.startsWith("?"))?.[1];
    if (root !== null && typeof root === "object") {
      for (const [k, v] of Object.entries(root as Record<string, unknown>)) {
        if (!k.startsWith("@")) out[lowerFirst(k)] = xmlAsRecord(v);
      }
    }
  }
  return Object.keys(out).length === 0 ? null : out;
}

type S3Resource = RecordResource & { ARNPrefix?: string };

export function s3Resources(
  p: Placement,
  operation: string,
  account: string | undefined,
  query: string,
): RecordResource[] | undefined {
  const bucket = p.labels.Bucket;
  if (bucket === undefined) return undefined;
  const bucketEntry: S3Resource = {};
  if (account !== undefined) bucketEntry.accountId = account;
  bucketEntry.type = "AWS::S3::Bucket";
  bucketEntry.ARN = `arn:aws:s3:::${bucket}`;
  const kind = SERVICE_RULES.s3?.dataEvents?.[operation];
  const key = p.labels.Key;
  if (kind === "s3Object" && key !== undefined && operation !== "DeleteObjects") {
    return [{ type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${key}` }, bucketEntry];
  }
  if (kind !== undefined) {
    const prefix = kind === "s3Bucket" ? (new URLSearchParams(query).get("prefix") ?? "") : "";
    const objects: S3Resource = { type: "AWS::S3::Object", ARNPrefix: `arn:aws:s3:::${bucket}/${prefix}` };
    return [objects, bucketEntry];
  }
  return [bucketEntry];
}

export function s3AdditionalEventData(req: ProxiedRequest, answer: UpstreamAnswer): JsonObject {
  const auth = req.headers.authorization ?? "";
  const presigned = /(^|&)X-Amz-Signature=/.test(req.query) || /(^|&)Signature=/.test(req.query);
  const signed = auth !== "" || presigned;
  const out: JsonObject = {};
  // Anonymous requests are logged without the signature fields.
  if (signed) {
    out.SignatureVersion =
      auth.startsWith("AWS ") || /(^|&)AWSAccessKeyId=/.test(req.query) ? "SigV2" : "SigV4";
  }
  const bytesIn = Number(req.headers["x-amz-decoded-content-length"] ?? req.headers["content-length"] ?? 0);
  out.bytesTransferredIn = Number.isFinite(bytesIn) ? bytesIn : 0;
  if (signed) out.AuthenticationMethod = presigned ? "QueryString" : "AuthHeader";
  const id2 = answer.headers["x-amz-id-2"];
  if (id2 !== undefined) out["x-amz-id-2"] = id2;
  const bytesOut = Number(answer.headers["content-length"] ?? answer.body?.length ?? 0);
  out.bytesTransferredOut = Number.isFinite(bytesOut) ? bytesOut : 0;
  return out;
}
