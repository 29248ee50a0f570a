import { useIngestThreads } from "../support/ingest-threads.ts";
import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of ingest.test.ts again, on ingest threads, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  useIngestThreads();
  usePostgresServer(TEST_DATABASE);
  await import("./ingest.test.ts");
} else {
  skippedWithoutPostgres("POST /ingest");
}
