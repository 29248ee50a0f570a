import type { LookupEventsRequest } from "@aws-sdk/client-cloudtrail";
import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors.ts";
import {
  encodeLookupToken,
  LOOKUP_KEYS,
  lookupWeight,
  type ParsedLookupQuery,
  parseLookupRequest,
} from "../../src/domain/records.ts";

const ACCT = "111122223333";
const NOW = new Date("2024-06-01T00:00:00.000Z");
const LATER = new Date("2024-06-01T00:05:00.000Z");
const DAY = 86_400_000;
const CTX = { accountId: ACCT, region: "us-east-1", now: NOW };

const error = (code: ErrorCode, message: string) => expect.objectContaining({ name: code, code, message });

const parse = (input: LookupEventsRequest, ctx = CTX) => parseLookupRequest(input, ctx);
const attr = (AttributeKey: string, AttributeValue?: string) =>
  ({ LookupAttributes: [{ AttributeKey, AttributeValue }] }) as LookupEventsRequest;

const M = {
  multiple: "Lookup attribute key can not be multiple.",
  key: "Lookup attribute key is not valid.",
  empty: "Lookup attribute value is not valid.",
  long: "Lookup attribute value is not valid. It can be at most 2000 characters long, where _, space, comma and newline count as two.",
  readOnly: "Lookup attribute value is not valid. ReadOnly is looked up by true or false.",
  insight:
    "Lookup attribute key is not valid. Insights events are looked up by EventId, EventName or EventSource only.",
  time: "Start time must be earlier than end time.",
  max: (n: string) => `A max results value of ${n} is invalid. Specify max results between 1 and 50.`,
  category: (v: string) => `Event category ${v} is not valid. The only valid value is insight.`,
  token: "The NextToken is not valid. Use it only with the parameters of the request that returned it.",
};

describe("parseLookupRequest: defaults and bounds", () => {
  it("asks for the last 90 days of management events, 50 at a time", () => {
    expect(parse({})).toEqual({
      accountId: ACCT,
      region: "us-east-1",
      category: "Management",
      start: new Date(NOW.getTime() - 90 * DAY),
      end: NOW,
      limit: 50,
      firstPageAt: NOW,
    });
  });

  it("keeps given bounds inside the retention window, inclusive and possibly equal", () => {
    const start = new Date("2024-05-01T00:00:00Z");
    const end = new Date("2024-05-02T00:00:00Z");
    expect(parse({ StartTime: start, EndTime: end })).toMatchObject({ start, end });
    expect(parse({ StartTime: start, EndTime: start })).toMatchObject({ start, end: start });
  });

  it("clamps a StartTime older than 90 days to the retention start, without an error", () => {
    expect(parse({ StartTime: new Date("2020-01-01T00:00:00Z") }).start).toEqual(
      new Date(NOW.getTime() - 90 * DAY),
    );
  });

  it("takes an EndTime in the future and a StartTime after now as they are", () => {
    const future = new Date("2025-01-01T00:00:00Z");
    expect(parse({ EndTime: future }).end).toEqual(future);
    expect(parse({ StartTime: future })).toMatchObject({ start: future, end: NOW });
  });

  it.each([1, 7, 50])("MaxResults %i is the limit", (MaxResults) => {
    expect(parse({ MaxResults }).limit).toBe(MaxResults);
  });

  it.each(LOOKUP_KEYS)("looks up by %s", (key) => {
    const value = key === "ReadOnly" ? "false" : "value";
    expect(parse(attr(key, value)).attribute).toEqual({ key, value });
  });

  it("takes an empty attribute list as no attribute", () => {
    expect(parse({ LookupAttributes: [] })).not.toHaveProperty("attribute");
  });

  it("EventCategory insight selects Insights events, by EventId, EventName or EventSource", () => {
    expect(parse({ EventCategory: "insight" }).category).toBe("Insight");
    for (const key of ["EventId", "EventName", "EventSource"]) {
      expect(parse({ EventCategory: "insight", ...attr(key, "v") })).toMatchObject({
        category: "Insight",
        attribute: { key, value: "v" },
      });
    }
  });
});

describe("parseLookupRequest: errors", () => {
  it("more than one lookup attribute", () => {
    const two = {
      LookupAttributes: [
        { AttributeKey: "EventName", AttributeValue: "a" },
        { AttributeKey: "EventName", AttributeValue: "b" },
      ],
    } as LookupEventsRequest;
    expect(() => parse(two)).toThrow(error("InvalidLookupAttributesException", M.multiple));
  });

  it.each(["Foo", "eventName", "", undefined])("attribute key %j", (key) => {
    expect(() => parse(attr(key as string, "v"))).toThrow(error("InvalidLookupAttributesException", M.key));
  });

  it.each(["", undefined])("attribute value %j", (value) => {
    expect(() => parse(attr("EventName", value))).toThrow(error("InvalidLookupAttributesException", M.empty));
  });

  it("weighs _, space, comma and newline double against the 2000 limit", () => {
    expect(lookupWeight("a_b c,d\ne")).toBe(13);
    // Characters, not UTF-16 units or bytes: an emoji and an é weigh one each.
    expect(lookupWeight("😀é")).toBe(2);
    for (const ok of ["a".repeat(2000), "_".repeat(1000), `${" ".repeat(999)}ab`, "😀".repeat(2000)]) {
      expect(parse(attr("EventName", ok)).attribute?.value).toBe(ok);
    }
    for (const long of ["a".repeat(2001), "_".repeat(1001), `${",".repeat(1000)}a`, "\n".repeat(1001)]) {
      expect(() => parse(attr("EventName", long))).toThrow(error("InvalidLookupAttributesException", M.long));
    }
  });

  it.each(["TRUE", "False", "yes", "1"])("ReadOnly %j", (value) => {
    expect(() => parse(attr("ReadOnly", value))).toThrow(
      error("InvalidLookupAttributesException", M.readOnly),
    );
  });

  it.each(["ReadOnly", "Username", "AccessKeyId", "ResourceType", "ResourceName"])(
    "%s with EventCategory insight",
    (key) => {
      const input = {
        EventCategory: "insight",
        ...attr(key, key === "ReadOnly" ? "true" : "v"),
      } as LookupEventsRequest;
      expect(() => parse(input)).toThrow(error("InvalidLookupAttributesException", M.insight));
    },
  );

  it("StartTime after EndTime", () => {
    const input = { StartTime: new Date("2024-05-02T00:00:00Z"), EndTime: new Date("2024-05-01T23:59:59Z") };
    expect(() => parse(input)).toThrow(error("InvalidTimeRangeException", M.time));
  });

  it.each([0, -1, 51, 1000, 1.5])("MaxResults %d", (MaxResults) => {
    expect(() => parse({ MaxResults })).toThrow(
      error("InvalidMaxResultsException", M.max(String(MaxResults))),
    );
  });

  it.each(["Insight", "INSIGHT", "management", ""])("EventCategory %j", (category) => {
    const input = { EventCategory: category } as LookupEventsRequest;
    expect(() => parse(input)).toThrow(error("InvalidEventCategoryException", M.category(category)));
  });
});

describe("NextToken", () => {
  const last = { eventTime: new Date("2024-05-20T10:00:00Z"), eventId: "e-50" };

  function firstPage(input: LookupEventsRequest): { query: ParsedLookupQuery; token: string } {
    const query = parse(input);
    return { query, token: encodeLookupToken(query, last) };
  }

  const invalid = error("InvalidNextTokenException", M.token);

  it.each<[string, LookupEventsRequest]>([
    ["defaults", {}],
    [
      "an attribute and bounds",
      { ...attr("Username", "alice"), StartTime: new Date("2024-05-01T00:00:00Z") },
    ],
    [
      "explicit bounds",
      { StartTime: new Date("2024-05-01T00:00:00Z"), EndTime: new Date("2024-05-30T00:00:00Z") },
    ],
    ["a StartTime older than retention", { StartTime: new Date("2019-01-01T00:00:00Z") }],
    ["insights", { EventCategory: "insight", ...attr("EventSource", "ec2.amazonaws.com") }],
  ])(
    "round trip with %s: the same query, after the last event, with the end fixed at the first page",
    (_n, input) => {
      const { query, token } = firstPage(input);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      const next = parse({ ...input, NextToken: token }, { ...CTX, now: LATER });
      expect(next).toEqual({ ...query, after: last });
    },
  );

  it("lets the page size change between pages", () => {
    const { query, token } = firstPage({ MaxResults: 5 });
    expect(parse({ MaxResults: 20, NextToken: token })).toEqual({ ...query, limit: 20, after: last });
  });

  it("chains: a token from a later page carries the first page's moment on", () => {
    const { token } = firstPage({});
    const second = parse({ NextToken: token }, { ...CTX, now: LATER });
    const next = { eventTime: new Date("2024-05-10T00:00:00Z"), eventId: "e-100" };
    const third = parse(
      { NextToken: encodeLookupToken(second, next) },
      { ...CTX, now: new Date("2024-07-01T00:00:00Z") },
    );
    expect(third).toMatchObject({ start: second.start, end: NOW, firstPageAt: NOW, after: next });
  });

  it("accepts an event id with any characters", () => {
    const odd = { eventTime: last.eventTime, eventId: 'quote" é 😀 \\ /' };
    const query = parse({});
    expect(parse({ NextToken: encodeLookupToken(query, odd) }).after).toEqual(odd);
  });

  const base: LookupEventsRequest = {
    ...attr("EventName", "CreateTrail"),
    StartTime: new Date("2024-05-01T00:00:00Z"),
  };

  it.each<[string, LookupEventsRequest]>([
    ["another attribute value", { ...base, ...attr("EventName", "DeleteTrail") }],
    ["another attribute key", { ...base, ...attr("EventSource", "CreateTrail") }],
    ["no attribute", { StartTime: base.StartTime }],
    ["another StartTime", { ...base, StartTime: new Date("2024-05-01T00:00:01Z") }],
    ["no StartTime", { LookupAttributes: base.LookupAttributes }],
    ["an EndTime other than the fixed end", { ...base, EndTime: new Date("2024-05-31T00:00:00Z") }],
    ["another category", { ...base, EventCategory: "insight" }],
  ])("refuses a token used with %s", (_n, changed) => {
    const { token } = firstPage(base);
    expect(() => parse({ ...changed, NextToken: token })).toThrow(invalid);
  });

  it("refuses a token in another account or region", () => {
    const { token } = firstPage(base);
    expect(() => parse({ ...base, NextToken: token }, { ...CTX, accountId: "999999999999" })).toThrow(
      invalid,
    );
    expect(() => parse({ ...base, NextToken: token }, { ...CTX, region: "eu-west-1" })).toThrow(invalid);
  });

  it("accepts an EndTime equal to the end the first page fixed (the same request in effect)", () => {
    const { query, token } = firstPage({});
    expect(parse({ EndTime: NOW, NextToken: token }, { ...CTX, now: LATER })).toEqual({
      ...query,
      after: last,
    });
  });

  const decode = (token: string) => JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  const encode = (state: unknown) => Buffer.from(JSON.stringify(state)).toString("base64url");

  it.each<[string, (token: string) => string]>([
    ["empty", () => ""],
    ["not base64url", () => "!!!not-a-token!!!"],
    ["padded base64", (t) => `${t}=`],
    ["not JSON", () => Buffer.from("{nope").toString("base64url")],
    ["JSON that is not an object", () => encode([1, 2, 3])],
    ["cut short", (t) => t.slice(0, t.length - 4)],
    ["one character changed", (t) => `${t.slice(0, 10)}${t[10] === "A" ? "B" : "A"}${t.slice(11)}`],
    ["another version", (t) => encode({ ...decode(t), v: 2 })],
    ["a moved position", (t) => encode({ ...decode(t), t: decode(t).t - 1000 })],
    ["another last event id", (t) => encode({ ...decode(t), i: "e-49" })],
    ["another first-page moment", (t) => encode({ ...decode(t), n: decode(t).n + 1 })],
    ["a moment that is not a time", (t) => encode({ ...decode(t), n: 1e300 })],
    ["a position that is not a number", (t) => encode({ ...decode(t), t: "soon" })],
    ["no hash", (t) => encode({ ...decode(t), h: undefined })],
    ["a hash of something else", (t) => encode({ ...decode(t), h: "A".repeat(43) })],
    ["far too long", () => "A".repeat(20_000)],
  ])("refuses a token that is %s", (_n, tamper) => {
    const { token } = firstPage(base);
    expect(() => parse({ ...base, NextToken: tamper(token) })).toThrow(invalid);
  });

  it("checks the request's own parameters before its token", () => {
    expect(() => parse({ MaxResults: 0, NextToken: "garbage" })).toThrow(
      error("InvalidMaxResultsException", M.max("0")),
    );
  });
});
