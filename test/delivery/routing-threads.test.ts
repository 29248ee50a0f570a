import { useIngestThreads } from "../support/ingest-threads.ts";

// The suite of routing.test.ts again, with ingest threads: see useIngestThreads.
useIngestThreads();
await import("./routing.test.ts");
