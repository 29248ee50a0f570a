import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ingestThreadCount, useBuiltIngestThread } from "../../src/workers/ingest-pool.ts";

/**
 * Servers started after this store POST /ingest batches on two ingest threads (the built thread:
 * `npm run build` first; the test command does), next to the request thread's own connection,
 * which stores the API calls' records. Batches go to the threads in turn, so retries, duplicates
 * and trail changes cross connections.
 */
export function useIngestThreads(): void {
  const thread = new URL("../../dist/workers/ingest-thread.js", import.meta.url);
  if (!existsSync(fileURLToPath(thread))) throw new Error("dist is missing: run `npm run build` first");
  useBuiltIngestThread(thread, 2);
  if (ingestThreadCount(1) !== 2) throw new Error("ingest threads are not in use");
}
