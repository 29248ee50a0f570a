import { describe, expect, it } from "vitest";
import { prng } from "../../bench/support/records.ts";
import { formatEventTime, parseEventTime } from "../../src/domain/records/text.ts";

/** The plain definition: the pattern, and a Date that writes the text back unchanged. */
function reference(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;
  const time = new Date(text);
  if (Number.isNaN(time.getTime()) || formatEventTime(time) !== text) return undefined;
  return time;
}

describe("parseEventTime", () => {
  it.each([
    ["2024-02-29T23:59:59Z", "2024-02-29T23:59:59.000Z"],
    ["2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"],
    ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"],
    ["0050-06-15T12:30:00Z", "0050-06-15T12:30:00.000Z"],
    ["0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"],
    ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59.000Z"],
  ])("reads %s", (text, iso) => {
    expect(parseEventTime(text)?.toISOString()).toBe(iso);
  });

  it.each([
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-00-01T00:00:00Z",
    "2024-01-00T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T23:60:00Z",
    "2024-01-01T23:59:60Z",
    "2024-01-01T00:00:00.000Z",
    "2024-01-01 00:00:00Z",
    "2024-01-01T00:00:00z",
    "2024-01-01T00:00:00+00:00",
    "+02024-01-01T00:00:00Z",
    "2024-1-01T00:00:00Z",
    "2024-01-01T00:00:0xZ",
    "２０２４-01-01T00:00:00Z",
    "",
  ])("refuses %j", (text) => {
    expect(parseEventTime(text)).toBeUndefined();
  });

  it("agrees with the plain definition on 20,000 near-miss texts", () => {
    const random = prng(20261125);
    const pick = (n: number) => Math.floor(random() * n);
    const pad = (n: number, w: number) => String(n).padStart(w, "0");
    for (let i = 0; i < 20_000; i++) {
      let text = `${pad(pick(10_000), 4)}-${pad(pick(14), 2)}-${pad(pick(33), 2)}T${pad(pick(26), 2)}:${pad(pick(62), 2)}:${pad(pick(62), 2)}Z`;
      if (pick(10) === 0) {
        const at = pick(text.length);
        text = text.slice(0, at) + String.fromCharCode(32 + pick(95)) + text.slice(at + 1);
      }
      expect(parseEventTime(text)?.getTime(), text).toBe(reference(text)?.getTime());
    }
  });
});
