/**
 * The CloudTrail record model: records of API calls to any service, records pushed to the
 * ingest endpoint, what event history keeps of each, and LookupEvents requests and answers.
 */
export {
  ADDITIONAL_DATA_MAX_BYTES,
  buildCallRecord,
  type CallFacts,
  PAYLOAD_FIELD_MAX_BYTES,
  RECORD_EVENT_VERSION,
  type RecordContext,
  type RecordResource,
  type ResourceHint,
  TEXT_FIELD_MAX_BYTES,
  toRecordMembers,
} from "./records/api-call.ts";
export {
  checkIngestRecord,
  type IngestDefaults,
  type IngestResult,
  MAX_RECORD_BYTES,
} from "./records/ingest.ts";
export {
  encodeLookupToken,
  eventTimeWarning,
  FUTURE_SKEW_MS,
  LOOKUP_KEYS,
  LOOKUP_MAX_RESULTS,
  LOOKUP_MESSAGES,
  LOOKUP_RETENTION_DAYS,
  LOOKUP_VALUE_MAX,
  type LookupContext,
  lookupWeight,
  type ParsedLookupQuery,
  parseLookupRequest,
} from "./records/lookup.ts";
export { recordUsername, toLookupEvent, toStoredEvent } from "./records/stored.ts";
export { formatEventTime, parseEventTime, truncateUtf8 } from "./records/text.ts";
