import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDb, SqliteEventStore } from "../../src/adapters/sqlite/index.ts";
import type { LookupQuery } from "../../src/ports/index.ts";
import { ACCOUNT, eventId, eventStoreContract, sampleEvent, T0 } from "./event-store.contract.ts";
import { sampleTrail } from "./trail-repo.contract.ts";

const opened: SqliteDb[] = [];

function open(path: string): SqliteDb {
  const db = openSqlite(path);
  opened.push(db);
  return db;
}

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

eventStoreContract("SqliteEventStore (:memory:)", async () => open(":memory:").events);
eventStoreContract(
  "SqliteEventStore (:memory:, purging 3 at a time)",
  async () => new SqliteEventStore(open(":memory:").db, { purgeChunk: 3 }),
);

const everything: LookupQuery = {
  accountId: ACCOUNT,
  region: "us-east-1",
  category: "Management",
  start: new Date(T0 - 86_400_000),
  end: new Date(T0 + 86_400_000),
  limit: 50,
};

describe("SqliteEventStore on a file", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "opentrail-events-"));
  });

  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps events and their lookup index across close and reopen", async () => {
    const path = join(dir, "db.sqlite");
    const first = open(path);
    await first.events.append([sampleEvent(1), sampleEvent(2, 2, { username: "bob" })]);
    first.close();

    const second = open(path);
    expect(await second.events.lookup(everything)).toStrictEqual([
      sampleEvent(2, 2, { username: "bob" }),
      sampleEvent(1),
    ]);
    const attribute = { key: "Username", value: "bob" } as const;
    expect((await second.events.lookup({ ...everything, attribute })).map((e) => e.eventId)).toEqual([
      eventId(2),
    ]);
    expect(await second.events.append([sampleEvent(1)])).toEqual({ inserted: 0, duplicates: [eventId(1)] });
  });

  it("keeps an appended batch that was never checkpointed, as after kill -9", async () => {
    const path = join(dir, "db.sqlite");
    const live = open(path);
    await live.events.append([sampleEvent(1), sampleEvent(2, 2, { eventName: "CreateTrail" })]);
    // The files as a killed process leaves them: the commit only in the -wal file.
    const crashed = join(dir, "crashed.sqlite");
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);

    const reopened = open(crashed);
    const attribute = { key: "EventName", value: "CreateTrail" } as const;
    expect((await reopened.events.lookup({ ...everything, attribute })).map((e) => e.eventId)).toEqual([
      eventId(2),
    ]);
    expect(await reopened.events.lookup(everything)).toHaveLength(2);
  });

  it("uses 8 KiB pages for a new database", () => {
    const { db } = open(join(dir, "db.sqlite"));
    expect(db.pragma("page_size", { simple: true })).toBe(8192);
  });
});

describe("reset", () => {
  it("forgets events and their lookup index, and stores new ones afterwards", async () => {
    const sqlite = open(":memory:");
    await sqlite.trails.create(sampleTrail());
    await sqlite.events.append([sampleEvent(1), sampleEvent(2, 2, { username: "bob" })]);
    await sqlite.trails.reset();

    expect(await sqlite.events.lookup(everything)).toEqual([]);
    const attribute = { key: "Username", value: "bob" } as const;
    expect(await sqlite.events.lookup({ ...everything, attribute })).toEqual([]);
    expect(await sqlite.events.append([sampleEvent(2, 2, { username: "bob" })])).toEqual({
      inserted: 1,
      duplicates: [],
    });
    expect((await sqlite.events.lookup({ ...everything, attribute })).map((e) => e.eventId)).toEqual([
      eventId(2),
    ]);
    expect(sqlite.db.prepare("SELECT count(*) AS n FROM event_keys_config").get()).not.toEqual({ n: 0 });
  });
});

describe("append", () => {
  it("refuses an event time it cannot order, and stores nothing of that batch", async () => {
    const { events } = open(":memory:");
    const tooLate = sampleEvent(2, 0, { eventTime: new Date("2200-01-01T00:00:00Z") });
    await expect(events.append([sampleEvent(1), tooLate])).rejects.toThrow(RangeError);
    expect(await events.lookup(everything)).toEqual([]);
  });
});
