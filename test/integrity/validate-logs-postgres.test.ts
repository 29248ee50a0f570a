import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of validate-logs.test.ts again (digests the AWS CLI accepts), with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./validate-logs.test.ts");
} else {
  skippedWithoutPostgres("aws cloudtrail validate-logs");
}
