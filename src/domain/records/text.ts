/**
 * Small pieces every part of the record model needs: record times, UTF-8 sizes (AWS states its
 * field and record limits in bytes), and reading parsed JSON without trusting its shape.
 */

/** A parsed JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The string a record field holds, or undefined for an absent, empty or non-string field. */
export function textField(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** `YYYY-MM-DDTHH:MM:SSZ`: records carry whole seconds. */
export function formatEventTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The time of a well-formed record eventTime; undefined for any other text or an impossible date. */
export function parseEventTime(text: string): Date | undefined {
  if (!EVENT_TIME.test(text)) return undefined;
  const time = new Date(text);
  // Date accepts 2024-02-30 and 24:00:00 by rolling over; the round trip refuses them.
  if (Number.isNaN(time.getTime()) || formatEventTime(time) !== text) return undefined;
  return time;
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  let end = maxBytes;
  // A continuation byte (10xxxxxx) at the cut means the character before it would be split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}
