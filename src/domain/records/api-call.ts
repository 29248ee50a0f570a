import type { CallerFacts, Ids, Principal } from "../../api/context.ts";
import type { StoredEvent } from "../events.ts";
import {
  formatEventTime,
  isJsonObject,
  type JsonObject,
  MAX_RECORD_DEPTH,
  nestedDeeperThan,
  truncateUtf8,
  utf8Length,
} from "./text.ts";

/**
 * The CloudTrail record of one API call to any AWS service (log-files.md §1): the caller says
 * what was called and how it ended, this builds the record with fields in the order AWS writes
 * them and applies the record's size rules. CloudTrail's own calls are one user of it
 * (service/own-calls.ts), the recording proxy another.
 */

export const RECORD_EVENT_VERSION = "1.08";

/** userAgent, errorCode, errorMessage and requestID are cut to this many bytes. */
export const TEXT_FIELD_MAX_BYTES = 1024;
/** requestParameters and responseElements larger than this (serialized) are left out. */
export const PAYLOAD_FIELD_MAX_BYTES = 100 * 1024;
/** additionalEventData larger than this (serialized) is left out. */
export const ADDITIONAL_DATA_MAX_BYTES = 28 * 1024;

/**
 * What a record needs from the request context. The service's RequestContext has all of it; the
 * record model names only these members.
 */
export interface RecordContext {
  accountId: string;
  region: string;
  principal: Principal;
  requestId: string;
  ids: Ids;
}

/** A resource as the record's `resources` field lists it. */
export interface RecordResource {
  ARN?: string;
  accountId?: string;
  type?: string;
}

/** Event-history resources (LookupEvents' ResourceType / ResourceName). */
export type ResourceHint = StoredEvent["resources"];

/** Everything about one finished call that its record says; the builder adds nothing it is not told. */
export interface CallFacts {
  /** e.g. "cloudtrail.amazonaws.com", "s3.amazonaws.com". */
  eventSource: string;
  eventName: string;
  readOnly: boolean;
  /** Data events are `managementEvent: false` with eventCategory "Data"; default management. */
  category?: "Management" | "Data";
  /** Default "AwsApiCall". */
  eventType?: string;
  /** Rendered request members (record spelling); null or an empty object for none. */
  requestParameters: JsonObject | null;
  /** Rendered response members for calls whose answer CloudTrail keeps; null otherwise. */
  responseElements: JsonObject | null;
  additionalEventData?: JsonObject;
  /** The record's `resources` field; left out when undefined. */
  resources?: RecordResource[];
  /** What event history lists as the call's resources; from `resources` when undefined. */
  historyResources?: ResourceHint;
  /** The record's awsRegion when it is not the request's region (global services: us-east-1). */
  awsRegion?: string;
  apiVersion?: string;
  error?: { code: string; message: string };
  ctx: RecordContext;
  caller: CallerFacts;
  eventTime: Date;
}

export function buildCallRecord(call: CallFacts): {
  record: Record<string, unknown>;
  resources: ResourceHint;
} {
  const { ctx, caller } = call;
  const record: Record<string, unknown> = {
    eventVersion: RECORD_EVENT_VERSION,
    userIdentity: callerIdentity(ctx.principal),
    eventTime: formatEventTime(call.eventTime),
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: call.awsRegion ?? ctx.region,
    sourceIPAddress: caller.sourceIPAddress,
  };
  if (caller.userAgent !== undefined) record.userAgent = truncateUtf8(caller.userAgent, TEXT_FIELD_MAX_BYTES);
  if (call.error !== undefined) {
    record.errorCode = truncateUtf8(call.error.code, TEXT_FIELD_MAX_BYTES);
    record.errorMessage = truncateUtf8(call.error.message, TEXT_FIELD_MAX_BYTES);
  }
  record.requestParameters = payloadField(call.requestParameters, PAYLOAD_FIELD_MAX_BYTES);
  record.responseElements =
    call.error === undefined ? payloadField(call.responseElements, PAYLOAD_FIELD_MAX_BYTES) : null;
  if (call.additionalEventData !== undefined) {
    record.additionalEventData = payloadField(call.additionalEventData, ADDITIONAL_DATA_MAX_BYTES);
  }
  record.requestID = truncateUtf8(ctx.requestId, TEXT_FIELD_MAX_BYTES);
  record.eventID = ctx.ids.uuid();
  record.readOnly = call.readOnly;
  if (call.resources !== undefined) record.resources = call.resources;
  record.eventType = call.eventType ?? "AwsApiCall";
  if (call.apiVersion !== undefined) record.apiVersion = call.apiVersion;
  const category = call.category ?? "Management";
  record.managementEvent = category === "Management";
  record.recipientAccountId = ctx.accountId;
  record.eventCategory = category;
  if (caller.tls !== undefined) {
    const tlsDetails: JsonObject = { tlsVersion: caller.tls.version, cipherSuite: caller.tls.cipher };
    if (caller.tls.host !== undefined) tlsDetails.clientProvidedHostHeader = caller.tls.host;
    record.tlsDetails = tlsDetails;
  }
  if (caller.fromConsole === true) record.sessionCredentialFromConsole = "true";
  const resources = call.historyResources ?? (call.resources ?? []).map(historyResource);
  return { record, resources };
}

function historyResource(r: RecordResource): ResourceHint[number] {
  const hint: ResourceHint[number] = {};
  if (r.type !== undefined) hint.type = r.type;
  if (r.ARN !== undefined) hint.name = r.ARN;
  return hint;
}

/**
 * The principal's userIdentity template with the key of this request. A template without an
 * accessKeyId gets it right after accountId, where AWS writes it; an anonymous principal (key "")
 * gets none.
 */
function callerIdentity(principal: Principal): JsonObject {
  const template = structuredClone(principal.identity);
  // an unsigned (anonymous) call has no key
  if (principal.accessKeyId === "") return template as JsonObject;
  if (Object.hasOwn(template, "accessKeyId") || !Object.hasOwn(template, "accountId")) {
    return { ...template, accessKeyId: principal.accessKeyId };
  }
  const identity: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    identity[key] = value;
    if (key === "accountId") identity.accessKeyId = principal.accessKeyId;
  }
  return identity;
}

/** requestParameters, responseElements and additionalEventData sit one level inside the record. */
const PAYLOAD_MAX_DEPTH = MAX_RECORD_DEPTH - 1;

/**
 * requestParameters / responseElements: null when there are no members. AWS documents that a
 * field over its maximum size is cut and marked with `omitted: true`; a JSON structure cannot be
 * cut in a way a reader could trust, so the whole value is replaced by that marker. A value nested
 * deeper than a record may be is marked the same way.
 */
function payloadField(members: JsonObject | null, maxBytes: number): JsonObject | null {
  if (members === null || Object.keys(members).length === 0) return null;
  if (nestedDeeperThan(members, PAYLOAD_MAX_DEPTH)) return { omitted: true };
  if (utf8Length(JSON.stringify(members)) > maxBytes) return { omitted: true };
  return members;
}

/**
 * Wire members as a record field: in record spelling (toRecordMembers), null for anything but an
 * object, and the omitted marker for members nested deeper than a record may be, which are not
 * walked at all.
 */
export function recordPayload(value: unknown): JsonObject | null {
  if (!isJsonObject(value)) return null;
  if (nestedDeeperThan(value, PAYLOAD_MAX_DEPTH)) return { omitted: true };
  return toRecordMembers(value) as JsonObject;
}

/**
 * Wire members in record spelling: the first letter of every member name lower-cased, at every
 * depth (`S3BucketName` → `s3BucketName`, `TrailARN` → `trailARN`); timestamps as ISO-8601
 * text. Members left undefined were not sent and are left out, as are SDK metadata (`$metadata`).
 */
export function toRecordMembers(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toRecordMembers(item)));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined || key.startsWith("$")) continue;
    out[key.charAt(0).toLowerCase() + key.slice(1)] = toRecordMembers(member);
  }
  return out;
}
