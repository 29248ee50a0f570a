/*
 * The value types of event history: a recorded event with the columns lookups use, and a lookup
 * query. The event store port stores and answers them.
 */

/** What event history keeps apart from the record itself, so lookups need not parse JSON. */
export type EventCategory = "Management" | "Data" | "NetworkActivity" | "Insight";

/** The eight LookupEvents attributes. */
export type LookupKey =
  | "EventId"
  | "EventName"
  | "ReadOnly"
  | "Username"
  | "EventSource"
  | "AccessKeyId"
  | "ResourceType"
  | "ResourceName";

/** One recorded event: its record (JSON text, exactly as stored) and the columns lookups use. */
export interface StoredEvent {
  accountId: string;
  /** The record's awsRegion. */
  region: string;
  eventId: string;
  eventTime: Date;
  category: EventCategory;
  /** For insight events: insightDetails.eventName / eventSource. */
  eventName?: string;
  eventSource?: string;
  readOnly?: boolean;
  /** Derived as lookup-events.md says. */
  username?: string;
  accessKeyId?: string;
  /** The record's errorCode (management and data events), for the per-minute Insights counts. */
  errorCode?: string;
  resources: { type?: string; name?: string }[];
  /** The whole record as JSON text. */
  json: string;
  /** Delivery destinations that select this event: stored as outbox rows in the same transaction. */
  destinations?: number[];
}

export interface LookupQuery {
  accountId: string;
  region: string;
  /** Management events unless EventCategory=insight. */
  category: "Management" | "Insight";
  attribute?: { key: LookupKey; value: string };
  /** Inclusive bounds. */
  start: Date;
  end: Date;
  /** Keyset position: events strictly after this one in (eventTime desc, eventId desc) order. */
  after?: { eventTime: Date; eventId: string };
  limit: number;
}

/** The fields of an event that lookup attributes other than EventId find it by. */
export type LookupSource = Pick<
  StoredEvent,
  "eventName" | "eventSource" | "readOnly" | "username" | "accessKeyId" | "resources"
>;

/**
 * Every (lookup key, value) an event is found by, EventId aside, in one order for every store's
 * index; empty values are left out.
 */
export function eachLookupValue(
  e: LookupSource,
  visit: (key: Exclude<LookupKey, "EventId">, value: string) => void,
): void {
  const add = (key: Exclude<LookupKey, "EventId">, value: string | undefined) => {
    if (value) visit(key, value);
  };
  add("EventName", e.eventName);
  add("EventSource", e.eventSource);
  if (e.readOnly !== undefined) add("ReadOnly", String(e.readOnly));
  add("Username", e.username);
  add("AccessKeyId", e.accessKeyId);
  for (const r of e.resources) {
    add("ResourceType", r.type);
    add("ResourceName", r.name);
  }
}
