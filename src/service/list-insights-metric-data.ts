import type { Handler } from "../api/service.ts";
import { metricPage, nextToken, parseMetricRequest } from "../domain/insights/metric-data.ts";
import { MINUTE_MS } from "../domain/insights/rule.ts";
import type { ServiceDeps } from "./types.ts";

/** Management-event Insights metrics of the caller's account and region, from the Insights counts. */
export function listInsightsMetricData(deps: ServiceDeps): Handler<"ListInsightsMetricData"> {
  return async (ctx, input) => {
    const q = parseMetricRequest(input, ctx.clock.now());
    const counts = deps.insightCounts
      ? await deps.insightCounts.counts(
          ctx.accountId,
          ctx.region,
          q.type === "ApiCallRateInsight" ? "write" : "error",
          Math.floor(q.start / MINUTE_MS),
          Math.ceil(q.end / MINUTE_MS) - 1,
          [{ eventSource: q.eventSource, eventName: q.eventName }],
        )
      : [];
    const perMinute = new Map<number, number>();
    for (const c of counts) {
      if (q.errorCode !== undefined && c.errorCode !== q.errorCode) continue;
      perMinute.set(c.minute, (perMinute.get(c.minute) ?? 0) + c.calls);
    }
    const page = metricPage(q, perMinute, input.NextToken);
    return {
      EventSource: q.eventSource,
      EventName: q.eventName,
      InsightType: q.type,
      ...(q.errorCode === undefined ? {} : { ErrorCode: q.errorCode }),
      Timestamps: page.timestamps.map((t) => new Date(t)),
      Values: page.values,
      ...(page.next === undefined ? {} : { NextToken: nextToken(page.next) }),
    };
  };
}
