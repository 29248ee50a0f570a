import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IdFilter } from "../../src/adapters/sqlite/id-filter.ts";
import { type SqliteDb, SqliteEventStore } from "../../src/adapters/sqlite/index.ts";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import type { LookupQuery } from "../../src/ports/index.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { ACCOUNT, eventId, eventStoreContract, sampleEvent, T0 } from "./event-store.contract.ts";
import { sampleTrail } from "./trail-repo.contract.ts";

const open = sqliteOpener();

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
    open.closeAll();
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

  it("sees eventIDs another connection stored since it last looked", async () => {
    const path = join(dir, "db.sqlite");
    const one = open(path);
    const two = open(path);
    await one.events.append([sampleEvent(1)]);
    await two.events.append([sampleEvent(2, 2, { region: "eu-west-1" })]);
    expect(await one.events.append([sampleEvent(2)])).toEqual({ inserted: 0, duplicates: [eventId(2)] });
  });

  it("catches up on every append of other connections, turn by turn, and after a reset", async () => {
    const path = join(dir, "db.sqlite");
    const conns = [open(path), open(path), open(path)];
    // each connection stores ids 3k+c; then every connection retries every id stored so far
    for (let n = 0; n < 30; n++) {
      const c = conns[n % 3]!;
      expect(await c.events.append([sampleEvent(n + 1, n + 1)])).toEqual({ inserted: 1, duplicates: [] });
      for (const other of conns) {
        const k = 1 + ((n * 7) % (n + 1));
        expect(await other.events.append([sampleEvent(k, k, { region: "eu-west-1" })])).toEqual({
          inserted: 0,
          duplicates: [eventId(k)],
        });
      }
    }
    await conns[0]!.trails.reset();
    expect(await conns[1]!.events.append([sampleEvent(1)])).toEqual({ inserted: 1, duplicates: [] });
    expect(await conns[2]!.events.append([sampleEvent(1)])).toEqual({
      inserted: 0,
      duplicates: [eventId(1)],
    });
    expect(await conns[0]!.events.append([sampleEvent(1)])).toEqual({
      inserted: 0,
      duplicates: [eventId(1)],
    });
  });

  it("re-tokenises events stored before migration 7, once", async () => {
    const path = join(dir, "db.sqlite");
    const old = new Database(path);
    old.pragma("journal_mode = WAL");
    migrate(old, MIGRATIONS.slice(0, 6));
    old
      .prepare(
        "INSERT INTO event_scopes (id, account_id, region, category) VALUES (1, ?, 'us-east-1', 'Management')",
      )
      .run(ACCOUNT);
    const e = sampleEvent(1, 1, { resources: [{ type: "AWS::S3::Bucket", name: "b" }] });
    old
      .prepare(
        `INSERT INTO events (id, scope, event_time, event_id, event_name, event_source, read_only, username,
           access_key_id, resources, record)
         VALUES (CAST(@time AS INTEGER) << 21, 1, @time, @id, @name, @source, 1, @user, @key, @resources, @json)`,
      )
      .run({
        time: e.eventTime.getTime(),
        id: e.eventId,
        name: e.eventName,
        source: e.eventSource,
        user: e.username,
        key: e.accessKeyId,
        resources: JSON.stringify(e.resources),
        json: e.json,
      });
    old.close();

    const sqlite = open(path);
    expect(sqlite.db.prepare("SELECT count(*) AS n FROM event_keys_stale").get()).toEqual({ n: 0 });
    for (const attribute of [
      { key: "EventId", value: e.eventId },
      { key: "ResourceName", value: "b" },
      { key: "Username", value: "alice" },
    ] as const) {
      expect(await sqlite.events.lookup({ ...everything, attribute })).toStrictEqual([e]);
    }
    expect(await sqlite.events.append([{ ...e, region: "eu-west-1" }])).toEqual({
      inserted: 0,
      duplicates: [e.eventId],
    });
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

describe("IdFilter", () => {
  const id = (n: number) =>
    [Math.imul(n, 0x9e3779b1) >>> 0, Math.imul(n ^ 0x5bd1e995, 0x85ebca6b) >>> 0] as const;

  it("never forgets an id it was given, and rarely claims one it was not", () => {
    const filter = new IdFilter(10_000);
    for (let n = 0; n < 10_000; n++) filter.add(id(n));
    for (let n = 0; n < 10_000; n++) expect(filter.mayHave(id(n))).toBe(true);
    let claimed = 0;
    for (let n = 10_000; n < 30_000; n++) if (filter.mayHave(id(n))) claimed++;
    expect(claimed / 20_000).toBeLessThan(0.03);
  });

  it("says when it holds more ids than it was sized for", () => {
    const filter = new IdFilter(3);
    for (let n = 0; n < 3; n++) filter.add(id(n));
    expect(filter.full).toBe(false);
    filter.add(id(3));
    expect(filter.full).toBe(true);
  });
});

/** Makes SQLite itself refuse the insert of an event whose id is in `ids`. */
function refuseIds(db: SqliteDb, ids: readonly string[]): void {
  const list = ids.map((id) => `'${id}'`).join(", ");
  db.db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_id IN (${list})
    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`);
}

const appendNumbers = (db: SqliteDb) =>
  db.db.prepare("SELECT count(DISTINCT append_no) FROM events").pluck().get();

describe("SqliteEventStore group commit", () => {
  it("commits the appends of one turn together and answers each caller with its own result", async () => {
    const db = open(":memory:");
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => db.events.append([sampleEvent(i + 1)])),
    );
    expect(results).toEqual(Array.from({ length: 20 }, () => ({ inserted: 1, duplicates: [] })));
    expect((await db.events.lookup(everything)).map((e) => e.eventId).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => eventId(i + 1)).sort(),
    );
    // one transaction, one append number
    expect(appendNumbers(db)).toBe(1);
  });

  it("reports an id two callers append together as a duplicate to the later one only", async () => {
    const db = open(":memory:");
    const [first, second] = await Promise.all([
      db.events.append([sampleEvent(1), sampleEvent(2)]),
      db.events.append([sampleEvent(2), sampleEvent(3)]),
    ]);
    expect(first).toEqual({ inserted: 2, duplicates: [] });
    expect(second).toEqual({ inserted: 1, duplicates: [eventId(2)] });
    expect(await db.events.lookup(everything)).toHaveLength(3);
  });

  it("gives a failing caller its error and still commits the others", async () => {
    const db = open(":memory:");
    refuseIds(db, [eventId(2)]);
    const outcomes = await Promise.allSettled([
      db.events.append([sampleEvent(1)]),
      db.events.append([sampleEvent(2)]),
      db.events.append([sampleEvent(3)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: "refused by the test" });
    expect((await db.events.lookup(everything)).map((e) => e.eventId).sort()).toEqual([
      eventId(1),
      eventId(3),
    ]);
    // a later append after the failure still finds the ids stored before it
    expect(await db.events.append([sampleEvent(1), sampleEvent(4)])).toEqual({
      inserted: 1,
      duplicates: [eventId(1)],
    });
  });

  it("gives every caller the error when the commit fails for all", async () => {
    const db = open(":memory:");
    refuseIds(db, [eventId(1), eventId(2)]);
    const outcomes = await Promise.allSettled([
      db.events.append([sampleEvent(1)]),
      db.events.append([sampleEvent(2)]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(await db.events.lookup(everything)).toEqual([]);
  });

  it("answers nobody before the commit", async () => {
    const db = open(":memory:");
    let answered = false;
    const pending = db.events.append([sampleEvent(1)]).then(() => {
      answered = true;
    });
    // the commit waits for the end of this turn: nothing is stored and nobody answered yet
    await Promise.resolve();
    expect(answered).toBe(false);
    expect(db.db.prepare("SELECT count(*) FROM events").pluck().get()).toBe(0);
    await pending;
    expect(db.db.prepare("SELECT count(*) FROM events").pluck().get()).toBe(1);
  });
});
