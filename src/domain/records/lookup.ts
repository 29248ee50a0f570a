import { createHash } from "node:crypto";
import type { LookupAttribute, LookupEventsRequest } from "@aws-sdk/client-cloudtrail";
import { type CloudTrailError, fail } from "../../api/errors.ts";
import { invalidTimeRange, TIME_RANGE_MESSAGE } from "../../api/messages.ts";
import type { LookupKey, LookupQuery } from "../events.ts";
import { isOneOf, shown } from "../selectors/common.ts";
import { isJsonObject } from "./text.ts";

/**
 * LookupEvents requests: validation with the errors AWS lists for the operation, the default
 * window, and NextToken. Messages AWS has not been seen to give are written in the voice of the
 * ones it has (the first sentence of each lookup-attribute message is the known one).
 */

export const LOOKUP_RETENTION_DAYS = 90;
export const LOOKUP_MAX_RESULTS = 50;
/** AttributeValue limit, counted the way lookupWeight counts. */
export const LOOKUP_VALUE_MAX = 2000;

const DAY_MS = 86_400_000;

export const LOOKUP_KEYS = [
  "EventId",
  "EventName",
  "ReadOnly",
  "Username",
  "EventSource",
  "AccessKeyId",
  "ResourceType",
  "ResourceName",
] as const satisfies readonly LookupKey[];

/** Insights events have no user, key, read-only flag or resources to look them up by. */
const INSIGHT_KEYS: ReadonlySet<LookupKey> = new Set(["EventId", "EventName", "EventSource"]);

export const LOOKUP_MESSAGES = {
  multipleAttributes: "Lookup attribute key can not be multiple.",
  badKey: "Lookup attribute key is not valid.",
  emptyValue: "Lookup attribute value is not valid.",
  longValue: `Lookup attribute value is not valid. It can be at most ${LOOKUP_VALUE_MAX} characters long, where _, space, comma and newline count as two.`,
  readOnlyValue: "Lookup attribute value is not valid. ReadOnly is looked up by true or false.",
  insightKey:
    "Lookup attribute key is not valid. Insights events are looked up by EventId, EventName or EventSource only.",
  timeRange: TIME_RANGE_MESSAGE,
  maxResults: (n: unknown) =>
    `A max results value of ${shown(n)} is invalid. Specify max results between 1 and ${LOOKUP_MAX_RESULTS}.`,
  eventCategory: (v: unknown) => `Event category ${shown(v)} is not valid. The only valid value is insight.`,
  nextToken: "The NextToken is not valid. Use it only with the parameters of the request that returned it.",
} as const;

const SPACE_LIKE: ReadonlySet<string> = new Set(["_", " ", ",", "\n"]);

/** Length of an AttributeValue as AWS counts it against the 2000 limit. */
export function lookupWeight(value: string): number {
  let weight = 0;
  for (const ch of value) weight += SPACE_LIKE.has(ch) ? 2 : 1;
  return weight;
}

function badAttributes(message: string): CloudTrailError {
  return fail("InvalidLookupAttributesException", message);
}

function badToken(): CloudTrailError {
  return fail("InvalidNextTokenException", LOOKUP_MESSAGES.nextToken);
}

function parseAttribute(list: LookupAttribute[] | undefined): LookupQuery["attribute"] {
  if (list === undefined || list.length === 0) return undefined;
  if (list.length > 1) throw badAttributes(LOOKUP_MESSAGES.multipleAttributes);
  const key = list[0]?.AttributeKey;
  const value = list[0]?.AttributeValue;
  if (!isOneOf(LOOKUP_KEYS, key)) throw badAttributes(LOOKUP_MESSAGES.badKey);
  if (value === undefined || value === "") throw badAttributes(LOOKUP_MESSAGES.emptyValue);
  if (lookupWeight(value) > LOOKUP_VALUE_MAX) throw badAttributes(LOOKUP_MESSAGES.longValue);
  if (key === "ReadOnly" && value !== "true" && value !== "false") {
    throw badAttributes(LOOKUP_MESSAGES.readOnlyValue);
  }
  return { key, value };
}

/**
 * A LookupQuery and the moment its first page was asked for. Later pages take their default
 * bounds from that moment, so events arriving meanwhile do not shift the pages.
 */
export interface ParsedLookupQuery extends LookupQuery {
  firstPageAt: Date;
}

export interface LookupContext {
  accountId: string;
  region: string;
  now: Date;
}

export function parseLookupRequest(input: LookupEventsRequest, ctx: LookupContext): ParsedLookupQuery {
  const attribute = parseAttribute(input.LookupAttributes);
  const { EventCategory: eventCategory, MaxResults: maxResults, StartTime: start, EndTime: end } = input;
  if (eventCategory !== undefined && eventCategory !== "insight") {
    throw fail("InvalidEventCategoryException", LOOKUP_MESSAGES.eventCategory(eventCategory));
  }
  const category = eventCategory === "insight" ? "Insight" : "Management";
  if (category === "Insight" && attribute !== undefined && !INSIGHT_KEYS.has(attribute.key)) {
    throw badAttributes(LOOKUP_MESSAGES.insightKey);
  }
  if (
    maxResults !== undefined &&
    !(Number.isInteger(maxResults) && maxResults >= 1 && maxResults <= LOOKUP_MAX_RESULTS)
  ) {
    throw fail("InvalidMaxResultsException", LOOKUP_MESSAGES.maxResults(maxResults));
  }
  if (start !== undefined && end !== undefined && !(start.getTime() <= end.getTime())) {
    throw invalidTimeRange();
  }
  const token = input.NextToken === undefined ? undefined : decodeToken(input.NextToken);
  const firstPageAt = token === undefined ? ctx.now : new Date(token.firstPageAt);
  const query: ParsedLookupQuery = {
    accountId: ctx.accountId,
    region: ctx.region,
    category,
    ...lookupWindow(start, end, firstPageAt),
    limit: maxResults ?? LOOKUP_MAX_RESULTS,
    firstPageAt,
  };
  if (attribute !== undefined) query.attribute = attribute;
  if (token === undefined) return query;
  if (tokenHash(query, token.lastTime, token.lastId) !== token.hash) throw badToken();
  query.after = { eventTime: new Date(token.lastTime), eventId: token.lastId };
  return query;
}

/**
 * Inclusive bounds: EndTime or the moment of the first page; StartTime or the oldest retained
 * moment, and never older than that (AWS answers an older StartTime without an error).
 */
/** How far ahead of the service's clock an eventTime may be before it is called "in the future". */
export const FUTURE_SKEW_MS = 5 * 60_000;

/**
 * What the caller of ingest should know about a record's time: one older than event history's 90
 * days is stored but never found by LookupEvents and purged at the next retention pass; one dated
 * ahead of the service's clock is found only once its time has come. Undefined when neither.
 */
export function eventTimeWarning(time: Date, now: Date): string | undefined {
  const age = now.getTime() - time.getTime();
  if (age > LOOKUP_RETENTION_DAYS * DAY_MS) {
    return `eventTime is older than the ${LOOKUP_RETENTION_DAYS} days of event history: stored, but LookupEvents does not find it and it is purged at the next retention pass`;
  }
  if (-age > FUTURE_SKEW_MS) {
    return `eventTime is ${Math.round(-age / 1000)} s ahead of the service's clock: stored, but LookupEvents finds it only once that time has come`;
  }
  return undefined;
}

function lookupWindow(start: Date | undefined, end: Date | undefined, at: Date): { start: Date; end: Date } {
  const retentionStart = at.getTime() - LOOKUP_RETENTION_DAYS * DAY_MS;
  return {
    start: new Date(Math.max(start?.getTime() ?? retentionStart, retentionStart)),
    end: end ?? at,
  };
}

// ---------------------------------------------------------------------------------------------
// NextToken
//
// The token is base64url JSON: the first page's moment, the last event returned, and a SHA-256
// over those and everything the query is bound to (account, region, category, attribute,
// effective bounds). A follow-up request recomputes its query from its own parameters and the
// token's moment; any parameter changed, or any byte of the token, changes the hash. There is no
// key: a client able to forge a matching hash could only page differently through its own
// account's events, which it may read anyway.

const TOKEN_VERSION = 1;
/**
 * Above any token issued: ingest takes no eventID longer than an AttributeValue may be, so the
 * longest token (2000 control characters, each escaped in six bytes) is about 16,100 characters.
 */
const TOKEN_MAX_LENGTH = 16 * 1024;
const TIME_MS_MAX = 8.64e15;

interface TokenState {
  firstPageAt: number;
  lastTime: number;
  lastId: string;
  hash: string;
}

function tokenHash(query: ParsedLookupQuery, lastTime: number, lastId: string): string {
  const bound = [
    TOKEN_VERSION,
    query.accountId,
    query.region,
    query.category,
    query.attribute?.key ?? null,
    query.attribute?.value ?? null,
    query.start.getTime(),
    query.end.getTime(),
    query.firstPageAt.getTime(),
    lastTime,
    lastId,
  ];
  return createHash("sha256").update(JSON.stringify(bound)).digest("base64url");
}

/** The NextToken of a page whose last (oldest) event is `last`. */
export function encodeLookupToken(
  query: ParsedLookupQuery,
  last: { eventTime: Date; eventId: string },
): string {
  const lastTime = last.eventTime.getTime();
  const state = {
    v: TOKEN_VERSION,
    n: query.firstPageAt.getTime(),
    t: lastTime,
    i: last.eventId,
    h: tokenHash(query, lastTime, last.eventId),
  };
  return Buffer.from(JSON.stringify(state), "utf8").toString("base64url");
}

function isTimeMs(v: unknown): v is number {
  return Number.isSafeInteger(v) && Math.abs(v as number) <= TIME_MS_MAX;
}

function decodeToken(text: string): TokenState {
  if (text.length > TOKEN_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) throw badToken();
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badToken();
  }
  if (
    !isJsonObject(state) ||
    state.v !== TOKEN_VERSION ||
    !isTimeMs(state.n) ||
    !isTimeMs(state.t) ||
    typeof state.i !== "string" ||
    typeof state.h !== "string"
  ) {
    throw badToken();
  }
  return { firstPageAt: state.n, lastTime: state.t, lastId: state.i, hash: state.h };
}
