import { useIngestThreads } from "../support/ingest-threads.ts";

// The suite of ingest.test.ts again, with ingest threads: see useIngestThreads.
useIngestThreads();
await import("./ingest.test.ts");
