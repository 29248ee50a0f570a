import type { Logger } from "pino";
import type { Stores } from "../adapters/index.ts";
import type { Route } from "../recording/router.ts";
import { ingestRecords } from "../service/ingest.ts";
import { decodeIngestBody, type IngestContext, type IngestRunner, ingestFailure } from "../wire/ingest.ts";

export interface IngestRunnerOptions {
  events: Stores["events"];
  route: Route;
  ids: IngestContext["ids"];
  log: Logger;
  /** Largest inflated body of a gzip request (a small body may inflate a thousandfold). */
  maxInflatedBytes: number;
}

/**
 * Decodes a batch, stores its records all or nothing, and tells what happened as plain data. The
 * request thread runs it when there are no ingest threads; otherwise each thread runs one.
 */
export function createIngestRunner(opts: IngestRunnerOptions): IngestRunner {
  return async (batch) => {
    const { requestId } = batch;
    try {
      const body = await decodeIngestBody(batch, opts.maxInflatedBytes);
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
    }
  };
}
