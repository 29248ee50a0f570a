import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteInsightStore } from "../../src/adapters/sqlite/insight-store.ts";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { ACCOUNT, insightStoreContract, M0, T0 } from "./insight-store.contract.ts";

const open = sqliteOpener();

insightStoreContract("SqliteInsightStore (:memory:)", async () => {
  const db = open(":memory:");
  return { events: db.events, insights: new SqliteInsightStore(db.db) };
});

describe("SQLite step 10 (insights) over an older database", () => {
  it("counts the events stored before the migration", async () => {
    const raw = new Database(":memory:");
    migrate(raw, MIGRATIONS.slice(0, 9));
    raw.exec(
      `INSERT INTO event_scopes (id, account_id, region, category) VALUES (1, '${ACCOUNT}', 'us-east-1', 'Management')`,
    );
    const insert = raw.prepare(
      `INSERT INTO events (id, scope, event_time, event_id, event_name, event_source, read_only, record)
       VALUES (? << 21, 1, ?, ?, 'CreateUser', 'iam.amazonaws.com', ?, ?)`,
    );
    insert.run(T0 + 1000, T0 + 1000, "x", 0, "{}");
    insert.run(T0 + 2000, T0 + 2000, "y", 1, '{"errorCode":"Throttling"}');
    insert.run(T0 + 3000, T0 + 3000, "z", 1, "{}");
    migrate(raw, MIGRATIONS);
    const store = new SqliteInsightStore(raw);
    expect((await store.counts(ACCOUNT, "us-east-1", "write", M0, M0)).map((c) => c.calls)).toEqual([1]);
    expect((await store.counts(ACCOUNT, "us-east-1", "error", M0, M0)).map((c) => c.errorCode)).toEqual([
      "Throttling",
    ]);
    raw.close();
  });
});
