import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// kms-written-moved.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./kms-written-moved.test.ts");
} else {
  skippedWithoutPostgres("a file written by a put that looked failed, when the trail moves to another key");
}
