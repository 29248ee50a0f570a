import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteFileOutbox } from "../../src/adapters/sqlite/file-outbox.ts";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { fileOutboxContract } from "./file-outbox.contract.ts";

const open = sqliteOpener();

fileOutboxContract("SqliteFileOutbox (:memory:)", async () => {
  const { events, deliveries, outputs, trails } = open(":memory:");
  return { events, deliveries, outputs, trails };
});

describe("SQLite step 13 (outputs per trail) over an older database", () => {
  it("gives the files already waiting their destination's trail creation", async () => {
    const raw = new Database(":memory:");
    migrate(raw, MIGRATIONS.slice(0, 12));
    raw.exec(`INSERT INTO destinations (id, account_id, trail_arn, trail_created, bucket, prefix, kms_key_id)
      VALUES (7, '123456789012', 'arn:t', 1700000000000, 'b', '', '')`);
    raw.exec(`INSERT INTO delivered_files (destination_id, trail_arn, region, bucket, key, sha256, oldest, newest, delivered_at)
      VALUES (7, 'arn:t', 'us-east-1', 'b', 'k', 'ab', 1, 2, 3)`);
    migrate(raw, MIGRATIONS);
    const files = await new SqliteFileOutbox(raw).filesFor("sns", "arn:t", "us-east-1", 10);
    expect(files.map((f) => [f.key, f.trailCreatedAt])).toEqual([["k", new Date(1700000000000)]]);
    raw.close();
  });
});
