import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openSqlite } from "../../src/adapters/sqlite/index.ts";
import { SqliteInsightStore } from "../../src/adapters/sqlite/insight-store.ts";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import type { StoredEvent } from "../../src/ports/index.ts";

const ACCOUNT = "123456789012";
const T0 = Date.UTC(2026, 0, 1);

function event(id: string, minute: number, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    accountId: ACCOUNT,
    region: "us-east-1",
    eventId: id,
    eventTime: new Date(T0 + minute * 60_000 + 1500),
    category: "Management",
    eventName: "CreateUser",
    eventSource: "iam.amazonaws.com",
    readOnly: false,
    resources: [],
    json: JSON.stringify({ eventID: id, ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) }),
    ...extra,
  };
}

const M0 = T0 / 60_000;

describe("Insights counts in SQLite", () => {
  it("counts write calls and failed calls per minute as events are appended, and nothing else", async () => {
    const db = openSqlite(":memory:");
    const store = new SqliteInsightStore(db.db);
    await db.events.append([
      event("a", 0),
      event("b", 0),
      event("c", 1, { errorCode: "AccessDenied" }),
      event("d", 1, { readOnly: true }),
      event("e", 1, { readOnly: true, errorCode: "AccessDenied", eventName: "GetUser" }),
      event("f", 1, { category: "Data", eventName: "PutObject" }),
    ]);
    // a retried event is not counted twice
    await db.events.append([event("a", 0)]);
    const write = await store.counts(ACCOUNT, "us-east-1", "write", M0, M0 + 1);
    expect(write).toEqual([
      {
        minute: M0,
        eventSource: "iam.amazonaws.com",
        eventName: "CreateUser",
        readOnly: false,
        errorCode: "",
        calls: 2,
      },
      {
        minute: M0 + 1,
        eventSource: "iam.amazonaws.com",
        eventName: "CreateUser",
        readOnly: false,
        errorCode: "AccessDenied",
        calls: 1,
      },
    ]);
    const errors = await store.counts(ACCOUNT, "us-east-1", "error", M0, M0 + 1);
    expect(errors.map((c) => [c.eventName, c.readOnly, c.errorCode, c.calls])).toEqual([
      ["CreateUser", false, "AccessDenied", 1],
      ["GetUser", true, "AccessDenied", 1],
    ]);
    const only = await store.counts(ACCOUNT, "us-east-1", "error", M0, M0 + 1, [
      { eventSource: "iam.amazonaws.com", eventName: "GetUser" },
    ]);
    expect(only).toHaveLength(1);
    expect(await store.counts(ACCOUNT, "eu-west-1", "write", M0, M0 + 1)).toEqual([]);
    // retention forgets counts with the events
    await db.events.purgeBefore(new Date(T0 + 60_000));
    expect(await store.counts(ACCOUNT, "us-east-1", "write", M0, M0 + 1)).toHaveLength(1);
    db.close();
  });

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

  it("keeps lanes and queued records in one transaction", async () => {
    const db = openSqlite(":memory:");
    const store = new SqliteInsightStore(db.db);
    const lane = {
      trailArn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
      region: "us-east-1",
      insightType: "ApiCallRateInsight",
      accountId: ACCOUNT,
      destinationId: 1,
      enabledAt: T0,
      nextMinute: M0,
      series: [],
    };
    await store.save([lane], [], [{ accountId: ACCOUNT, json: "{}", destinations: [1] }]);
    expect(await store.lanes()).toEqual([lane]);
    const [queued] = await store.pending();
    expect(queued).toMatchObject({ accountId: ACCOUNT, json: "{}", destinations: [1] });
    await store.appended([queued!.id!]);
    await store.save([], [lane], []);
    expect(await store.lanes()).toEqual([]);
    expect(await store.pending()).toEqual([]);
    db.close();
  });
});
