/**
 * What the selectors read from a CloudTrail record (parsed JSON), and which trails a record's
 * region makes it eligible for. Records come from AWS documentation, from the ingest endpoint
 * and from this service itself, so every accessor accepts any shape and never throws.
 */

/** A CloudTrail record as parsed JSON. */
export type SelectorRecord = Record<string, unknown>;

/** One entry of a record's `resources` list, reduced to what selectors compare. */
export interface RecordResource {
  type: string;
  arn: string;
}

/** A field a selector reads; an absent or non-scalar field reads as "". */
export function fieldText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  return "";
}

/**
 * `eventCategory` when the record has one. Records older than the field (eventVersion < 1.07)
 * are placed by the markers they do carry: Insights records by their eventType, data events by
 * `managementEvent: false`; everything else of that age is a management event.
 */
export function recordCategory(record: SelectorRecord): string {
  const category = record.eventCategory;
  if (typeof category === "string" && category !== "") return category;
  if (record.eventType === "AwsCloudTrailInsight") return "Insight";
  if (record.managementEvent === false) return "Data";
  return "Management";
}

/** true / false, or undefined when the record does not say (then only "All" selects it). */
export function recordReadOnly(record: SelectorRecord): boolean | undefined {
  const v = record.readOnly;
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return undefined;
}

export function recordResources(record: SelectorRecord): RecordResource[] {
  const list = record.resources;
  if (!Array.isArray(list)) return [];
  const out: RecordResource[] = [];
  for (const entry of list) {
    if (entry !== null && typeof entry === "object") {
      const r = entry as Record<string, unknown>;
      out.push({ type: fieldText(r.type), arn: fieldText(r.ARN) });
    }
  }
  return out;
}

/** The derived properties every selector needs, computed once per record. */
export interface RecordView {
  record: SelectorRecord;
  category: string;
  readOnly: boolean | undefined;
  resources: RecordResource[];
}

export function viewRecord(record: SelectorRecord): RecordView {
  return {
    record,
    category: recordCategory(record),
    readOnly: recordReadOnly(record),
    resources: recordResources(record),
  };
}

export function recordUserArn(record: SelectorRecord): string {
  const identity = record.userIdentity;
  if (identity === null || typeof identity !== "object") return "";
  return fieldText((identity as Record<string, unknown>).arn);
}

// ---------------------------------------------------------------------------------------------
// Region and global-service rules

/**
 * Services whose calls CloudTrail records as global service events in us-east-1: IAM, STS (its
 * global endpoint), CloudFront, and console sign-in (AWS names these four as its global
 * services for CloudTrail since the November 2021 change).
 */
export const GLOBAL_SERVICE_SOURCES = [
  "iam.amazonaws.com",
  "sts.amazonaws.com",
  "cloudfront.amazonaws.com",
  "signin.amazonaws.com",
] as const;

export const GLOBAL_SERVICE_REGION = "us-east-1";

const globalSources: ReadonlySet<string> = new Set(GLOBAL_SERVICE_SOURCES);

/** STS calls to a regional endpoint carry that region, so only us-east-1 records are global. */
export function isGlobalServiceEvent(record: SelectorRecord): boolean {
  return record.awsRegion === GLOBAL_SERVICE_REGION && globalSources.has(fieldText(record.eventSource));
}

export interface TrailCoverage {
  homeRegion: string;
  isMultiRegionTrail: boolean;
  includeGlobalServiceEvents: boolean;
}

/**
 * Does the trail receive this record, before its selectors are asked? A single-Region trail
 * takes only its home region's records; a global service event also needs
 * IncludeGlobalServiceEvents (the region check already demands that the trail covers us-east-1).
 */
export function trailCoversRecord(trail: TrailCoverage, record: SelectorRecord): boolean {
  if (!trail.isMultiRegionTrail && fieldText(record.awsRegion) !== trail.homeRegion) return false;
  if (isGlobalServiceEvent(record)) return trail.includeGlobalServiceEvents;
  return true;
}
