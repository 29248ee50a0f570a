import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of lookup-events.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./lookup-events.test.ts");
} else {
  skippedWithoutPostgres("lookup-events");
}
