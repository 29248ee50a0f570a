import type { AdvancedEventSelector, InsightSelector } from "@aws-sdk/client-cloudtrail";
import { type CloudTrailError, fail } from "../../api/errors.ts";
import type { SelectorConfig } from "../trail.ts";
import { compileCondition } from "./advanced.ts";
import { isOneOf, shown } from "./common.ts";

export const INSIGHT_TYPES = ["ApiCallRateInsight", "ApiErrorRateInsight"] as const;
export type InsightTypeName = (typeof INSIGHT_TYPES)[number];
export const INSIGHT_EVENT_CATEGORIES = ["Management", "Data"] as const;
export type InsightEventCategory = (typeof INSIGHT_EVENT_CATEGORIES)[number];

// No AWS wording for these failures is on record; the prerequisite messages restate the
// PutInsightSelectors documentation.
const M = {
  missing: "InsightSelectors must be specified.",
  notObject: "Each element of InsightSelectors must be an insight selector object.",
  type: (v: unknown) =>
    `Value ${shown(v)} for InsightType is invalid. Valid values are: ${INSIGHT_TYPES.join(", ")}`,
  duplicate: (t: string) => `InsightType ${t} is specified more than once.`,
  category: (v: unknown) =>
    `Value ${shown(v)} for EventCategories is invalid. Valid values are: ${INSIGHT_EVENT_CATEGORIES.join(", ")}`,
  noCategories: `EventCategories must contain at least one of: ${INSIGHT_EVENT_CATEGORIES.join(", ")}`,
  needsWriteManagement: (t: string) =>
    `To log ${t} on management events, the trail must log write management events.`,
  needsManagement: (t: string) =>
    `To log ${t} on management events, the trail must log read or write management events.`,
  needsData: (t: string) => `To log ${t} on data events, the trail must log read or write data events.`,
};

function invalidInsights(message: string): CloudTrailError {
  return fail("InvalidInsightSelectorsException", message);
}

// ---------------------------------------------------------------------------------------------
// What a selector configuration logs, as far as Insights prerequisites care

function categoryOf(sel: AdvancedEventSelector): string | undefined {
  return sel.FieldSelectors?.find((f) => f.Field === "eventCategory")?.Equals?.[0];
}

/** Could the selector log a management event whose readOnly is `readOnly`? */
function advancedLogsManagement(sel: AdvancedEventSelector, readOnly: boolean): boolean {
  if (categoryOf(sel) !== "Management") return false;
  const value = String(readOnly);
  return (sel.FieldSelectors ?? []).every((f) => f.Field !== "readOnly" || compileCondition(f)(value));
}

/** Does the trail log management events with this readOnly value (any, when undefined)? */
export function logsManagementEvents(events: SelectorConfig, readOnly?: boolean): boolean {
  const wanted = readOnly === undefined ? [true, false] : [readOnly];
  if (events.mode === "advanced") {
    return events.selectors.some((sel) => wanted.some((ro) => advancedLogsManagement(sel, ro)));
  }
  return events.selectors.some((sel) => {
    if (sel.IncludeManagementEvents === false) return false;
    const rw = sel.ReadWriteType ?? "All";
    return rw === "All" || wanted.includes(rw === "ReadOnly");
  });
}

export function logsDataEvents(events: SelectorConfig): boolean {
  if (events.mode === "advanced") return events.selectors.some((sel) => categoryOf(sel) === "Data");
  return events.selectors.some((sel) => (sel.DataResources ?? []).some((dr) => (dr.Values?.length ?? 0) > 0));
}

function checkPrerequisites(type: InsightTypeName, categories: readonly string[], events: SelectorConfig) {
  if (categories.includes("Management")) {
    if (type === "ApiCallRateInsight" && !logsManagementEvents(events, false)) {
      throw invalidInsights(M.needsWriteManagement(type));
    }
    if (type === "ApiErrorRateInsight" && !logsManagementEvents(events)) {
      throw invalidInsights(M.needsManagement(type));
    }
  }
  if (categories.includes("Data") && !logsDataEvents(events)) throw invalidInsights(M.needsData(type));
}

/**
 * PutInsightSelectors: `[]` turns Insights off. Omitted EventCategories mean Management; the
 * selectors are kept as given (undefined members dropped), so GetInsightSelectors echoes them.
 */
export function validateInsightSelectors(
  list: InsightSelector[] | undefined,
  events: SelectorConfig,
): InsightSelector[] {
  if (!Array.isArray(list)) throw invalidInsights(M.missing);
  const seen = new Set<string>();
  return list.map((sel) => {
    if (sel === null || typeof sel !== "object") throw invalidInsights(M.notObject);
    const type = sel.InsightType;
    if (!isOneOf(INSIGHT_TYPES, type)) throw invalidInsights(M.type(type));
    if (seen.has(type)) throw invalidInsights(M.duplicate(type));
    seen.add(type);
    const given = sel.EventCategories;
    if (given !== undefined) {
      if (!Array.isArray(given) || given.length === 0) throw invalidInsights(M.noCategories);
      for (const c of given) if (!isOneOf(INSIGHT_EVENT_CATEGORIES, c)) throw invalidInsights(M.category(c));
    }
    checkPrerequisites(type, given ?? ["Management"], events);
    return given === undefined ? { InsightType: type } : { InsightType: type, EventCategories: [...given] };
  });
}
