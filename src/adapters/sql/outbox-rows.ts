import type { DeliveredFile, DeliveryStatus, Destination, OutboxBatch } from "../../ports/index.ts";

/** An outbox row with its record, as both SQL backends read it for a log file. */
export interface OutboxRow {
  id: number;
  record: string;
  bytes: number;
  event_time: number;
}

/** The rows of one log file as the delivery worker takes them. */
export function toBatch(rows: OutboxRow[]): OutboxBatch | undefined {
  if (rows.length === 0) return undefined;
  let first = rows[0]!.id;
  let last = first;
  let oldest = rows[0]!.event_time;
  let newest = oldest;
  for (const r of rows) {
    if (r.id < first) first = r.id;
    if (r.id > last) last = r.id;
    if (r.event_time < oldest) oldest = r.event_time;
    if (r.event_time > newest) newest = r.event_time;
  }
  // the body lists records in event time order, ties in outbox order
  const ordered = [...rows].sort((a, b) => a.event_time - b.event_time || a.id - b.id);
  return {
    firstId: first,
    lastId: last,
    records: ordered.map((r) => r.record),
    oldestEventTime: new Date(oldest),
    newestEventTime: new Date(newest),
  };
}

export interface DestinationRow {
  id: number;
  account_id: string;
  trail_arn: string;
  /** The trail's creation in ms; 0 where unknown. */
  trail_created: number;
  bucket: string;
  prefix: string;
  kms_key_id: string;
  /** Absent where the backend has no Insights lanes yet. */
  kind?: string;
}

export function toDestination(r: DestinationRow): Destination {
  return {
    id: r.id,
    accountId: r.account_id,
    trailArn: r.trail_arn,
    ...(r.trail_created ? { trailCreatedAt: new Date(r.trail_created) } : {}),
    bucket: r.bucket,
    ...(r.prefix ? { prefix: r.prefix } : {}),
    ...(r.kms_key_id ? { kmsKeyId: r.kms_key_id } : {}),
    ...(r.kind === "CloudTrail-Insight" ? { kind: r.kind } : {}),
  };
}

export interface StatusRow {
  latest_delivery: number | null;
  latest_error: string | null;
  latest_attempt: number | null;
  latest_success_attempt: number | null;
}

/** A trail's creation as destinations and delivery_status keep it: ms, 0 where unknown. */
export const createdMs = (d: Date | undefined): number => d?.getTime() ?? 0;

/**
 * The status row of a trail; `laneError` is the latest error of a lane of its destinations whose
 * file still fails, which stays visible after a success elsewhere (its new bucket or prefix).
 */
export function toStatus(r: StatusRow | undefined, laneError?: string | null): DeliveryStatus {
  if (!r) return laneError ? { latestDeliveryError: laneError } : {};
  const date = (v: number | null) => (v === null ? undefined : new Date(v));
  return {
    latestDeliveryTime: date(r.latest_delivery),
    latestDeliveryError: r.latest_error ?? laneError ?? undefined,
    latestDeliveryAttemptTime: date(r.latest_attempt),
    latestDeliveryAttemptSucceeded: date(r.latest_success_attempt),
  };
}

export interface DeliveredRow {
  destination_id: number;
  trail_arn: string;
  region: string;
  bucket: string;
  key: string;
  sha256: string;
  oldest: number;
  newest: number;
  delivered_at: number;
}

export function toDeliveredFile(r: DeliveredRow): DeliveredFile {
  return {
    destinationId: r.destination_id,
    trailArn: r.trail_arn,
    region: r.region,
    bucket: r.bucket,
    key: r.key,
    sha256: r.sha256,
    oldestEventTime: new Date(r.oldest),
    newestEventTime: new Date(r.newest),
    deliveredAt: new Date(r.delivered_at),
  };
}
