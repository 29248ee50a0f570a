import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { IngestOutcome } from "./api/ingest.ts";
import type { AnsweredRequest } from "./http/server.ts";
import type { Clock, DeliveryStore } from "./ports/index.ts";

/**
 * The server's Prometheus metrics, on a registry of its own (two servers in one process, as in the
 * tests, do not share counters).
 *
 * Labels are bounded: an operation name from a fixed list and an HTTP status, nothing else. Per
 * trail figures are therefore aggregates over the outbox's lanes (one lane is a trail's
 * destination in one region): how many rows wait, in how many lanes, and the age of the oldest,
 * which is the worst delivery lag of any trail. GetTrailStatus names the trail when that lag grows.
 */
export function createMetrics(opts: { deliveries: DeliveryStore; clock: Clock }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "opentrail_" });

  const requests = new Counter({
    name: "opentrail_requests_total",
    help: "Requests answered, by operation and HTTP status",
    labelNames: ["operation", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "opentrail_request_duration_seconds",
    help: "Time from request to answer, by operation",
    labelNames: ["operation"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const recordsStored = new Counter({
    name: "opentrail_records_stored_total",
    help: "Records stored: of calls to this server (api) and of POST /ingest (ingest, duplicates left out)",
    labelNames: ["source"] as const,
    registers: [registry],
  });
  const ingestBatch = new Histogram({
    name: "opentrail_ingest_batch_records",
    help: "Records per POST /ingest batch that was decoded (stored or refused as invalid)",
    buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000],
    registers: [registry],
  });
  const deliveredFiles = new Counter({
    name: "opentrail_log_files_delivered_total",
    help: "Log files written to their bucket",
    registers: [registry],
  });
  const deliveryFailures = new Counter({
    name: "opentrail_delivery_failures_total",
    help: "Log file puts that failed (retried later)",
    registers: [registry],
  });
  const notificationFailures = new Counter({
    name: "opentrail_notification_failures_total",
    help: "SNS notifications of delivered log files that failed",
    registers: [registry],
  });

  const outboxRows = new Gauge({
    name: "opentrail_outbox_rows",
    help: "Records waiting for delivery, over every trail and region",
    registers: [registry],
  });
  const outboxLanes = new Gauge({
    name: "opentrail_outbox_lanes",
    help: "Trail destinations and regions with records waiting",
    registers: [registry],
  });
  const deliveryLag = new Gauge({
    name: "opentrail_delivery_lag_seconds",
    help: "Age of the oldest record waiting for delivery, the largest lag of any trail (0: none waiting)",
    registers: [registry],
  });

  /** The outbox gauges, read from the store at scrape time. */
  async function readOutbox(): Promise<void> {
    const lanes = await opts.deliveries.backlog();
    outboxRows.set(lanes.reduce((sum, lane) => sum + lane.rows, 0));
    outboxLanes.set(lanes.length);
    const oldest = Math.min(...lanes.map((lane) => lane.oldestEnqueuedAt.getTime()));
    const now = opts.clock.now().getTime();
    deliveryLag.set(Number.isFinite(oldest) ? Math.max(0, (now - oldest) / 1000) : 0);
  }

  return {
    answered(a: AnsweredRequest): void {
      requests.inc({ operation: a.operation, status: String(a.status) });
      duration.observe({ operation: a.operation }, a.ms / 1000);
    },
    callRecorded(): void {
      recordsStored.inc({ source: "api" });
    },
    ingested(outcome: IngestOutcome): void {
      if (outcome.kind === "stored") {
        ingestBatch.observe(outcome.eventIds.length);
        recordsStored.inc({ source: "ingest" }, outcome.eventIds.length - outcome.duplicates.length);
      } else if (outcome.kind === "invalid") {
        ingestBatch.observe(outcome.total);
      }
    },
    delivered(): void {
      deliveredFiles.inc();
    },
    deliveryFailed(): void {
      deliveryFailures.inc();
    },
    notificationFailed(): void {
      notificationFailures.inc();
    },
    /** The text exposition `GET /metrics` answers. */
    async scrape(): Promise<{ contentType: string; body: string }> {
      await readOutbox();
      const body = await registry.metrics();
      return { contentType: registry.contentType, body };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
