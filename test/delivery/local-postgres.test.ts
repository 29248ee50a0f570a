import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// The suite of local.test.ts again, with the stores in PostgreSQL (a fresh database per server).
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./local.test.ts");
} else {
  skippedWithoutPostgres("delivery to the local directory");
}
