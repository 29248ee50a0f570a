import type { AdvancedEventSelector, AdvancedFieldSelector } from "@aws-sdk/client-cloudtrail";
import { EXCLUDABLE_MANAGEMENT_SOURCES } from "./basic.ts";
import {
  ACCOUNT,
  DYNAMODB_TABLE,
  invalidSelectors,
  isBucketName,
  isOneOf,
  LAMBDA_FUNCTION,
  PARTITION,
  REGION,
  shown,
} from "./common.ts";
import { fieldText, type RecordResource, type RecordView, recordUserArn } from "./record.ts";

export const OPERATORS = [
  "Equals",
  "StartsWith",
  "EndsWith",
  "NotEquals",
  "NotStartsWith",
  "NotEndsWith",
] as const;
export type Operator = (typeof OPERATORS)[number];
const POSITIVE_OPERATORS = ["Equals", "StartsWith", "EndsWith"] as const;

/** `Insight`, `ConfigurationItem`, … exist only for event data stores. */
export const TRAIL_EVENT_CATEGORIES = ["Management", "Data", "NetworkActivity"] as const;
export type TrailEventCategory = (typeof TRAIL_EVENT_CATEGORIES)[number];

/** The fields a trail accepts per event category (API reference, AdvancedEventSelector). */
const FIELDS_BY_CATEGORY: Record<TrailEventCategory, readonly string[]> = {
  Management: ["eventCategory", "eventSource", "readOnly"],
  Data: [
    "eventCategory",
    "eventName",
    "eventSource",
    "eventType",
    "resources.type",
    "resources.ARN",
    "readOnly",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
  ],
  NetworkActivity: [
    "eventCategory",
    "eventSource",
    "eventName",
    "errorCode",
    "vpcEndpointId",
    "userIdentity.arn",
  ],
};
const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.values(FIELDS_BY_CATEGORY).flat());
const EQUALS_ONLY_FIELDS: ReadonlySet<string> = new Set(["eventCategory", "readOnly", "resources.type"]);
/** Fields that take one Equals value and may appear once per selector. */
const SINGLE_FIELDS: ReadonlySet<string> = new Set(["eventCategory", "resources.type"]);
const READ_ONLY_VALUES = ["true", "false"] as const;
const NETWORK_ERROR_CODES = ["VpceAccessDenied"] as const;

export const ADVANCED_VALUES_MAX = 500;
export const ADVANCED_RESOURCE_ARNS_MAX = 250;
export const SELECTOR_NAME_MAX = 1000;
export const FIELD_NAME_MAX = 1000;
export const FIELD_VALUE_MAX = 2048;
/** The model's pattern `[\w|\d|\.|_]+`: word characters, `.` and a literal `|`. */
const FIELD_NAME = /^[\w.|]+$/;
const RESOURCE_TYPE = /^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/;

/** With Equals/NotEquals, resources.ARN must name one resource of the selected type. */
const S3_OBJECT_ARN = new RegExp(`^arn:${PARTITION}:s3:::([^/]+)/.+$`);
const EXACT_ARN: ReadonlyMap<string, (v: string) => boolean> = new Map([
  ["AWS::S3::Object", (v: string) => isBucketName(S3_OBJECT_ARN.exec(v)?.[1] ?? "")],
  ["AWS::Lambda::Function", (v: string) => LAMBDA_ARN.test(v)],
  ["AWS::DynamoDB::Table", (v: string) => DYNAMODB_ARN.test(v)],
]);
const LAMBDA_ARN = new RegExp(`^arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${LAMBDA_FUNCTION}$`);
const DYNAMODB_ARN = new RegExp(`^arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${DYNAMODB_TABLE}$`);
const ANY_ARN = new RegExp(`^arn:${PARTITION}:[a-z0-9-]+:[^:]*:[^:]*:.+$`);

// No AWS wording for these failures is on record; they are written in the voice of the observed
// basic-selector messages ("Value X for Y is invalid.").
const M = {
  notObject: "Each element of AdvancedEventSelectors must be an advanced event selector object.",
  name: `The Name of an advanced event selector must not be longer than ${SELECTOR_NAME_MAX} characters.`,
  noFieldSelectors: "Each advanced event selector must contain at least one field selector.",
  field: (v: unknown) => `Value ${shown(v)} for FieldSelectors.Field is invalid.`,
  unknownField: (f: string) => `Field ${f} is not supported in advanced event selectors for trails.`,
  noOperator: (f: string) =>
    `The field selector for ${f} must specify at least one of ${OPERATORS.join(", ")}.`,
  emptyOperator: (f: string, op: Operator) => `${op} for field ${f} must contain at least one value.`,
  valueLength: (f: string, op: Operator) =>
    `Each value of ${op} for field ${f} must be between 1 and ${FIELD_VALUE_MAX} characters long.`,
  missingCategory: "Each advanced event selector must contain an eventCategory field selector.",
  duplicate: (f: string) => `Field ${f} can be used only once in an advanced event selector.`,
  equalsOnly: (f: string) => `Field ${f} supports only the Equals operator.`,
  singleValue: (f: string) => `Field ${f} requires exactly one value for Equals.`,
  category: (v: unknown) =>
    `Value ${shown(v)} for eventCategory is invalid. Valid values for trails are: ${TRAIL_EVENT_CATEGORIES.join(", ")}`,
  fieldForCategory: (f: string, c: string) => `Field ${f} is not supported for ${c} events on a trail.`,
  readOnly: (v: string) =>
    `Value ${v} for readOnly is invalid. Valid values are: ${READ_ONLY_VALUES.join(", ")}`,
  resourceType: (v: string) => `Value ${v} for resources.type is invalid.`,
  resourceArn: (v: string) => `Value ${v} for resources.ARN is invalid.`,
  managementSource: `For Management events, eventSource supports only NotEquals with ${EXCLUDABLE_MANAGEMENT_SOURCES.join(" or ")}.`,
  errorCode: (v: string) =>
    `Value ${v} for errorCode is invalid. Valid values are: ${NETWORK_ERROR_CODES.join(", ")}`,
  missingResourceType:
    "Advanced event selectors for Data events must contain a resources.type field selector.",
  missingEventSource:
    "Advanced event selectors for NetworkActivity events must contain an eventSource field selector.",
  valueCount: (n: number) =>
    `The total number of values for all conditions in all advanced event selectors must not exceed ${ADVANCED_VALUES_MAX}; ${n} were specified.`,
  arnCount: (n: number) =>
    `The total number of resources.ARN values in all advanced event selectors must not exceed ${ADVANCED_RESOURCE_ARNS_MAX}; ${n} were specified.`,
};

function presentOperators(f: AdvancedFieldSelector): Operator[] {
  return OPERATORS.filter((op) => f[op] !== undefined);
}

function valuesOf(f: AdvancedFieldSelector, ops: readonly Operator[] = OPERATORS): string[] {
  return ops.flatMap((op) => f[op] ?? []);
}

/** Syntax of one field selector; returns it without undefined members. */
function normaliseField(f: AdvancedFieldSelector): AdvancedFieldSelector {
  if (f === null || typeof f !== "object") throw invalidSelectors(M.field(undefined));
  const field = f.Field;
  if (typeof field !== "string" || field.length > FIELD_NAME_MAX || !FIELD_NAME.test(field)) {
    throw invalidSelectors(M.field(field));
  }
  if (!KNOWN_FIELDS.has(field)) throw invalidSelectors(M.unknownField(field));
  const ops = presentOperators(f);
  if (ops.length === 0) throw invalidSelectors(M.noOperator(field));
  const out: AdvancedFieldSelector = { Field: field };
  for (const op of ops) {
    const values = f[op];
    if (!Array.isArray(values) || values.length === 0) throw invalidSelectors(M.emptyOperator(field, op));
    for (const v of values) {
      if (typeof v !== "string" || v.length < 1 || v.length > FIELD_VALUE_MAX) {
        throw invalidSelectors(M.valueLength(field, op));
      }
    }
    out[op] = [...values];
  }
  return out;
}

/** The selector's single eventCategory condition, checked, or a failure. */
function categoryOf(fields: readonly AdvancedFieldSelector[]): TrailEventCategory {
  const found = fields.filter((f) => f.Field === "eventCategory");
  if (found.length === 0) throw invalidSelectors(M.missingCategory);
  if (found.length > 1) throw invalidSelectors(M.duplicate("eventCategory"));
  const [f] = found as [AdvancedFieldSelector];
  checkSingleEquals(f);
  const value = f.Equals?.[0];
  if (!isOneOf(TRAIL_EVENT_CATEGORIES, value)) throw invalidSelectors(M.category(value));
  return value;
}

function checkSingleEquals(f: AdvancedFieldSelector): void {
  const field = f.Field ?? "";
  if (presentOperators(f).some((op) => op !== "Equals")) throw invalidSelectors(M.equalsOnly(field));
  if (f.Equals?.length !== 1) throw invalidSelectors(M.singleValue(field));
}

/** Per-field rules beyond syntax; `resourceType` is the selector's resources.type value, if any. */
const FIELD_RULES: Record<
  string,
  (f: AdvancedFieldSelector, category: TrailEventCategory, resourceType: string | undefined) => void
> = {
  readOnly: (f) => {
    for (const v of valuesOf(f)) if (!isOneOf(READ_ONLY_VALUES, v)) throw invalidSelectors(M.readOnly(v));
  },
  "resources.type": (f) => {
    checkSingleEquals(f);
    const v = f.Equals?.[0] ?? "";
    if (!RESOURCE_TYPE.test(v)) throw invalidSelectors(M.resourceType(v));
  },
  "resources.ARN": (f, _category, resourceType) => {
    const exact = EXACT_ARN.get(resourceType ?? "") ?? ((v: string) => ANY_ARN.test(v));
    for (const v of valuesOf(f, ["Equals", "NotEquals"])) {
      if (!exact(v)) throw invalidSelectors(M.resourceArn(v));
    }
  },
  eventSource: (f, category) => {
    if (category !== "Management") return;
    if (presentOperators(f).some((op) => op !== "NotEquals")) throw invalidSelectors(M.managementSource);
    for (const v of valuesOf(f)) {
      if (!isOneOf(EXCLUDABLE_MANAGEMENT_SOURCES, v)) throw invalidSelectors(M.managementSource);
    }
  },
  errorCode: (f) => {
    for (const v of valuesOf(f)) if (!isOneOf(NETWORK_ERROR_CODES, v)) throw invalidSelectors(M.errorCode(v));
  },
};

interface Tally {
  values: number;
  resourceArns: number;
}

function validateAdvancedSelector(sel: AdvancedEventSelector, tally: Tally): AdvancedEventSelector {
  if (sel === null || typeof sel !== "object") throw invalidSelectors(M.notObject);
  const name = sel.Name;
  if (name !== undefined && (typeof name !== "string" || name.length > SELECTOR_NAME_MAX)) {
    throw invalidSelectors(M.name);
  }
  const list = sel.FieldSelectors;
  if (!Array.isArray(list) || list.length === 0) throw invalidSelectors(M.noFieldSelectors);
  const fields = list.map(normaliseField);
  const category = categoryOf(fields);
  const allowed = FIELDS_BY_CATEGORY[category];
  const seen = new Set<string>();
  for (const f of fields) {
    const field = f.Field ?? "";
    if (!allowed.includes(field)) throw invalidSelectors(M.fieldForCategory(field, category));
    if (SINGLE_FIELDS.has(field) && seen.has(field)) throw invalidSelectors(M.duplicate(field));
    seen.add(field);
    if (EQUALS_ONLY_FIELDS.has(field) && presentOperators(f).some((op) => op !== "Equals")) {
      throw invalidSelectors(M.equalsOnly(field));
    }
  }
  if (category === "Data" && !seen.has("resources.type")) throw invalidSelectors(M.missingResourceType);
  if (category === "NetworkActivity" && !seen.has("eventSource"))
    throw invalidSelectors(M.missingEventSource);
  const resourceType = fields.find((f) => f.Field === "resources.type")?.Equals?.[0];
  for (const f of fields) {
    FIELD_RULES[f.Field ?? ""]?.(f, category, resourceType);
    tally.values += valuesOf(f).length;
    // Only conditions that name resources use up the data resource allowance.
    if (f.Field === "resources.ARN") tally.resourceArns += valuesOf(f, POSITIVE_OPERATORS).length;
  }
  return name === undefined ? { FieldSelectors: fields } : { Name: name, FieldSelectors: fields };
}

/** `[]` is valid: the trail then logs nothing. */
export function validateAdvancedSelectors(list: readonly AdvancedEventSelector[]): AdvancedEventSelector[] {
  const tally: Tally = { values: 0, resourceArns: 0 };
  const selectors = list.map((sel) => validateAdvancedSelector(sel, tally));
  if (tally.values > ADVANCED_VALUES_MAX) throw invalidSelectors(M.valueCount(tally.values));
  if (tally.resourceArns > ADVANCED_RESOURCE_ARNS_MAX) throw invalidSelectors(M.arnCount(tally.resourceArns));
  return selectors;
}

// ---------------------------------------------------------------------------------------------
// Matching

/** One field condition: positive operators are OR-ed, any negative match excludes. */
export function compileCondition(f: AdvancedFieldSelector): (x: string) => boolean {
  const equals: ReadonlySet<string> = new Set(f.Equals ?? []);
  const startsWith = f.StartsWith ?? [];
  const endsWith = f.EndsWith ?? [];
  const notEquals: ReadonlySet<string> = new Set(f.NotEquals ?? []);
  const notStartsWith = f.NotStartsWith ?? [];
  const notEndsWith = f.NotEndsWith ?? [];
  const hasPositive = equals.size + startsWith.length + endsWith.length > 0;
  return (x) => {
    if (notEquals.has(x)) return false;
    for (const p of notStartsWith) if (x.startsWith(p)) return false;
    for (const s of notEndsWith) if (x.endsWith(s)) return false;
    if (!hasPositive || equals.has(x)) return true;
    for (const p of startsWith) if (x.startsWith(p)) return true;
    for (const s of endsWith) if (x.endsWith(s)) return true;
    return false;
  };
}

const fromRecord =
  (name: string) =>
  (view: RecordView): string =>
    fieldText(view.record[name]);

/** How each non-resource field reads a record; anything else reads as "". */
const READERS: ReadonlyMap<string, (view: RecordView) => string> = new Map([
  ["eventCategory", (view: RecordView) => view.category],
  ["readOnly", fromRecord("readOnly")],
  ["eventSource", fromRecord("eventSource")],
  ["eventName", fromRecord("eventName")],
  ["eventType", fromRecord("eventType")],
  ["errorCode", fromRecord("errorCode")],
  ["vpcEndpointId", fromRecord("vpcEndpointId")],
  ["sessionCredentialFromConsole", fromRecord("sessionCredentialFromConsole")],
  ["userIdentity.arn", (view: RecordView) => recordUserArn(view.record)],
]);
const readsNothing = (): string => "";

/** A record without resources is judged as having one resource whose type and ARN are "". */
const NO_RESOURCES: readonly RecordResource[] = [{ type: "", arn: "" }];

/** AND over the field conditions; resources.* conditions must hold for one resource entry. */
export function compileAdvancedSelector(sel: AdvancedEventSelector): (view: RecordView) => boolean {
  const plain: { read: (view: RecordView) => string; test: (x: string) => boolean }[] = [];
  const onType: ((x: string) => boolean)[] = [];
  const onArn: ((x: string) => boolean)[] = [];
  for (const f of sel.FieldSelectors ?? []) {
    const test = compileCondition(f);
    if (f.Field === "resources.type") onType.push(test);
    else if (f.Field === "resources.ARN") onArn.push(test);
    else plain.push({ read: READERS.get(f.Field ?? "") ?? readsNothing, test });
  }
  const perResource = onType.length + onArn.length > 0;
  return (view) => {
    for (const c of plain) if (!c.test(c.read(view))) return false;
    if (!perResource) return true;
    const resources = view.resources.length > 0 ? view.resources : NO_RESOURCES;
    return resources.some((r) => onType.every((t) => t(r.type)) && onArn.every((t) => t(r.arn)));
  };
}
