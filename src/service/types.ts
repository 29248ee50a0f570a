import type { Trail } from "../domain/trail.ts";
import type {
  CloudWatchLogs,
  DeliveryStore,
  EventStore,
  FileOutbox,
  InsightStore,
  KeyService,
  KeyStore,
  Notifications,
  ObjectStore,
  PolicyEvaluator,
  Roles,
  TrailRepo,
} from "../ports/index.ts";
import type { RateLimit } from "./rate-limit.ts";

/** What the operations need from the outside world. */
export interface ServiceDeps {
  trails: TrailRepo;
  objects: ObjectStore;
  /** Recorded events: event history and the source of delivery. */
  events: EventStore;
  /** Delivery bookkeeping GetTrailStatus reports; absent when nothing delivers. */
  deliveries?: DeliveryStore;
  /** Asks for the trail's pending records to be written out now (StopLogging, DeleteTrail, new destination). */
  flush?: (trail: Trail) => void;
  /** Digest signing keys (ListPublicKeys); absent, the operation answers that it is unavailable. */
  keys?: KeyStore;
  /** Regions this deployment serves; multi-Region trails appear in each. */
  regions: readonly string[];
  /** The per-minute counts Insights keeps (ListInsightsMetricData); absent, no data points. */
  insightCounts?: Pick<InsightStore, "counts">;
  /** aws: bucket and topic policies must let CloudTrail write (default off when absent). */
  policyChecks?: "aws" | "off";
  /** Evaluates resource policies for CloudTrail's principal; absent, no policy is evaluated. */
  policies?: PolicyEvaluator;
  /** SNS; absent or unconfigured, topics are accepted unchecked and nothing is published. */
  notifications?: Notifications;
  /** KMS; absent or unconfigured, a KmsKeyId is kept as its syntax-checked ARN. */
  kmsKeys?: KeyService;
  /** CloudWatch Logs; absent or unconfigured, a trail cannot name a log group. */
  logs?: CloudWatchLogs;
  /** IAM; absent or unconfigured, the CloudWatch Logs role is recorded, not checked. */
  roles?: Roles;
  /** SNS and CloudWatch Logs bookkeeping GetTrailStatus reports; absent when nothing follows delivery. */
  outputs?: Pick<FileOutbox, "outputStatus">;
  /** LookupEvents' rate per account and region, as AWS enforces it; absent, no limit. */
  lookupRate?: RateLimit;
}
