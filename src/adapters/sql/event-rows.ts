import type { LookupQuery, StoredEvent } from "../../ports/index.ts";

/** An event's columns as a lookup reads them; `read_only` is 0/1 in SQLite, a boolean in PostgreSQL. */
export interface EventRow {
  event_time: number;
  event_id: string;
  event_name: string | null;
  event_source: string | null;
  read_only: number | boolean | null;
  username: string | null;
  access_key_id: string | null;
  resources: string | null;
  record: string;
}

/** A stored event of the account, region and category `query` asked for. */
export function toStoredEvent(row: EventRow, query: LookupQuery): StoredEvent {
  const event: StoredEvent = {
    accountId: query.accountId,
    region: query.region,
    eventId: row.event_id,
    eventTime: new Date(row.event_time),
    category: query.category,
    resources: row.resources === null ? [] : (JSON.parse(row.resources) as StoredEvent["resources"]),
    json: row.record,
  };
  if (row.event_name !== null) event.eventName = row.event_name;
  if (row.event_source !== null) event.eventSource = row.event_source;
  if (row.read_only !== null) event.readOnly = row.read_only === 1 || row.read_only === true;
  if (row.username !== null) event.username = row.username;
  if (row.access_key_id !== null) event.accessKeyId = row.access_key_id;
  return event;
}
