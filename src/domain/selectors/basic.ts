import type { DataResource, EventSelector } from "@aws-sdk/client-cloudtrail";
import {
  ACCOUNT,
  DYNAMODB_TABLE,
  invalidSelectors,
  isOneOf,
  isS3ObjectPrefix,
  LAMBDA_FUNCTION,
  PARTITION,
  REGION,
  shown,
} from "./common.ts";
import { fieldText, type RecordView } from "./record.ts";

export const READ_WRITE_TYPES = ["All", "ReadOnly", "WriteOnly"] as const;
export type ReadWriteType = (typeof READ_WRITE_TYPES)[number];

export const BASIC_DATA_RESOURCE_TYPES = [
  "AWS::DynamoDB::Table",
  "AWS::Lambda::Function",
  "AWS::S3::Object",
] as const;
type BasicDataResourceType = (typeof BASIC_DATA_RESOURCE_TYPES)[number];

export const EXCLUDABLE_MANAGEMENT_SOURCES = ["kms.amazonaws.com", "rdsdata.amazonaws.com"] as const;

export const BASIC_SELECTORS_MIN = 1;
export const BASIC_SELECTORS_MAX = 5;
export const DATA_RESOURCE_VALUES_MAX = 250;

/**
 * Per data resource type: the value that means "every resource of the type", and the test for a
 * value naming resources. S3 values are object-ARN prefixes; Lambda and DynamoDB values are exact.
 * `arn:<p>:s3:::` (no bucket) is accepted although no document lists it: real trails carry it as
 * "all buckets" and AWS takes it; as a prefix it selects every object.
 */
const VALUE_FORMATS: Record<BasicDataResourceType, { all: RegExp; named: (v: string) => boolean }> = {
  "AWS::S3::Object": {
    all: new RegExp(`^arn:${PARTITION}:s3$`),
    named: (v) => ALL_BUCKETS_PREFIX.test(v) || isS3ObjectPrefix(v),
  },
  "AWS::Lambda::Function": {
    all: new RegExp(`^arn:${PARTITION}:lambda$`),
    named: (v) => LAMBDA_ARN.test(v),
  },
  "AWS::DynamoDB::Table": {
    all: new RegExp(`^arn:${PARTITION}:dynamodb$`),
    named: (v) => DYNAMODB_ARN.test(v),
  },
};
const ALL_BUCKETS_PREFIX = new RegExp(`^arn:${PARTITION}:s3:::$`);
const LAMBDA_ARN = new RegExp(`^arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${LAMBDA_FUNCTION}$`);
const DYNAMODB_ARN = new RegExp(`^arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${DYNAMODB_TABLE}$`);

/** Messages marked "observed" are AWS's own; the others are written in the same voice. */
const M = {
  count: (n: number) =>
    `The number of event selectors must be between ${BASIC_SELECTORS_MIN} and ${BASIC_SELECTORS_MAX}; ${n} were specified.`,
  notObject: "Each element of EventSelectors must be an event selector object.",
  readWriteType: (v: unknown) =>
    `Value ${shown(v)} for ReadWriteType is invalid. Valid values are: ${READ_WRITE_TYPES.join(", ")}`,
  // observed
  dataType: (v: unknown) =>
    `Value ${shown(v)} for DataResources.Type is invalid. Valid values are: ${BASIC_DATA_RESOURCE_TYPES.join(", ")}`,
  // observed
  dataValue: (v: unknown) => `Value ${shown(v)} for DataResources.Values is invalid.`,
  excludedSource: (v: unknown) =>
    `Value ${shown(v)} for ExcludeManagementEventSources is invalid. Valid values are: ${EXCLUDABLE_MANAGEMENT_SOURCES.join(", ")}`,
  // observed (relayed by CloudFormation from PutEventSelectors)
  selectsNothing:
    "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty.",
  valueCount: (n: number) =>
    `The total number of data resource values in all event selectors must not exceed ${DATA_RESOURCE_VALUES_MAX}; ${n} were specified.`,
};

function normaliseDataResource(dr: DataResource): { Type: string; Values: string[] } {
  if (dr === null || typeof dr !== "object") throw invalidSelectors(M.dataType(undefined));
  const type = dr.Type;
  if (!isOneOf(BASIC_DATA_RESOURCE_TYPES, type)) throw invalidSelectors(M.dataType(type));
  const format = VALUE_FORMATS[type];
  const values = dr.Values ?? [];
  if (!Array.isArray(values)) throw invalidSelectors(M.dataValue(values));
  for (const v of values) {
    if (typeof v !== "string" || !(format.all.test(v) || format.named(v))) {
      throw invalidSelectors(M.dataValue(v));
    }
  }
  return { Type: type, Values: [...values] };
}

/** One selector with every default filled in, as GetEventSelectors answers it. */
function normaliseBasicSelector(sel: EventSelector): EventSelector {
  if (sel === null || typeof sel !== "object") throw invalidSelectors(M.notObject);
  const readWriteType = sel.ReadWriteType ?? "All";
  if (!isOneOf(READ_WRITE_TYPES, readWriteType)) throw invalidSelectors(M.readWriteType(readWriteType));
  const includeManagementEvents = sel.IncludeManagementEvents ?? true;
  const dataResources = (sel.DataResources ?? []).map(normaliseDataResource);
  const excluded = sel.ExcludeManagementEventSources ?? [];
  for (const source of excluded) {
    if (!isOneOf(EXCLUDABLE_MANAGEMENT_SOURCES, source)) throw invalidSelectors(M.excludedSource(source));
  }
  if (!includeManagementEvents && dataResources.length === 0) throw invalidSelectors(M.selectsNothing);
  return {
    ReadWriteType: readWriteType,
    IncludeManagementEvents: includeManagementEvents,
    DataResources: dataResources,
    ExcludeManagementEventSources: [...excluded],
  };
}

export function validateBasicSelectors(list: readonly EventSelector[]): EventSelector[] {
  if (list.length < BASIC_SELECTORS_MIN || list.length > BASIC_SELECTORS_MAX) {
    throw invalidSelectors(M.count(list.length));
  }
  const selectors = list.map(normaliseBasicSelector);
  let values = 0;
  for (const sel of selectors) for (const dr of sel.DataResources ?? []) values += dr.Values?.length ?? 0;
  if (values > DATA_RESOURCE_VALUES_MAX) throw invalidSelectors(M.valueCount(values));
  return selectors;
}

// ---------------------------------------------------------------------------------------------
// Matching

interface CompiledDataType {
  all: boolean;
  prefixes: string[];
  exact: Set<string>;
}

function compileDataResources(list: readonly DataResource[]): Map<string, CompiledDataType> {
  const byType = new Map<string, CompiledDataType>();
  for (const dr of list) {
    const type = dr.Type ?? "";
    const format = isOneOf(BASIC_DATA_RESOURCE_TYPES, type) ? VALUE_FORMATS[type] : undefined;
    let entry = byType.get(type);
    if (entry === undefined) {
      entry = { all: false, prefixes: [], exact: new Set() };
      byType.set(type, entry);
    }
    for (const v of dr.Values ?? []) {
      if (format?.all.test(v)) entry.all = true;
      else if (type === "AWS::S3::Object") entry.prefixes.push(v);
      else entry.exact.add(v);
    }
  }
  return byType;
}

/** The §2 matching algorithm for one basic selector, over a record viewed once. */
export function compileBasicSelector(sel: EventSelector): (view: RecordView) => boolean {
  const rw = sel.ReadWriteType ?? "All";
  const requiredReadOnly = rw === "ReadOnly" ? true : rw === "WriteOnly" ? false : undefined;
  const management = sel.IncludeManagementEvents ?? true;
  const excluded: ReadonlySet<string> = new Set(sel.ExcludeManagementEventSources ?? []);
  const data = compileDataResources(sel.DataResources ?? []);
  return (view) => {
    if (requiredReadOnly !== undefined && view.readOnly !== requiredReadOnly) return false;
    if (view.category === "Management") {
      return management && !excluded.has(fieldText(view.record.eventSource));
    }
    if (view.category !== "Data") return false;
    for (const r of view.resources) {
      const entry = data.get(r.type);
      if (entry === undefined) continue;
      if (entry.all || entry.exact.has(r.arn)) return true;
      for (const prefix of entry.prefixes) if (r.arn.startsWith(prefix)) return true;
    }
    return false;
  };
}
