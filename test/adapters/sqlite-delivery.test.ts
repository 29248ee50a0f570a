import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteDeliveryStore } from "../../src/adapters/sqlite/delivery-store.ts";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { deliveryStoreContract } from "./delivery-store.contract.ts";

const open = sqliteOpener();

deliveryStoreContract("SqliteDeliveryStore (:memory:)", async () => {
  const { events, deliveries } = open(":memory:");
  return { events, deliveries };
});

describe("SQLite step 12 (trail incarnations) over an older database", () => {
  it("gives existing destinations and status the creation of their trail, and 0 to a gone trail's", async () => {
    const raw = new Database(":memory:");
    migrate(raw, MIGRATIONS.slice(0, 11));
    const arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t";
    const created = new Date("2026-03-01T12:34:56.789Z");
    raw
      .prepare("INSERT INTO trails (account_id, home_region, name, version, doc) VALUES (?, ?, ?, 1, ?)")
      .run("123456789012", "us-east-1", "t", JSON.stringify({ arn, createdAt: created.toISOString() }));
    raw.exec(
      `INSERT INTO destinations (id, account_id, trail_arn, bucket, prefix, kms_key_id)
         VALUES (1, '123456789012', '${arn}', 'b', '', ''), (2, '123456789012', '${arn}x', 'b', '', '');
       INSERT INTO delivery_status (trail_arn, region, latest_error) VALUES ('${arn}', 'us-east-1', 'NoSuchBucket');
       INSERT INTO pending_files (destination_id, region, key, first_id, last_id) VALUES (1, 'us-east-1', 'k', 1, 1);`,
    );
    migrate(raw, MIGRATIONS);
    const store = new SqliteDeliveryStore(raw);
    expect((await store.destination(1))?.trailCreatedAt).toEqual(created);
    expect((await store.destination(2))?.trailCreatedAt).toBeUndefined();
    expect(
      await store.destinationFor({
        accountId: "123456789012",
        trailArn: arn,
        trailCreatedAt: created,
        bucket: "b",
      }),
    ).toBe(1);
    expect((await store.status(arn, "us-east-1", created)).latestDeliveryError).toBe("NoSuchBucket");
    expect(await store.pendingFiles()).toEqual([
      { destinationId: 1, region: "us-east-1", key: "k", firstId: 1, lastId: 1 },
    ]);
    raw.close();
  });
});
