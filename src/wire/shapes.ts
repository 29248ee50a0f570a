import { fail, type OperationName } from "../api/index.ts";

/**
 * The request shapes of the 19 operations, as data (member names and types from the 2013-11-01
 * model). Only types live here: lengths, patterns and meaning are the service's to check.
 */
export type Shape = "string" | "boolean" | "integer" | "timestamp" | ListShape | StructureShape;
export interface ListShape {
  list: Shape;
}
export interface StructureShape {
  /** Model name of the structure; appears in Coral's "Unrecognized collection type" message. */
  structure: string;
  members: Readonly<Record<string, Shape>>;
}

const listOf = (member: Shape): ListShape => ({ list: member });
const structure = (name: string, members: Record<string, Shape>): StructureShape => ({
  structure: name,
  members,
});

const Tag = structure("Tag", { Key: "string", Value: "string" });
const TagsList = listOf(Tag);

const DataResource = structure("DataResource", { Type: "string", Values: listOf("string") });
const EventSelector = structure("EventSelector", {
  ReadWriteType: "string",
  IncludeManagementEvents: "boolean",
  DataResources: listOf(DataResource),
  ExcludeManagementEventSources: listOf("string"),
});
const AdvancedFieldSelector = structure("AdvancedFieldSelector", {
  Field: "string",
  Equals: listOf("string"),
  StartsWith: listOf("string"),
  EndsWith: listOf("string"),
  NotEquals: listOf("string"),
  NotStartsWith: listOf("string"),
  NotEndsWith: listOf("string"),
});
const AdvancedEventSelector = structure("AdvancedEventSelector", {
  Name: "string",
  FieldSelectors: listOf(AdvancedFieldSelector),
});
const InsightSelector = structure("InsightSelector", {
  InsightType: "string",
  EventCategories: listOf("string"),
});
const LookupAttribute = structure("LookupAttribute", { AttributeKey: "string", AttributeValue: "string" });

const TRAIL_SETTINGS = {
  Name: "string",
  S3BucketName: "string",
  S3KeyPrefix: "string",
  SnsTopicName: "string",
  IncludeGlobalServiceEvents: "boolean",
  IsMultiRegionTrail: "boolean",
  EnableLogFileValidation: "boolean",
  CloudWatchLogsLogGroupArn: "string",
  CloudWatchLogsRoleArn: "string",
  KmsKeyId: "string",
  IsOrganizationTrail: "boolean",
  // Sent by current SDKs; typed here so a wrong type is refused like every other member.
  RecursiveLogging: "boolean",
} as const satisfies Record<string, Shape>;

const byName = (name: string): StructureShape => structure(name, { Name: "string" });

export const INPUT_SHAPES: Readonly<Record<OperationName, StructureShape>> = {
  AddTags: structure("AddTagsRequest", { ResourceId: "string", TagsList }),
  CreateTrail: structure("CreateTrailRequest", { ...TRAIL_SETTINGS, TagsList }),
  DeleteTrail: byName("DeleteTrailRequest"),
  DescribeTrails: structure("DescribeTrailsRequest", {
    trailNameList: listOf("string"),
    includeShadowTrails: "boolean",
  }),
  GetEventSelectors: structure("GetEventSelectorsRequest", { TrailName: "string" }),
  GetInsightSelectors: structure("GetInsightSelectorsRequest", {
    TrailName: "string",
    EventDataStore: "string",
  }),
  GetTrail: byName("GetTrailRequest"),
  GetTrailStatus: byName("GetTrailStatusRequest"),
  ListInsightsMetricData: structure("ListInsightsMetricDataRequest", {
    TrailName: "string",
    EventSource: "string",
    EventName: "string",
    InsightType: "string",
    ErrorCode: "string",
    StartTime: "timestamp",
    EndTime: "timestamp",
    Period: "integer",
    DataType: "string",
    MaxResults: "integer",
    NextToken: "string",
  }),
  ListPublicKeys: structure("ListPublicKeysRequest", {
    StartTime: "timestamp",
    EndTime: "timestamp",
    NextToken: "string",
  }),
  ListTags: structure("ListTagsRequest", { ResourceIdList: listOf("string"), NextToken: "string" }),
  ListTrails: structure("ListTrailsRequest", { NextToken: "string" }),
  LookupEvents: structure("LookupEventsRequest", {
    LookupAttributes: listOf(LookupAttribute),
    StartTime: "timestamp",
    EndTime: "timestamp",
    EventCategory: "string",
    MaxResults: "integer",
    NextToken: "string",
  }),
  PutEventSelectors: structure("PutEventSelectorsRequest", {
    TrailName: "string",
    EventSelectors: listOf(EventSelector),
    AdvancedEventSelectors: listOf(AdvancedEventSelector),
  }),
  PutInsightSelectors: structure("PutInsightSelectorsRequest", {
    TrailName: "string",
    InsightSelectors: listOf(InsightSelector),
    EventDataStore: "string",
    InsightsDestination: "string",
  }),
  RemoveTags: structure("RemoveTagsRequest", { ResourceId: "string", TagsList }),
  StartLogging: byName("StartLoggingRequest"),
  StopLogging: byName("StopLoggingRequest"),
  UpdateTrail: structure("UpdateTrailRequest", TRAIL_SETTINGS),
};

/** Namespace Coral prints in front of structure names. */
const MODEL_NAMESPACE = "com.amazonaws.cloudtrail.v20131101";

/**
 * Coral's name for the JSON token it met (DynamoDB's and Kinesis' current parser messages, e.g.
 * "TRUE_VALUE cannot be converted to String").
 */
function tokenName(value: unknown): string {
  if (value === true) return "TRUE_VALUE";
  if (value === false) return "FALSE_VALUE";
  if (typeof value === "string") return "STRING_VALUE";
  if (typeof value === "number") return Number.isInteger(value) ? "NUMBER_VALUE" : "DECIMAL_VALUE";
  return "VALUE";
}

function serialization(message: string): Error {
  return fail("SerializationException", message);
}

/** Objects and arrays give the same messages whatever scalar type was expected. */
function containerMismatch(value: object, javaClass: string): Error {
  return Array.isArray(value)
    ? serialization(`Unrecognized collection type class ${javaClass}`)
    : serialization("Start of structure or map found where not expected");
}

const MIN_INT = -2147483648;
const MAX_INT = 2147483647;

function decodeString(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) throw containerMismatch(value, "java.lang.String");
  throw serialization(`${tokenName(value)} cannot be converted to String`);
}

function decodeBoolean(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "object" && value !== null) throw containerMismatch(value, "java.lang.Boolean");
  // What DynamoDB answers for a string where a boolean is expected.
  if (typeof value === "string") throw serialization("Unexpected token received from parser");
  throw serialization(`${tokenName(value)} cannot be converted to Boolean`);
}

function decodeInteger(value: unknown): number {
  if (typeof value === "number") {
    // Coral truncates a fraction; a value outside a Java int cannot be represented at all.
    const n = Math.trunc(value);
    if (Number.isFinite(n) && n >= MIN_INT && n <= MAX_INT) return n === 0 ? 0 : n;
    throw serialization(`${tokenName(value)} cannot be converted to Integer`);
  }
  if (typeof value === "object" && value !== null) throw containerMismatch(value, "java.lang.Integer");
  throw serialization(`${tokenName(value)} cannot be converted to Integer`);
}

/** `2020-01-01`, `2020-01-01T00:00:00Z`, `2020-01-01T00:00:00.5+02:00`… */
const ISO_TIMESTAMP =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function dateFromSeconds(seconds: number): Date | undefined {
  const date = new Date(Math.round(seconds * 1000));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function decodeTimestamp(value: unknown): Date {
  let date: Date | undefined;
  if (typeof value === "number") date = dateFromSeconds(value);
  else if (typeof value === "string") {
    const text = value.trim();
    if (NUMERIC.test(text)) date = dateFromSeconds(Number(text));
    else if (ISO_TIMESTAMP.test(text)) {
      const parsed = new Date(text);
      date = Number.isNaN(parsed.getTime()) ? undefined : parsed;
    }
  } else if (typeof value === "object" && value !== null) throw containerMismatch(value, "java.util.Date");
  if (date === undefined) throw serialization(`${tokenName(value)} cannot be converted to Timestamp`);
  return date;
}

function decodeList(value: unknown, shape: ListShape): unknown[] {
  if (!Array.isArray(value)) {
    if (typeof value === "object" && value !== null) {
      throw serialization("Start of structure or map found where not expected");
    }
    throw serialization("Unexpected field type");
  }
  const out: unknown[] = [];
  for (const item of value) {
    // JSON null means "no value", inside a list as anywhere else.
    if (item !== null) out.push(decodeValue(item, shape.list));
  }
  return out;
}

function decodeStructure(value: unknown, shape: StructureShape): Record<string, unknown> {
  if (typeof value !== "object" || value === null) throw serialization("Unexpected field type");
  if (Array.isArray(value)) {
    throw serialization(`Unrecognized collection type class ${MODEL_NAMESPACE}.${shape.structure}`);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // Walk the model, not the input: unknown members (newer clients) are ignored, and no key
  // from the request (e.g. "__proto__") ever becomes a property name here.
  for (const [member, memberShape] of Object.entries(shape.members)) {
    if (!Object.hasOwn(source, member)) continue;
    const raw = source[member];
    if (raw === null || raw === undefined) continue;
    out[member] = decodeValue(raw, memberShape);
  }
  return out;
}

function decodeValue(value: unknown, shape: Shape): unknown {
  switch (shape) {
    case "string":
      return decodeString(value);
    case "boolean":
      return decodeBoolean(value);
    case "integer":
      return decodeInteger(value);
    case "timestamp":
      return decodeTimestamp(value);
    default:
      return "list" in shape ? decodeList(value, shape) : decodeStructure(value, shape);
  }
}

/**
 * Turns a parsed JSON body into the operation's input: null → absent, timestamps → `Date`,
 * unknown members dropped. Wrong JSON types → SerializationException with Coral's wording.
 */
export function decodeInput(operation: OperationName, body: unknown): Record<string, unknown> {
  return decodeStructure(body, INPUT_SHAPES[operation]);
}
