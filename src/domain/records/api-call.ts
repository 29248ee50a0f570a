import type { Ids, Principal } from "../../api/context.ts";
import { type OperationName, READ_ONLY_OPERATIONS } from "../../api/operations.ts";
import type { StoredEvent } from "../events.ts";
import { formatEventTime, isJsonObject, type JsonObject, truncateUtf8, utf8Length } from "./text.ts";

/**
 * The CloudTrail record of one call to this service's own API (log-files.md §3). Fields appear
 * in the order AWS writes them.
 */

export const RECORD_EVENT_VERSION = "1.08";
export const OWN_EVENT_SOURCE = "cloudtrail.amazonaws.com";
export const TRAIL_RESOURCE_TYPE = "AWS::CloudTrail::Trail";

/** userAgent, errorCode, errorMessage and requestID are cut to this many bytes. */
export const TEXT_FIELD_MAX_BYTES = 1024;
/** requestParameters and responseElements larger than this (serialized) are left out. */
export const PAYLOAD_FIELD_MAX_BYTES = 100 * 1024;

/**
 * What a record needs from the request context. The service's RequestContext has all of it; the
 * domain names only these members because it may not import the service layer.
 */
export interface RecordContext {
  accountId: string;
  region: string;
  principal: Principal;
  requestId: string;
  ids: Ids;
}

export interface ApiCall {
  operation: OperationName;
  /** The request as received; `object` so that the SDK's request interfaces are accepted as they are. */
  input: object;
  output?: unknown;
  error?: { code: string; message: string };
  ctx: RecordContext;
  sourceIPAddress: string;
  userAgent?: string;
  tls?: { version: string; cipher: string; host?: string };
  eventTime: Date;
}

/** Event-history resources: records of this service's calls list none, event history does. */
export type ResourceHint = StoredEvent["resources"];

/** Mutating operations whose response CloudTrail copies into responseElements. */
const RESPONSE_RECORDED: ReadonlySet<OperationName> = new Set([
  "CreateTrail",
  "UpdateTrail",
  "PutEventSelectors",
  "PutInsightSelectors",
]);

export function buildApiCallRecord(call: ApiCall): {
  record: Record<string, unknown>;
  resources: ResourceHint;
} {
  const { ctx, operation } = call;
  const record: Record<string, unknown> = {
    eventVersion: RECORD_EVENT_VERSION,
    userIdentity: callerIdentity(ctx.principal),
    eventTime: formatEventTime(call.eventTime),
    eventSource: OWN_EVENT_SOURCE,
    eventName: operation,
    awsRegion: ctx.region,
    sourceIPAddress: call.sourceIPAddress,
  };
  if (call.userAgent !== undefined) record.userAgent = truncateUtf8(call.userAgent, TEXT_FIELD_MAX_BYTES);
  if (call.error !== undefined) {
    record.errorCode = truncateUtf8(call.error.code, TEXT_FIELD_MAX_BYTES);
    record.errorMessage = truncateUtf8(call.error.message, TEXT_FIELD_MAX_BYTES);
  }
  record.requestParameters = payloadField(call.input);
  record.responseElements =
    call.error === undefined && RESPONSE_RECORDED.has(operation) ? payloadField(call.output) : null;
  record.requestID = truncateUtf8(ctx.requestId, TEXT_FIELD_MAX_BYTES);
  record.eventID = ctx.ids.uuid();
  record.readOnly = READ_ONLY_OPERATIONS.has(operation);
  record.eventType = "AwsApiCall";
  record.managementEvent = true;
  record.recipientAccountId = ctx.accountId;
  record.eventCategory = "Management";
  if (call.tls !== undefined) {
    const tlsDetails: JsonObject = { tlsVersion: call.tls.version, cipherSuite: call.tls.cipher };
    if (call.tls.host !== undefined) tlsDetails.clientProvidedHostHeader = call.tls.host;
    record.tlsDetails = tlsDetails;
  }
  return { record, resources: trailsReferenced(operation, call.input) };
}

/**
 * The principal's userIdentity template with the key of this request. A template without an
 * accessKeyId gets it right after accountId, where AWS writes it.
 */
function callerIdentity(principal: Principal): JsonObject {
  const template = structuredClone(principal.identity);
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

/**
 * requestParameters / responseElements: the members in record spelling, null when there are
 * none. AWS documents that a field over its maximum size is cut and marked with `omitted: true`;
 * a JSON structure cannot be cut in a way a reader could trust, so the whole value is replaced
 * by that marker.
 */
function payloadField(value: unknown): JsonObject | null {
  if (!isJsonObject(value)) return null;
  const members = toRecordMembers(value) as JsonObject;
  if (Object.keys(members).length === 0) return null;
  if (utf8Length(JSON.stringify(members)) > PAYLOAD_FIELD_MAX_BYTES) return { omitted: true };
  return members;
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

/** Where each operation names trails: one name or ARN, or a list of them. */
const TRAIL_MEMBERS: Partial<Record<OperationName, string>> = {
  CreateTrail: "Name",
  UpdateTrail: "Name",
  DeleteTrail: "Name",
  GetTrail: "Name",
  GetTrailStatus: "Name",
  StartLogging: "Name",
  StopLogging: "Name",
  GetEventSelectors: "TrailName",
  PutEventSelectors: "TrailName",
  GetInsightSelectors: "TrailName",
  PutInsightSelectors: "TrailName",
  DescribeTrails: "trailNameList",
  AddTags: "ResourceId",
  RemoveTags: "ResourceId",
  ListTags: "ResourceIdList",
};

/** Tag operations also take ARNs of CloudTrail Lake resources, which are not trails. */
const TAG_OPERATIONS: ReadonlySet<OperationName> = new Set(["AddTags", "RemoveTags", "ListTags"]);
const TRAIL_ARN = /^arn:[^:]+:cloudtrail:[^:]*:[^:]*:trail\/./;

/** One AWS::CloudTrail::Trail resource per distinct trail the request names, as it names it. */
function trailsReferenced(operation: OperationName, input: object): ResourceHint {
  const member = TRAIL_MEMBERS[operation];
  if (member === undefined) return [];
  const given = (input as Record<string, unknown>)[member];
  const names = (Array.isArray(given) ? given : [given]).filter(
    (v): v is string => typeof v === "string" && v !== "",
  );
  const trails = TAG_OPERATIONS.has(operation) ? names.filter((v) => TRAIL_ARN.test(v)) : names;
  return [...new Set(trails)].map((name) => ({ type: TRAIL_RESOURCE_TYPE, name }));
}
