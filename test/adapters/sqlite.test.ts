import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "../../src/adapters/sqlite/migrations/index.ts";
import { type Migration, migrate } from "../../src/adapters/sqlite/migrations/migrate.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { sampleTrail, trailRepoContract } from "./trail-repo.contract.ts";

const open = sqliteOpener();

trailRepoContract("SqliteTrailRepo (:memory:)", async () => open(":memory:").trails);

describe("openSqlite on a file", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "opentrail-sqlite-"));
  });

  afterEach(() => {
    open.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses WAL with synchronous=NORMAL", () => {
    const { db } = open(join(dir, "db.sqlite"));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    // 1 is NORMAL
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
  });

  it("keeps trails across close and reopen", async () => {
    const path = join(dir, "db.sqlite");
    const first = open(path);
    await first.trails.create(sampleTrail());
    await first.trails.update(sampleTrail({ version: 2, isLogging: true }));
    first.close();

    const second = open(path);
    expect(await second.trails.get("123456789012", "us-east-1", "trail-1")).toStrictEqual(
      sampleTrail({ version: 2, isLogging: true }),
    );
  });

  it("keeps a commit that was never checkpointed, as after kill -9", async () => {
    const path = join(dir, "db.sqlite");
    const live = open(path);
    await live.trails.create(sampleTrail());
    // The files as a killed process leaves them: the commit sits in the -wal file, the main file
    // has not seen it and nothing was closed. The -shm index is rebuilt on open.
    expect(existsSync(`${path}-wal`)).toBe(true);
    const crashed = join(dir, "crashed.sqlite");
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);

    const reopened = open(crashed);
    expect(await reopened.trails.get("123456789012", "us-east-1", "trail-1")).toStrictEqual(sampleTrail());
  });

  it("close is idempotent", () => {
    const db = open(join(dir, "db.sqlite"));
    db.close();
    expect(() => db.close()).not.toThrow();
  });
});

describe("migrate", () => {
  const steps: Migration[] = [
    { id: 1, name: "one", up: "CREATE TABLE one (x INTEGER)" },
    { id: 2, name: "two", up: "CREATE TABLE two (y INTEGER)" },
  ];
  let db: Database.Database;

  beforeEach(() => {
    db = new Database(":memory:");
  });

  afterEach(() => {
    db.close();
  });

  const version = () => db.pragma("user_version", { simple: true });
  const tables = () =>
    db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => r.name);

  it("applies every step once and records the version", () => {
    expect(migrate(db, steps)).toBe(2);
    expect(version()).toBe(2);
    expect(migrate(db, steps)).toBe(2);
    expect(tables()).toEqual(["one", "two"]);
  });

  it("applies only the steps after the recorded version", () => {
    migrate(db, steps.slice(0, 1));
    expect(version()).toBe(1);
    migrate(db, steps);
    expect(version()).toBe(2);
    expect(tables()).toEqual(["one", "two"]);
  });

  it("refuses a database newer than the migrations it knows", () => {
    migrate(db, steps);
    expect(() => migrate(db, steps.slice(0, 1))).toThrow(/newer/);
  });

  it("refuses ids that are not 1, 2, 3 …", () => {
    expect(() => migrate(db, [steps[1]!])).toThrow(/expected 1/);
    expect(version()).toBe(0);
  });

  it("rolls back a failing step together with the version", () => {
    migrate(db, steps.slice(0, 1));
    const broken: Migration = { id: 2, name: "broken", up: "CREATE TABLE two (y); CREATE TABLE one (x)" };
    expect(() => migrate(db, [steps[0]!, broken])).toThrow();
    expect(version()).toBe(1);
    expect(tables()).toEqual(["one"]);
  });

  it("brings the shipped schema to the last migration", () => {
    migrate(db, MIGRATIONS);
    expect(version()).toBe(MIGRATIONS.length);
  });

  it("counts an outbox written before migration 9 into its lanes", () => {
    migrate(db, MIGRATIONS.slice(0, 8));
    const add = db.prepare(
      "INSERT INTO outbox (destination_id, region, event_rowid, bytes, enqueued_at) VALUES (?, ?, ?, ?, 0)",
    );
    for (const [d, region, bytes] of [
      [1, "us-east-1", 10],
      [1, "us-east-1", 5],
      [1, "eu-west-1", 7],
      [2, "us-east-1", 3],
    ] as const) {
      add.run(d, region, Math.floor(Math.random() * 1e9), bytes);
    }
    migrate(db, MIGRATIONS);
    expect(db.prepare("SELECT * FROM outbox_lanes ORDER BY destination_id, region").all()).toEqual([
      { destination_id: 1, region: "eu-west-1", rows: 1, bytes: 7 },
      { destination_id: 1, region: "us-east-1", rows: 2, bytes: 15 },
      { destination_id: 2, region: "us-east-1", rows: 1, bytes: 3 },
    ]);
  });
});

describe("SqliteTrailRepo.reset", () => {
  it("empties every table of the database", async () => {
    const sqlite = open(":memory:");
    sqlite.db.exec("CREATE TABLE extra (x INTEGER)");
    sqlite.db.prepare("INSERT INTO extra VALUES (1)").run();
    await sqlite.trails.create(sampleTrail());
    await sqlite.trails.reset();
    expect(sqlite.db.prepare("SELECT count(*) AS n FROM extra").get()).toEqual({ n: 0 });
    expect(await sqlite.trails.list("123456789012")).toEqual([]);
  });
});
