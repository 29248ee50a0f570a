import type { Event } from "@aws-sdk/client-cloudtrail";
import type { EventCategory, StoredEvent } from "../events.ts";
import { recordCategory, recordReadOnly } from "../selectors/record.ts";
import { isJsonObject, type JsonObject, parseEventTime, textField } from "./text.ts";

/**
 * A record as event history keeps it (the columns lookups filter on) and as LookupEvents
 * returns it. Records come from anywhere, so nothing here throws on an unexpected shape.
 */

const EVENT_CATEGORIES: ReadonlySet<string> = new Set<EventCategory>([
  "Management",
  "Data",
  "NetworkActivity",
  "Insight",
]);

/**
 * eventCategory when it is one event history knows; otherwise what a record older than the field
 * (eventVersion < 1.07) shows: Insights by eventType, data events by managementEvent: false.
 */
function storedCategory(record: JsonObject): EventCategory {
  const declared = record.eventCategory;
  if (typeof declared === "string" && EVENT_CATEGORIES.has(declared)) return declared as EventCategory;
  return recordCategory({
    eventType: record.eventType,
    managementEvent: record.managementEvent,
  }) as EventCategory;
}

const SESSION_TYPES: ReadonlySet<string> = new Set(["AssumedRole", "FederatedUser"]);

/**
 * The User name column of event history: userName; for sessions the session name (the last part
 * of the ARN); `root` for the root user; the calling service for AWSService.
 */
export function recordUsername(record: JsonObject): string | undefined {
  const identity = record.userIdentity;
  if (!isJsonObject(identity)) return undefined;
  const userName = textField(identity.userName);
  if (userName !== undefined) return userName;
  const type = identity.type;
  if (typeof type === "string" && SESSION_TYPES.has(type)) {
    const arn = textField(identity.arn);
    return arn === undefined ? undefined : textField(arn.slice(arn.lastIndexOf("/") + 1));
  }
  if (type === "Root") return "root";
  if (type === "AWSService") return textField(identity.invokedBy);
  return undefined;
}

function storedResources(record: JsonObject): StoredEvent["resources"] {
  if (!Array.isArray(record.resources)) return [];
  const out: StoredEvent["resources"] = [];
  for (const entry of record.resources) {
    if (!isJsonObject(entry)) continue;
    const resource: StoredEvent["resources"][number] = {};
    if (typeof entry.type === "string") resource.type = entry.type;
    if (typeof entry.ARN === "string") resource.name = entry.ARN;
    out.push(resource);
  }
  return out;
}

/**
 * A record without a usable eventTime is stored at the epoch rather than refused: ingest has
 * already filled or checked the field, so this only happens to records built elsewhere.
 */
export function toStoredEvent(
  record: Record<string, unknown>,
  accountId: string,
  json?: string,
  /** The record's eventTime when the caller has read it already. */
  eventTime?: Date,
): StoredEvent {
  const category = storedCategory(record);
  const insight = category === "Insight";
  const named = insight && isJsonObject(record.insightDetails) ? record.insightDetails : record;
  const time =
    eventTime ?? (typeof record.eventTime === "string" ? parseEventTime(record.eventTime) : undefined);
  const stored: StoredEvent = {
    accountId,
    region: typeof record.awsRegion === "string" ? record.awsRegion : "",
    eventId: typeof record.eventID === "string" ? record.eventID : "",
    eventTime: time ?? new Date(0),
    category,
    resources: storedResources(record),
    json: json ?? JSON.stringify(record),
  };
  const eventName = textField(named.eventName);
  if (eventName !== undefined) stored.eventName = eventName;
  const eventSource = textField(named.eventSource);
  if (eventSource !== undefined) stored.eventSource = eventSource;
  if (insight) return stored;
  const readOnly = recordReadOnly(record);
  if (readOnly !== undefined) stored.readOnly = readOnly;
  const username = recordUsername(record);
  if (username !== undefined) stored.username = username;
  const identity = record.userIdentity;
  const accessKeyId = isJsonObject(identity) ? textField(identity.accessKeyId) : undefined;
  if (accessKeyId !== undefined) stored.accessKeyId = accessKeyId;
  const errorCode = textField(record.errorCode);
  if (errorCode !== undefined) stored.errorCode = errorCode;
  return stored;
}

/** One element of LookupEvents' Events; insight events have no user, key or read-only flag. */
export function toLookupEvent(ev: StoredEvent): Event {
  const event: Event = {
    EventId: ev.eventId,
    EventTime: ev.eventTime,
    Resources: ev.resources.map((r) => {
      const resource: { ResourceType?: string; ResourceName?: string } = {};
      if (r.type !== undefined) resource.ResourceType = r.type;
      if (r.name !== undefined) resource.ResourceName = r.name;
      return resource;
    }),
    CloudTrailEvent: ev.json,
  };
  if (ev.eventName !== undefined) event.EventName = ev.eventName;
  if (ev.eventSource !== undefined) event.EventSource = ev.eventSource;
  if (ev.category !== "Insight") {
    if (ev.readOnly !== undefined) event.ReadOnly = String(ev.readOnly);
    if (ev.accessKeyId !== undefined) event.AccessKeyId = ev.accessKeyId;
    if (ev.username !== undefined) event.Username = ev.username;
  }
  return event;
}
