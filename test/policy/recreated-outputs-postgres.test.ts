import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// recreated-outputs.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./recreated-outputs.test.ts");
} else {
  skippedWithoutPostgres("a trail created again under a deleted trail's name");
}
