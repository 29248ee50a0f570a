import type { Event, LookupAttributeKey } from "@aws-sdk/client-cloudtrail";

/** One row of event history, every column the page can show. */
export interface EventRow {
  eventId: string;
  eventName: string;
  eventTime: string;
  userName: string;
  eventSource: string;
  resourceType: string;
  resourceName: string;
  errorCode: string;
  awsRegion: string;
  sourceIPAddress: string;
  accessKeyId: string;
  readOnly: string;
  /** The whole record, for the detail and comparison views. */
  record: Record<string, unknown>;
}

/** The columns of event history: the six AWS shows by default first, then the chooser's. */
export const COLUMNS = [
  { id: "eventName", title: "Event name", shown: true },
  { id: "eventTime", title: "Event time", shown: true },
  { id: "userName", title: "User name", shown: true },
  { id: "eventSource", title: "Event source", shown: true },
  { id: "resourceType", title: "Resource type", shown: true },
  { id: "resourceName", title: "Resource name", shown: true },
  { id: "errorCode", title: "Error code", shown: false },
  { id: "awsRegion", title: "AWS region", shown: false },
  { id: "sourceIPAddress", title: "Source IP address", shown: false },
  { id: "accessKeyId", title: "AWS access key", shown: false },
  { id: "readOnly", title: "Read-only", shown: false },
  { id: "eventId", title: "Event ID", shown: false },
] as const satisfies readonly { id: keyof EventRow; title: string; shown: boolean }[];

/** The lookup attributes event history filters by, with the page's names. */
export const LOOKUP_KEYS: readonly { key: LookupAttributeKey; title: string }[] = [
  { key: "ReadOnly", title: "Read-only" },
  { key: "EventName", title: "Event name" },
  { key: "Username", title: "User name" },
  { key: "ResourceType", title: "Resource type" },
  { key: "ResourceName", title: "Resource name" },
  { key: "EventSource", title: "Event source" },
  { key: "EventId", title: "Event ID" },
  { key: "AccessKeyId", title: "AWS access key" },
];

function parseRecord(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const text = (v: unknown): string =>
  typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);

export function toRow(event: Event): EventRow {
  const record = parseRecord(event.CloudTrailEvent);
  const resources = event.Resources ?? [];
  return {
    eventId: event.EventId ?? "",
    eventName: event.EventName ?? "",
    eventTime: event.EventTime?.toISOString() ?? "",
    userName: event.Username ?? "",
    eventSource: event.EventSource ?? "",
    resourceType: resources.map((r) => r.ResourceType ?? "").join(", "),
    resourceName: resources.map((r) => r.ResourceName ?? "").join(", "),
    errorCode: text(record.errorCode),
    awsRegion: text(record.awsRegion),
    sourceIPAddress: text(record.sourceIPAddress),
    accessKeyId: event.AccessKeyId ?? "",
    readOnly: event.ReadOnly ?? text(record.readOnly),
    record,
  };
}

/** A cell a spreadsheet would run as a formula, and one that needs quotes (the page's downloads use these too). */
export const CSV_FORMULA_START = /^[=+\-@\t\r]/;
export const CSV_NEEDS_QUOTES = /[",\r\n]/;

/**
 * A CSV cell: quoted when it holds a separator, a quote or a line break; and a cell that a
 * spreadsheet would run as a formula (= + - @, or a tab or carriage return first) is prefixed with
 * a quote mark so that it stays text.
 */
export function csvCell(value: string): string {
  const safe = CSV_FORMULA_START.test(value) ? `'${value}` : value;
  return CSV_NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(rows: readonly EventRow[]): string {
  const lines = [COLUMNS.map((c) => csvCell(c.title)).join(",")];
  for (const row of rows) lines.push(COLUMNS.map((c) => csvCell(row[c.id])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** The download as JSON: the records themselves, as a log file holds them. */
export function toJsonExport(rows: readonly EventRow[]): string {
  return `${JSON.stringify({ Records: rows.map((r) => r.record) }, null, 2)}\n`;
}
