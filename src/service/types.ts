import type { Trail } from "../domain/trail.ts";
import type {
  DeliveryStore,
  EventStore,
  InsightStore,
  KeyStore,
  ObjectStore,
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
  /** LookupEvents' rate per account and region, as AWS enforces it; absent, no limit. */
  lookupRate?: RateLimit;
}
