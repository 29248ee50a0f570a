import { gunzipSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  type LoggingPeriod,
  logFileBody,
  logFileKey,
  loggingAt,
  MAX_LOGGING_PERIODS,
  startPeriod,
  stopPeriod,
  uniquePart,
} from "../../src/domain/log-files.ts";

const ACCOUNT = "111122223333";
const UNIQUE = "Mu0KsOhtH1ar15ZZ";
const at = (iso: string) => new Date(iso);
const ms = (iso: string) => Date.parse(iso);

describe("logFileKey", () => {
  const key = (parts: Partial<Parameters<typeof logFileKey>[0]> = {}) =>
    logFileKey({
      accountId: ACCOUNT,
      region: "us-east-2",
      deliveredAt: at("2015-08-01T02:10:59.999Z"),
      unique: UNIQUE,
      ...parts,
    });

  it("lays out the AWS example key, with the minute of delivery and no seconds", () => {
    expect(key()).toBe(
      `AWSLogs/${ACCOUNT}/CloudTrail/us-east-2/2015/08/01/${ACCOUNT}_CloudTrail_us-east-2_20150801T0210Z_${UNIQUE}.json.gz`,
    );
  });

  it("starts with AWSLogs/ when the prefix is absent or empty", () => {
    expect(key({ prefix: undefined }).startsWith("AWSLogs/")).toBe(true);
    expect(key({ prefix: "" }).startsWith("AWSLogs/")).toBe(true);
  });

  it.each([
    ["audit", "audit/AWSLogs/"],
    ["audit/logs", "audit/logs/AWSLogs/"],
    // joined literally, as validate-logs rebuilds it: no trimming, no collapsing
    ["audit/", "audit//AWSLogs/"],
    ["/audit", "/audit/AWSLogs/"],
    [" spaced ", " spaced /AWSLogs/"],
    ["a//b", "a//b/AWSLogs/"],
  ])("joins the prefix %j with one literal slash", (prefix, head) => {
    const k = key({ prefix });
    expect(k.startsWith(head)).toBe(true);
    expect(k.slice(head.length)).toBe(key().slice("AWSLogs/".length));
  });

  it("zero-pads month, day, hour and minute, and the year to four digits", () => {
    expect(key({ deliveredAt: at("2024-01-02T03:04:05Z") })).toBe(
      `AWSLogs/${ACCOUNT}/CloudTrail/us-east-2/2024/01/02/${ACCOUNT}_CloudTrail_us-east-2_20240102T0304Z_${UNIQUE}.json.gz`,
    );
    const early = new Date(0);
    early.setUTCFullYear(987, 8, 9);
    expect(key({ deliveredAt: early })).toContain("/0987/09/09/");
    expect(key({ deliveredAt: early })).toContain("_09870909T0000Z_");
  });

  it("takes folders and stamp in UTC, whatever the instant's offset was written with", () => {
    expect(key({ deliveredAt: at("2023-12-31T23:59:30-02:00") })).toBe(
      `AWSLogs/${ACCOUNT}/CloudTrail/us-east-2/2024/01/01/${ACCOUNT}_CloudTrail_us-east-2_20240101T0159Z_${UNIQUE}.json.gz`,
    );
  });

  it.each([
    ["2024-02-29T23:59:59.999Z", "2024/02/29", "20240229T2359Z"],
    ["2024-03-01T00:00:00.000Z", "2024/03/01", "20240301T0000Z"],
    ["2099-12-31T12:00:00Z", "2099/12/31", "20991231T1200Z"],
  ])("at %s the folder is %s and the stamp %s", (iso, folder, stamp) => {
    const k = key({ deliveredAt: at(iso) });
    expect(k).toContain(`/us-east-2/${folder}/`);
    expect(k).toContain(`_us-east-2_${stamp}_`);
  });

  it("names the region in the folder and in the file name", () => {
    const k = key({ region: "ap-southeast-2" });
    expect(k).toMatch(/^AWSLogs\/111122223333\/CloudTrail\/ap-southeast-2\/2015\/08\/01\//);
    expect(k).toContain(`${ACCOUNT}_CloudTrail_ap-southeast-2_20150801T0210Z_`);
  });

  it("writes Insights files under CloudTrail-Insight, in the folder and the file name", () => {
    expect(key({ kind: "CloudTrail-Insight", prefix: "p" })).toBe(
      `p/AWSLogs/${ACCOUNT}/CloudTrail-Insight/us-east-2/2015/08/01/${ACCOUNT}_CloudTrail-Insight_us-east-2_20150801T0210Z_${UNIQUE}.json.gz`,
    );
    expect(key({ kind: "CloudTrail" })).toBe(key());
  });
});

describe("uniquePart", () => {
  it("is 16 characters of [A-Za-z0-9] for any bytes", () => {
    for (const fill of [0, 1, 61, 62, 127, 255]) {
      expect(uniquePart(new Uint8Array(16).fill(fill))).toMatch(/^[A-Za-z0-9]{16}$/);
    }
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (let off = 0; off < 256; off += 16) {
      expect(uniquePart(every.subarray(off, off + 16))).toMatch(/^[A-Za-z0-9]{16}$/);
    }
  });

  it("uses every character of the alphabet, one byte per character", () => {
    const seen = new Set<string>();
    const every = Uint8Array.from({ length: 64 }, (_, i) => i);
    for (let off = 0; off < 64; off += 16) {
      for (const c of uniquePart(every.subarray(off, off + 16))) seen.add(c);
    }
    expect(seen.size).toBe(62);
    expect(uniquePart(Uint8Array.from({ length: 16 }, (_, i) => i))).toBe("ABCDEFGHIJKLMNOP");
  });

  it("is a function of its bytes, and reads only the first 16", () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => (i * 37) % 256);
    expect(uniquePart(bytes)).toBe(uniquePart(bytes.slice(0, 16)));
    const other = bytes.slice(0, 16);
    other[15] = (other[15]! + 1) % 256;
    expect(uniquePart(other)).not.toBe(uniquePart(bytes));
  });

  it("refuses fewer than 16 bytes", () => {
    expect(() => uniquePart(new Uint8Array(15))).toThrow();
    expect(() => uniquePart(new Uint8Array(0))).toThrow();
  });
});

describe("logFileBody", () => {
  const r1 = '{"eventID":"1","eventTime":"2024-01-01T00:00:00Z"}';
  const r2 = '{"eventID":"2","requestParameters":{"name":"\\u00e9 \\"q\\""}}';

  it('wraps the record texts as they are in {"Records":[…]}', () => {
    expect(logFileBody([r1])).toBe(`{"Records":[${r1}]}`);
    expect(logFileBody([r1, r2])).toBe(`{"Records":[${r1},${r2}]}`);
    const parsed = JSON.parse(logFileBody([r1, r2])) as { Records: unknown[] };
    expect(parsed).toEqual({ Records: [JSON.parse(r1), JSON.parse(r2)] });
  });

  it("keeps the texts byte for byte (spacing, key order, escapes) and their order", () => {
    const spaced = '{ "b" : 1 ,"a":[ ] }';
    const body = logFileBody([r2, spaced, r1]);
    expect(body).toBe(`{"Records":[${r2},${spaced},${r1}]}`);
  });

  it("survives a gzip round trip as UTF-8", () => {
    const text = '{"eventID":"ü","userAgent":"€ ✓"}';
    const body = logFileBody([text]);
    expect(gunzipSync(gzipSync(Buffer.from(body, "utf8"))).toString("utf8")).toBe(body);
  });

  it("never makes an empty file", () => {
    expect(() => logFileBody([])).toThrow();
  });
});

describe("loggingAt", () => {
  const periods: LoggingPeriod[] = [
    { start: ms("2024-05-01T10:00:00.400Z"), stop: ms("2024-05-01T11:00:00.600Z") },
    { start: ms("2024-05-01T12:00:00.000Z"), stop: ms("2024-05-01T12:30:00.000Z") },
    { start: ms("2024-05-01T13:00:00.250Z") },
  ];
  const exact = (iso: string) => loggingAt(periods, at(iso), true);
  const whole = (iso: string) => loggingAt(periods, at(iso), false);

  it("is false without periods", () => {
    expect(loggingAt([], at("2024-05-01T10:30:00Z"), true)).toBe(false);
    expect(loggingAt([], at("2024-05-01T10:30:00Z"), false)).toBe(false);
  });

  it.each([
    ["2024-05-01T10:00:00.399Z", false],
    ["2024-05-01T10:00:00.400Z", true],
    ["2024-05-01T10:30:00.000Z", true],
    ["2024-05-01T11:00:00.600Z", true],
    ["2024-05-01T11:00:00.601Z", false],
    ["2024-05-01T11:30:00.000Z", false],
    ["2024-05-01T11:59:59.999Z", false],
    ["2024-05-01T12:00:00.000Z", true],
    ["2024-05-01T12:30:00.000Z", true],
    ["2024-05-01T12:30:00.001Z", false],
    ["2024-05-01T13:00:00.249Z", false],
    ["2024-05-01T13:00:00.250Z", true],
    ["2099-01-01T00:00:00.000Z", true],
  ])("exact: at %s logging is %s", (iso, expected) => {
    expect(exact(iso)).toBe(expected);
  });

  it.each([
    // the start counts from its whole second, the stop's second counts in full
    ["2024-05-01T09:59:59Z", false],
    ["2024-05-01T10:00:00Z", true],
    ["2024-05-01T11:00:00Z", true],
    ["2024-05-01T11:00:00.999Z", true],
    ["2024-05-01T11:00:01Z", false],
    ["2024-05-01T11:59:59Z", false],
    ["2024-05-01T12:00:00Z", true],
    ["2024-05-01T12:30:00Z", true],
    ["2024-05-01T12:30:00.999Z", true],
    ["2024-05-01T12:30:01Z", false],
    ["2024-05-01T12:59:59Z", false],
    ["2024-05-01T13:00:00Z", true],
  ])("whole seconds: at %s logging is %s", (iso, expected) => {
    expect(whole(iso)).toBe(expected);
  });

  it("whole seconds take in a period that starts and stops within one second", () => {
    const blink: LoggingPeriod[] = [
      { start: ms("2024-05-01T10:00:00.300Z"), stop: ms("2024-05-01T10:00:00.700Z") },
    ];
    expect(loggingAt(blink, at("2024-05-01T10:00:00Z"), false)).toBe(true);
    expect(loggingAt(blink, at("2024-05-01T10:00:00Z"), true)).toBe(false);
    expect(loggingAt(blink, at("2024-05-01T10:00:00.500Z"), true)).toBe(true);
    expect(loggingAt(blink, at("2024-05-01T10:00:01Z"), false)).toBe(false);
  });

  it("does not depend on the order of the periods", () => {
    const reversed = [...periods].reverse();
    for (const iso of [
      "2024-05-01T10:30:00Z",
      "2024-05-01T11:30:00Z",
      "2024-05-01T12:15:00Z",
      "2024-05-01T14:00:00Z",
    ]) {
      expect(loggingAt(reversed, at(iso), false)).toBe(whole(iso));
      expect(loggingAt(reversed, at(iso), true)).toBe(exact(iso));
    }
  });
});

describe("startPeriod and stopPeriod", () => {
  it("open a period at StartLogging and close the open one at StopLogging", () => {
    const t1 = at("2024-05-01T10:00:00Z");
    const t2 = at("2024-05-01T11:00:00Z");
    const t3 = at("2024-05-01T12:00:00Z");
    let p = startPeriod([], t1);
    expect(p).toEqual([{ start: t1.getTime() }]);
    p = stopPeriod(p, t2);
    expect(p).toEqual([{ start: t1.getTime(), stop: t2.getTime() }]);
    // stopping again leaves closed periods alone
    expect(stopPeriod(p, t3)).toEqual(p);
    p = startPeriod(p, t3);
    expect(p).toEqual([{ start: t1.getTime(), stop: t2.getTime() }, { start: t3.getTime() }]);
    expect(loggingAt(p, at("2024-05-01T11:30:00Z"), true)).toBe(false);
    expect(loggingAt(p, at("2024-05-01T12:30:00Z"), true)).toBe(true);
  });

  it("keep the newest periods only", () => {
    let p: LoggingPeriod[] = [];
    for (let i = 0; i < MAX_LOGGING_PERIODS + 5; i++) {
      p = startPeriod(p, new Date(i * 1000));
      p = stopPeriod(p, new Date(i * 1000 + 500));
    }
    expect(p).toHaveLength(MAX_LOGGING_PERIODS);
    expect(p[0]!.start).toBe(5000);
    expect(p.at(-1)!.start).toBe((MAX_LOGGING_PERIODS + 4) * 1000);
  });

  it("do not change the periods they are given", () => {
    const given: LoggingPeriod[] = [{ start: 1 }];
    stopPeriod(given, new Date(2));
    startPeriod(given, new Date(3));
    expect(given).toEqual([{ start: 1 }]);
  });
});
