import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of create-trail.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./create-trail.test.ts");
} else {
  skippedWithoutPostgres("create-trail");
}
