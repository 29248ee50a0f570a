import type {
  AddTagsRequest,
  AddTagsResponse,
  CreateTrailRequest,
  CreateTrailResponse,
  DeleteTrailRequest,
  DeleteTrailResponse,
  DescribeTrailsRequest,
  DescribeTrailsResponse,
  GetEventSelectorsRequest,
  GetEventSelectorsResponse,
  GetInsightSelectorsRequest,
  GetInsightSelectorsResponse,
  GetTrailRequest,
  GetTrailResponse,
  GetTrailStatusRequest,
  GetTrailStatusResponse,
  ListInsightsMetricDataRequest,
  ListInsightsMetricDataResponse,
  ListPublicKeysRequest,
  ListPublicKeysResponse,
  ListTagsRequest,
  ListTagsResponse,
  ListTrailsRequest,
  ListTrailsResponse,
  LookupEventsRequest,
  LookupEventsResponse,
  PutEventSelectorsRequest,
  PutEventSelectorsResponse,
  PutInsightSelectorsRequest,
  PutInsightSelectorsResponse,
  RemoveTagsRequest,
  RemoveTagsResponse,
  StartLoggingRequest,
  StartLoggingResponse,
  StopLoggingRequest,
  StopLoggingResponse,
  UpdateTrailRequest,
  UpdateTrailResponse,
} from "@aws-sdk/client-cloudtrail";

/** The 19 operations of CloudTrail 2013-11-01 that opentrail serves, in wire spelling. */
export const OPERATIONS = [
  "AddTags",
  "CreateTrail",
  "DeleteTrail",
  "DescribeTrails",
  "GetEventSelectors",
  "GetInsightSelectors",
  "GetTrail",
  "GetTrailStatus",
  "ListInsightsMetricData",
  "ListPublicKeys",
  "ListTags",
  "ListTrails",
  "LookupEvents",
  "PutEventSelectors",
  "PutInsightSelectors",
  "RemoveTags",
  "StartLogging",
  "StopLogging",
  "UpdateTrail",
] as const;

export type OperationName = (typeof OPERATIONS)[number];

/** Request and response shape of each operation, taken from the official SDK. */
export interface OperationShapes {
  AddTags: [AddTagsRequest, AddTagsResponse];
  CreateTrail: [CreateTrailRequest, CreateTrailResponse];
  DeleteTrail: [DeleteTrailRequest, DeleteTrailResponse];
  DescribeTrails: [DescribeTrailsRequest, DescribeTrailsResponse];
  GetEventSelectors: [GetEventSelectorsRequest, GetEventSelectorsResponse];
  GetInsightSelectors: [GetInsightSelectorsRequest, GetInsightSelectorsResponse];
  GetTrail: [GetTrailRequest, GetTrailResponse];
  GetTrailStatus: [GetTrailStatusRequest, GetTrailStatusResponse];
  ListInsightsMetricData: [ListInsightsMetricDataRequest, ListInsightsMetricDataResponse];
  ListPublicKeys: [ListPublicKeysRequest, ListPublicKeysResponse];
  ListTags: [ListTagsRequest, ListTagsResponse];
  ListTrails: [ListTrailsRequest, ListTrailsResponse];
  LookupEvents: [LookupEventsRequest, LookupEventsResponse];
  PutEventSelectors: [PutEventSelectorsRequest, PutEventSelectorsResponse];
  PutInsightSelectors: [PutInsightSelectorsRequest, PutInsightSelectorsResponse];
  RemoveTags: [RemoveTagsRequest, RemoveTagsResponse];
  StartLogging: [StartLoggingRequest, StartLoggingResponse];
  StopLogging: [StopLoggingRequest, StopLoggingResponse];
  UpdateTrail: [UpdateTrailRequest, UpdateTrailResponse];
}

export type OpInput<O extends OperationName> = OperationShapes[O][0];
export type OpOutput<O extends OperationName> = OperationShapes[O][1];

/** Operations whose own CloudTrail record has readOnly=true. */
export const READ_ONLY_OPERATIONS: ReadonlySet<OperationName> = new Set([
  "DescribeTrails",
  "GetEventSelectors",
  "GetInsightSelectors",
  "GetTrail",
  "GetTrailStatus",
  "ListInsightsMetricData",
  "ListPublicKeys",
  "ListTags",
  "ListTrails",
  "LookupEvents",
]);

/** Method name of an operation on CloudTrailApi: CreateTrail -> createTrail. */
export type MethodName<O extends OperationName> = Uncapitalize<O>;

export function methodName<O extends OperationName>(op: O): MethodName<O> {
  return (op.charAt(0).toLowerCase() + op.slice(1)) as MethodName<O>;
}

/**
 * The seed's client as an interface: one method per operation. The in-process service,
 * the HTTP client and the HTTP server all speak it.
 */
export type CloudTrailApi = {
  [O in OperationName as MethodName<O>]: (input: OpInput<O>) => Promise<OpOutput<O>>;
};
