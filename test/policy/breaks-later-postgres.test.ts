import { skippedWithoutPostgres, TEST_DATABASE } from "../support/postgres.ts";
import { usePostgresServer } from "../support/server.ts";

// breaks-later.test.ts again, with the stores in PostgreSQL.
if (TEST_DATABASE) {
  usePostgresServer(TEST_DATABASE);
  await import("./breaks-later.test.ts");
} else {
  skippedWithoutPostgres("a KMS key or topic policy that breaks after CreateTrail");
}
