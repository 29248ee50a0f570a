import type { AdvancedEventSelector, EventSelector } from "@aws-sdk/client-cloudtrail";
import { compileAdvancedSelector, validateAdvancedSelectors } from "./selectors/advanced.ts";
import { compileBasicSelector, validateBasicSelectors } from "./selectors/basic.ts";
import { invalidSelectors } from "./selectors/common.ts";
import { type SelectorRecord, viewRecord } from "./selectors/record.ts";
import type { SelectorConfig } from "./trail.ts";

export {
  ADVANCED_RESOURCE_ARNS_MAX,
  ADVANCED_VALUES_MAX,
  compileCondition,
  OPERATORS,
  TRAIL_EVENT_CATEGORIES,
} from "./selectors/advanced.ts";
export {
  BASIC_DATA_RESOURCE_TYPES,
  BASIC_SELECTORS_MAX,
  DATA_RESOURCE_VALUES_MAX,
  EXCLUDABLE_MANAGEMENT_SOURCES,
  READ_WRITE_TYPES,
} from "./selectors/basic.ts";
export {
  INSIGHT_EVENT_CATEGORIES,
  INSIGHT_TYPES,
  logsDataEvents,
  logsManagementEvents,
  validateInsightSelectors,
} from "./selectors/insights.ts";
export {
  GLOBAL_SERVICE_REGION,
  GLOBAL_SERVICE_SOURCES,
  isGlobalServiceEvent,
  recordCategory,
  type SelectorRecord,
  type TrailCoverage,
  trailCoversRecord,
} from "./selectors/record.ts";

const M = {
  // observed
  both: "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both.",
  neither: "You must specify either EventSelectors or AdvancedEventSelectors.",
  notList: (member: string) => `${member} must be a list.`,
};

function asList<T>(member: string, value: T[] | undefined): T[] | undefined {
  if (value !== undefined && !Array.isArray(value)) throw invalidSelectors(M.notList(member));
  return value;
}

/**
 * PutEventSelectors: "present" means the member is defined. An empty AdvancedEventSelectors
 * list is accepted (the trail then logs nothing); an empty EventSelectors list is not.
 */
export function validateEventSelectors(input: {
  EventSelectors?: EventSelector[];
  AdvancedEventSelectors?: AdvancedEventSelector[];
}): SelectorConfig {
  const basic = asList("EventSelectors", input.EventSelectors);
  const advanced = asList("AdvancedEventSelectors", input.AdvancedEventSelectors);
  if (basic !== undefined && advanced !== undefined && (basic.length > 0 || advanced.length > 0)) {
    throw invalidSelectors(M.both);
  }
  if (basic !== undefined) return { mode: "basic", selectors: validateBasicSelectors(basic) };
  if (advanced !== undefined) return { mode: "advanced", selectors: validateAdvancedSelectors(advanced) };
  throw invalidSelectors(M.neither);
}

/**
 * The trail's selectors as one predicate over records: true when any selector matches. Insights
 * records are governed by insight selectors, so no event selector ever takes one.
 */
export function compileSelectors(config: SelectorConfig): (record: SelectorRecord) => boolean {
  const selectors =
    config.mode === "basic"
      ? config.selectors.map(compileBasicSelector)
      : config.selectors.map(compileAdvancedSelector);
  if (selectors.length === 0) return () => false;
  return (record) => {
    const view = viewRecord(record);
    if (view.category === "Insight") return false;
    for (const matches of selectors) if (matches(view)) return true;
    return false;
  };
}
