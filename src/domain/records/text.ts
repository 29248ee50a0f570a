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

const DIGIT_0 = 48;

/** The number written by the ASCII digits text[from..to), or -1 if any of them is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The time of a well-formed record eventTime (`YYYY-MM-DDTHH:MM:SSZ`); undefined for any other
 * text or an impossible date such as 2024-02-30 or 24:00:00. Read digit by digit: every ingested
 * record goes through here, and a regular expression plus a Date round trip cost a tenth of it.
 */
export function parseEventTime(text: string): Date | undefined {
  if (
    text.length !== 20 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 90 // Z
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC reads years 0 to 99 as 1900 to 1999
  if (year < 100) time.setUTCFullYear(year);
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

/**
 * How deeply a record may nest (the record object is level 1). Real records nest fewer than ten
 * levels; Python's json module gives up near 1,000 and other common readers sooner or later, so a
 * record of opentrail's stays well inside what any of them reads.
 */
export const MAX_RECORD_DEPTH = 100;

/** Whether objects and arrays nest more than `levels` deep in `value` (walks at most that deep). */
export function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, levels - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (nestedDeeperThan((value as JsonObject)[key], levels - 1)) return true;
  }
  return false;
}
