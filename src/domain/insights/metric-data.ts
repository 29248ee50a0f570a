import type { ListInsightsMetricDataRequest } from "@aws-sdk/client-cloudtrail";
import { type CloudTrailError, fail } from "../../api/errors.ts";
import { invalidNextToken, invalidTimeRange } from "../../api/messages.ts";
import { type InsightType, MINUTE_MS } from "./rule.ts";

/*
 * ListInsightsMetricData from the per-minute counts Insights keeps: the request's rules, and the
 * counts summed per period (insights.md §5). AWS's wording for these refusals is not on record.
 */

const DAY_MS = 86_400_000;
/** How long each granularity is kept (seconds → days). */
const KEPT_DAYS: ReadonlyMap<number, number> = new Map([
  [60, 15],
  [300, 63],
  [3600, 90],
]);
export const MAX_DATA_POINTS = 21_600;

export interface MetricQuery {
  eventSource: string;
  eventName: string;
  type: InsightType;
  /** Error rates: the error code counted. */
  errorCode?: string;
  /** First data point at or after `start`, last before `end` (epoch ms). */
  start: number;
  end: number;
  periodMs: number;
  fillWithZeros: boolean;
  maxResults: number;
}

function invalid(message: string): CloudTrailError {
  return fail("InvalidParameterException", message);
}

function required(value: unknown, member: string): string {
  if (typeof value !== "string" || value === "") throw invalid(`${member} is required.`);
  return value;
}

/** The data point to go on from, from the NextToken a previous page gave for the same query. */
function resumeAt(token: string, q: MetricQuery): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidNextToken();
  }
  const at = (parsed as { at?: unknown } | null)?.at;
  if (
    typeof at !== "number" ||
    !Number.isInteger(at) ||
    at % q.periodMs !== 0 ||
    at < q.start ||
    at >= q.end
  ) {
    throw invalidNextToken();
  }
  return at;
}

export function nextToken(at: number): string {
  return Buffer.from(JSON.stringify({ at }), "utf8").toString("base64url");
}

/** The request as a query; `now` gives the default window and the oldest point kept. */
export function parseMetricRequest(input: ListInsightsMetricDataRequest, now: Date): MetricQuery {
  const eventSource = required(input.EventSource, "EventSource");
  const eventName = required(input.EventName, "EventName");
  const type = input.InsightType;
  if (type !== "ApiCallRateInsight" && type !== "ApiErrorRateInsight") {
    throw invalid("InsightType must be ApiCallRateInsight or ApiErrorRateInsight.");
  }
  const errorCode = type === "ApiErrorRateInsight" ? required(input.ErrorCode, "ErrorCode") : undefined;
  const period = input.Period ?? 3600;
  const keptDays = KEPT_DAYS.get(period);
  if (keptDays === undefined) throw invalid("Period must be 60, 300 or 3600.");
  const dataType = input.DataType ?? "NonZeroData";
  if (dataType !== "NonZeroData" && dataType !== "FillWithZeros") {
    throw invalid("DataType must be NonZeroData or FillWithZeros.");
  }
  const maxResults = input.MaxResults ?? MAX_DATA_POINTS;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > MAX_DATA_POINTS) {
    throw invalid(`MaxResults must be between 1 and ${MAX_DATA_POINTS}.`);
  }
  const endTime = input.EndTime?.getTime() ?? now.getTime();
  const startTime = input.StartTime?.getTime() ?? now.getTime() - 90 * DAY_MS;
  if (startTime >= endTime) throw invalidTimeRange();
  const periodMs = period * 1000;
  const oldest = now.getTime() - keptDays * DAY_MS;
  return {
    eventSource,
    eventName,
    type,
    ...(errorCode === undefined ? {} : { errorCode }),
    start: Math.ceil(Math.max(startTime, oldest) / periodMs) * periodMs,
    end: endTime,
    periodMs,
    fillWithZeros: dataType === "FillWithZeros",
    maxResults,
  };
}

export interface MetricPage {
  timestamps: number[];
  values: number[];
  /** The first data point of the next page. */
  next?: number;
}

/** Sums per-minute counts into the query's periods, from the token's point on. */
export function metricPage(
  q: MetricQuery,
  perMinute: ReadonlyMap<number, number>,
  token?: string,
): MetricPage {
  const perPeriod = new Map<number, number>();
  for (const [minute, calls] of perMinute) {
    const at = Math.floor((minute * MINUTE_MS) / q.periodMs) * q.periodMs;
    perPeriod.set(at, (perPeriod.get(at) ?? 0) + calls);
  }
  const page: MetricPage = { timestamps: [], values: [] };
  const first = token === undefined ? q.start : resumeAt(token, q);
  const points = q.fillWithZeros
    ? Array.from(
        { length: Math.max(0, Math.ceil((q.end - first) / q.periodMs)) },
        (_, i) => first + i * q.periodMs,
      )
    : [...perPeriod.keys()].filter((at) => at >= first && at < q.end).sort((a, b) => a - b);
  for (const at of points) {
    if (page.timestamps.length === q.maxResults) {
      page.next = at;
      break;
    }
    page.timestamps.push(at);
    page.values.push(perPeriod.get(at) ?? 0);
  }
  return page;
}
