import type { Logger } from "pino";
import type { Stores } from "../adapters/index.ts";
import type { Route } from "../recording/router.ts";
import { ingestRecords } from "../service/ingest.ts";
import {
  decodeIngestBody,
  type IngestContext,
  type IngestRunner,
  ingestFailure,
  ingestHold,
} from "../wire/ingest.ts";
import type { IngestMemoryView } from "../wire/ingest-memory.ts";
import { largeBatchCollector } from "./large-batch-gc.ts";

export interface IngestRunnerOptions {
  events: Stores["events"];
  route: Route;
  ids: IngestContext["ids"];
  log: Logger;
  /** Largest inflated body of a gzip request (a small body may inflate a thousandfold). */
  maxInflatedBytes: number;
  /** The ingest memory bound (undefined: none); a body that inflates beyond its reservation takes more of it. */
  memory?: IngestMemoryView;
}

/** After a batch that held this much, the thread collects its garbage (large-batch-gc.ts). */
const COLLECT_AFTER_BYTES = 16 * 1024 * 1024;

/**
 * Decodes a batch, stores its records all or nothing, and tells what happened as plain data. The
 * request thread runs it when there are no ingest threads; otherwise each thread runs one.
 */
export function createIngestRunner(opts: IngestRunnerOptions): IngestRunner {
  const collect = largeBatchCollector(COLLECT_AFTER_BYTES);
  return async (batch) => {
    const { requestId } = batch;
    // held until the records are stored: they take memory until then
    const hold = ingestHold(opts.memory, batch.reservedBytes);
    try {
      const body = await decodeIngestBody(batch, opts.maxInflatedBytes, hold);
      if (body.kind === "refused") return body;
      const now = new Date(batch.now);
      const ctx: IngestContext = {
        accountId: batch.accountId,
        region: batch.region,
        clock: { now: () => now },
        ids: opts.ids,
      };
      const outcome = await ingestRecords(opts.events, ctx, body.records, opts.route, body.sentTexts);
      if (outcome.kind === "stored") {
        opts.log.debug(
          { requestId, records: body.records.length, duplicates: outcome.duplicates.length },
          "ingested",
        );
      }
      return outcome;
    } catch (e) {
      return ingestFailure(requestId, e, opts.log);
    } finally {
      collect(batch.reservedBytes + hold.releaseExtra());
    }
  };
}
