import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of update-trail.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./update-trail.test.ts");
} else {
  skippedWithoutPostgres("update-trail");
}
