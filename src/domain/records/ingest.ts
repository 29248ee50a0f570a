import { LOOKUP_VALUE_MAX, lookupWeight } from "./lookup.ts";
import {
  formatEventTime,
  isJsonObject,
  type JsonObject,
  MAX_RECORD_DEPTH,
  nestedDeeperThan,
  parseEventTime,
  utf8Length,
} from "./text.ts";

/**
 * Records other services push to the ingest endpoint. A record is taken as it is, so that what
 * event history and log files give back is what was sent; only the four fields a stored record
 * cannot do without are added when missing (after the others, in that order).
 */

/** AWS's limit per record since eventVersion 1.05, applied to the serialized record. */
export const MAX_RECORD_BYTES = 256 * 1024;

/**
 * Years a record may claim. CloudTrail is younger than 1970 and event history answers EventTime in
 * epoch seconds; an event store need not index times centuries away, and a year like 0000 or 2500
 * in one record must not fail the whole batch with a 500 once it reaches the store.
 */
const EARLIEST_EVENT_TIME = new Date("1970-01-01T00:00:00Z");
const END_OF_EVENT_TIMES = new Date("2100-01-01T00:00:00Z");

type FieldType = "string" | "boolean" | "object" | "object or null" | "list";

/** The JSON type of every field of log-files.md §1; fields not listed here pass as they are. */
const FIELD_TYPES: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ["eventVersion", "string"],
  ["userIdentity", "object"],
  ["eventTime", "string"],
  ["eventSource", "string"],
  ["eventName", "string"],
  ["awsRegion", "string"],
  ["sourceIPAddress", "string"],
  ["userAgent", "string"],
  ["errorCode", "string"],
  ["errorMessage", "string"],
  ["requestParameters", "object or null"],
  ["responseElements", "object or null"],
  ["additionalEventData", "object"],
  ["requestID", "string"],
  ["eventID", "string"],
  ["readOnly", "boolean"],
  ["resources", "list"],
  ["eventType", "string"],
  ["apiVersion", "string"],
  ["recipientAccountId", "string"],
  ["sharedEventID", "string"],
  ["vpcEndpointId", "string"],
  ["serviceEventDetails", "object"],
  ["managementEvent", "boolean"],
  ["eventCategory", "string"],
  ["insightDetails", "object"],
  ["addendum", "object"],
  ["sessionCredentialFromConsole", "string"],
  ["edgeDeviceDetails", "object"],
  ["tlsDetails", "object"],
]);

const ARTICLE: Record<FieldType, string> = {
  string: "a string",
  boolean: "a boolean",
  object: "an object",
  "object or null": "an object or null",
  list: "a list",
};

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "object":
      return isJsonObject(value);
    case "object or null":
      return value === null || isJsonObject(value);
    case "list":
      return Array.isArray(value);
  }
}

const RESOURCE_TEXT_FIELDS = ["ARN", "accountId", "type"] as const;

function typeProblem(record: JsonObject): string | undefined {
  for (const [field, type] of FIELD_TYPES) {
    const value = record[field];
    if (value !== undefined && !hasType(value, type)) return `${field} must be ${ARTICLE[type]}`;
  }
  for (const entry of (record.resources as unknown[] | undefined) ?? []) {
    if (!isJsonObject(entry)) return "resources must be a list of objects";
    for (const field of RESOURCE_TEXT_FIELDS) {
      if (entry[field] !== undefined && typeof entry[field] !== "string") {
        return `resources[].${field} must be a string`;
      }
    }
  }
  return undefined;
}

function isInsightRecord(record: JsonObject): boolean {
  return record.eventType === "AwsCloudTrailInsight" || record.eventCategory === "Insight";
}

function isNamed(value: unknown): boolean {
  return typeof value === "string" && value !== "";
}

/**
 * What the record says happened. Insights records name the API in insightDetails (they have no
 * top-level eventName/eventSource). eventType arrived in 1.02: a record without it is in the old
 * form, and AWS's own documentation holds one such record that is nothing but eventVersion and
 * userIdentity; a record like that is taken when it at least says who acted. A record that says
 * neither what kind of event it is nor who acted must name the call.
 */
function namingProblem(record: JsonObject): string | undefined {
  if (isInsightRecord(record)) {
    const details = record.insightDetails;
    if (!isJsonObject(details)) return "insightDetails is required";
    if (!isNamed(details.eventName)) return "insightDetails.eventName is required";
    if (!isNamed(details.eventSource)) return "insightDetails.eventSource is required";
    return undefined;
  }
  if (record.eventType === undefined && record.userIdentity !== undefined) return undefined;
  if (!isNamed(record.eventName)) return "eventName is required";
  if (!isNamed(record.eventSource)) return "eventSource is required";
  return undefined;
}

export interface IngestDefaults {
  accountId: string;
  region: string;
  eventTime: Date;
  newEventId: () => string;
}

export type IngestResult = { ok: true; record: Record<string, unknown> } | { ok: false; reason: string };

/** An accepted record with its JSON text, exactly as it is to be stored, and its eventTime read. */
export type CheckedRecord =
  | { ok: true; record: Record<string, unknown>; json: string; time: Date }
  | { ok: false; reason: string };

export function checkIngestRecord(raw: unknown, defaults: IngestDefaults): IngestResult {
  const checked = checkIngestRecordJson(raw, defaults);
  return checked.ok ? { ok: true, record: checked.record } : checked;
}

/**
 * checkIngestRecord that also gives the record's JSON text. The size check has to write it, and a
 * store that keeps it spares a second JSON.stringify: a tenth of the server's time per ingested
 * record (bench/ingest.ts).
 */
export function checkIngestRecordJson(
  raw: unknown,
  defaults: IngestDefaults,
  /** The record's own text in the body, when it was sent compact (see recordTexts). */
  sentText?: string,
): CheckedRecord {
  const refuse = (reason: string): CheckedRecord => ({ ok: false, reason });
  if (!isJsonObject(raw)) return refuse("record must be a JSON object");
  const typeIssue = typeProblem(raw);
  if (typeIssue !== undefined) return refuse(typeIssue);
  let time: Date | undefined;
  if (typeof raw.eventTime === "string") {
    time = parseEventTime(raw.eventTime);
    if (time === undefined) return refuse("eventTime must be a UTC time written YYYY-MM-DDTHH:MM:SSZ");
    if (time < EARLIEST_EVENT_TIME || time >= END_OF_EVENT_TIMES) {
      return refuse("eventTime must fall in the years 1970 to 2099");
    }
  }
  if (raw.eventID === "") return refuse("eventID must not be empty");
  // An id LookupEvents cannot be asked for could not be found by it, and a page ending on it would
  // carry a NextToken longer than the service takes back.
  if (typeof raw.eventID === "string" && lookupWeight(raw.eventID) > LOOKUP_VALUE_MAX) {
    return refuse(
      `eventID must be at most ${LOOKUP_VALUE_MAX} characters long, where _, space, comma and newline count as two`,
    );
  }
  const namingIssue = namingProblem(raw);
  if (namingIssue !== undefined) return refuse(namingIssue);
  if (raw.recipientAccountId !== undefined && raw.recipientAccountId !== defaults.accountId) {
    return refuse("record for another account");
  }

  const added: JsonObject = {};
  if (raw.eventTime === undefined) {
    added.eventTime = formatEventTime(defaults.eventTime);
    // records carry whole seconds
    time = parseEventTime(added.eventTime as string);
  }
  if (raw.awsRegion === undefined) added.awsRegion = defaults.region;
  if (raw.eventID === undefined) added.eventID = defaults.newEventId();
  if (raw.recipientAccountId === undefined) added.recipientAccountId = defaults.accountId;
  // A record that needs nothing filled in is kept as the text it came in.
  const complete = sentText !== undefined && Object.keys(added).length === 0;
  const record = complete ? raw : { ...raw, ...added };
  const json = complete ? sentText : jsonText(record);
  if (json === undefined) return refuse("record must be a JSON object");
  if (nestedDeeperThan(record, MAX_RECORD_DEPTH)) {
    return refuse(`record nests deeper than ${MAX_RECORD_DEPTH} levels`);
  }
  if (utf8Length(json) > MAX_RECORD_BYTES) return refuse("record larger than 256 KB");
  return { ok: true, record, json, time: time as Date };
}

/** The record as JSON; undefined for values JSON cannot hold (cycles, bigints). */
function jsonText(record: JsonObject): string | undefined {
  try {
    return JSON.stringify(record);
  } catch {
    return undefined;
  }
}
