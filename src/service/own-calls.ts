import type { CallerFacts } from "../api/context.ts";
import { type OperationName, READ_ONLY_OPERATIONS } from "../api/operations.ts";
import type { FinishedCall } from "../api/service.ts";
import {
  buildCallRecord,
  type CallFacts,
  type RecordContext,
  type ResourceHint,
  recordPayload,
} from "../domain/records/api-call.ts";
import type { CallToRecord } from "../recording/recorder.ts";

/**
 * CloudTrail's own calls as the recorder sees them: which of its operations are read-only, whose
 * answers the record keeps, and which trails a call names (log-files.md §3).
 */

export const OWN_EVENT_SOURCE = "cloudtrail.amazonaws.com";
export const TRAIL_RESOURCE_TYPE = "AWS::CloudTrail::Trail";

/** A call of this service's own API with the facts of its caller, at a time. */
export interface ApiCall extends CallerFacts {
  operation: OperationName;
  input: object;
  output?: unknown;
  error?: { code: string; message: string };
  ctx: RecordContext;
  eventTime: Date;
}

/** Mutating operations whose response CloudTrail copies into responseElements. */
const RESPONSE_RECORDED: ReadonlySet<OperationName> = new Set([
  "CreateTrail",
  "UpdateTrail",
  "PutEventSelectors",
  "PutInsightSelectors",
]);

function ownFacts(
  operation: OperationName,
  input: object,
  output: unknown,
  error: { code: string; message: string } | undefined,
): Omit<CallFacts, "ctx" | "caller" | "eventTime"> {
  return {
    eventSource: OWN_EVENT_SOURCE,
    eventName: operation,
    readOnly: READ_ONLY_OPERATIONS.has(operation),
    requestParameters: recordPayload(input),
    responseElements: RESPONSE_RECORDED.has(operation) ? recordPayload(output) : null,
    historyResources: trailsReferenced(operation, input),
    ...(error ? { error } : {}),
  };
}

/** The record of one of this service's own calls. */
export function buildApiCallRecord(call: ApiCall): {
  record: Record<string, unknown>;
  resources: ResourceHint;
} {
  const { sourceIPAddress, userAgent, tls } = call;
  return buildCallRecord({
    ...ownFacts(call.operation, call.input, call.output, call.error),
    ctx: call.ctx,
    caller: { sourceIPAddress, userAgent, tls },
    eventTime: call.eventTime,
  });
}

/** What the recorder stores for a finished call of this service's API. */
export function ownCallToRecord(call: FinishedCall): CallToRecord {
  const error = call.error ? { code: call.error.code, message: call.error.message } : undefined;
  return {
    ...ownFacts(call.operation, call.input, call.output, error),
    ctx: call.ctx,
    clock: call.ctx.clock,
    caller: call.caller,
    // the call's exact time places it before or after a StartLogging/StopLogging of the same
    // second; the StopLogging call itself still belongs to the trail it stopped
    exactTime: call.operation !== "StopLogging",
  };
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
