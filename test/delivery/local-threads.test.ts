import { useIngestThreads } from "../support/ingest-threads.ts";

// The suite of local.test.ts again, with ingest threads: see useIngestThreads.
useIngestThreads();
await import("./local.test.ts");
