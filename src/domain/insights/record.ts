import { createHash } from "node:crypto";
import { formatEventTime } from "../records/text.ts";
import { type Baseline, type InsightChange, type InsightType, MINUTE_MS } from "./rule.ts";

/*
 * The Insights record of insights.md §4 and §6.4, and its attributions.
 */

/** One Insights series: the subject API, and for error rates the error code. */
export interface InsightSeries {
  eventSource: string;
  eventName: string;
  errorCode?: string;
}

export type AttributeName = "userIdentityArn" | "userAgent" | "errorCode";

/** How often each value of an attribute occurred over a span. */
export type ValueCounts = ReadonlyMap<string, number>;

export interface AttributionValue {
  value: string;
  average: number;
}

/** The top values of each attribute over one span. */
export type AttributeLists = Partial<Record<AttributeName, AttributionValue[]>>;

export interface Attribution {
  attribute: AttributeName;
  insight: AttributionValue[];
  baseline: AttributionValue[];
}

const ATTRIBUTES: readonly AttributeName[] = ["userIdentityArn", "userAgent", "errorCode"];
const TOP = 5;

/** The top five values by count, as averages over `minutes`; by average descending, then value. */
export function topValues(counts: ValueCounts | undefined, minutes: number): AttributionValue[] {
  if (!counts) return [];
  return [...counts]
    .sort(([va, a], [vb, b]) => b - a || (va < vb ? -1 : va > vb ? 1 : 0))
    .slice(0, TOP)
    .map(([value, n]) => ({ value, average: n / minutes }));
}

/** The top values of each attribute's counts over a span of `minutes`. */
export function topLists(
  counts: Partial<Record<AttributeName, ValueCounts>>,
  minutes: number,
): AttributeLists {
  const out: AttributeLists = {};
  for (const attribute of ATTRIBUTES) {
    const values = topValues(counts[attribute], minutes);
    if (values.length > 0) out[attribute] = values;
  }
  return out;
}

/**
 * Attributions in AWS's order from the lists over the Insights span and over the baseline; an
 * attribute with both lists empty is left out.
 */
export function attributions(
  insight: AttributeLists,
  baseline: AttributeLists,
  type: InsightType,
): Attribution[] {
  const out: Attribution[] = [];
  for (const attribute of ATTRIBUTES) {
    // the console shows error-code attributions only for call rates; an error rate's series is one code
    if (attribute === "errorCode" && type !== "ApiCallRateInsight") continue;
    const i = insight[attribute] ?? [];
    const b = baseline[attribute] ?? [];
    if (i.length > 0 || b.length > 0) out.push({ attribute, insight: i, baseline: b });
  }
  return out;
}

/** A UUID-shaped id from a hash of `parts`: a detection evaluated again gets the same ids. */
export function derivedUuid(...parts: readonly (string | number)[]): string {
  const h = createHash("sha256").update(parts.join("\u0000")).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface InsightRecordInput {
  accountId: string;
  region: string;
  type: InsightType;
  series: InsightSeries;
  change: InsightChange;
  baselineMinutes: number;
  attributions: Attribution[];
}

/** Both records of one Insights event share it: account, region, type, series and start minute. */
export function sharedEventIdOf(
  i: Omit<InsightRecordInput, "change" | "baselineMinutes" | "attributions">,
  startMinute: number,
) {
  const { eventSource, eventName, errorCode } = i.series;
  return derivedUuid(
    "insight",
    i.accountId,
    i.region,
    i.type,
    eventSource,
    eventName,
    errorCode ?? "",
    startMinute,
  );
}

function statistics(change: InsightChange, baseline: Baseline, baselineMinutes: number) {
  const start = change.state === "Start";
  return {
    baseline: { average: baseline.mean },
    insight: { average: start ? change.count : change.average },
    insightDuration: start ? 1 : change.duration,
    baselineDuration: baselineMinutes,
  };
}

/** The record of a Start or an End, with the member order of AWS's examples. */
export function insightRecord(i: InsightRecordInput): Record<string, unknown> {
  const { change, series } = i;
  const minute = change.state === "Start" ? change.startMinute : change.startMinute + change.duration;
  const sharedEventID = sharedEventIdOf(i, change.startMinute);
  const details: Record<string, unknown> = {
    state: change.state,
    eventSource: series.eventSource,
    eventName: series.eventName,
    insightType: i.type,
  };
  if (series.errorCode !== undefined) details.errorCode = series.errorCode;
  const context: Record<string, unknown> = {
    statistics: statistics(change, change.baseline, i.baselineMinutes),
  };
  if (i.attributions.length > 0) context.attributions = i.attributions;
  details.insightContext = context;
  return {
    eventVersion: "1.08",
    eventTime: formatEventTime(new Date(minute * MINUTE_MS)),
    awsRegion: i.region,
    eventID: derivedUuid(sharedEventID, change.state, minute),
    eventType: "AwsCloudTrailInsight",
    recipientAccountId: i.accountId,
    sharedEventID,
    insightDetails: details,
    eventCategory: "Insight",
  };
}
