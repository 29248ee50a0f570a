import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDb } from "../../src/adapters/sqlite/index.ts";
import { httpClient } from "../../src/client/http.ts";
import { DEFAULT_EVENT_SELECTORS, type Trail } from "../../src/domain/trail.ts";
import type { TrailRepo } from "../../src/ports/index.ts";
import { routedTrailRepo } from "../../src/recording/router.ts";
import { createTrailChanges } from "../../src/recording/trail-changes.ts";
import { describePostgres } from "../support/postgres.ts";
import { closeNodes, startTwoNodes, type TestServer, usePostgresServer } from "../support/server.ts";

const ACCOUNT = "123456789012";

function trail(name: string, version = 1): Trail {
  return {
    accountId: ACCOUNT,
    homeRegion: "us-east-1",
    name,
    arn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${name}`,
    s3BucketName: "logs",
    includeGlobalServiceEvents: true,
    isMultiRegionTrail: false,
    isOrganizationTrail: false,
    logFileValidationEnabled: false,
    isLogging: false,
    hasCustomEventSelectors: false,
    eventSelectors: DEFAULT_EVENT_SELECTORS,
    insightSelectors: [],
    tags: [],
    createdAt: new Date("2026-12-04T00:00:00Z"),
    version,
  };
}

/** `repo` (the SQLite one: a class, whose methods a spread would not copy) with some methods replaced. */
function wrapped(repo: TrailRepo, replaced: Partial<TrailRepo>): TrailRepo {
  return {
    list: (a) => repo.list(a),
    listAll: () => repo.listAll(),
    get: (a, r, n) => repo.get(a, r, n),
    create: (t) => repo.create(t),
    update: (t) => repo.update(t),
    delete: (a, r, n) => repo.delete(a, r, n),
    reset: () => repo.reset(),
    close: () => repo.close(),
    ...replaced,
  };
}

/** The SQLite repository, counting the reads that reach it. */
function counted(repo: TrailRepo): { repo: TrailRepo; reads: () => number } {
  let reads = 0;
  return {
    repo: wrapped(repo, {
      list: (a) => {
        reads++;
        return repo.list(a);
      },
      get: (a, r, n) => {
        reads++;
        return repo.get(a, r, n);
      },
    }),
    reads: () => reads,
  };
}

describe("the service's trails, kept between changes", () => {
  let db: SqliteDb;
  beforeAll(() => {
    db = openSqlite(":memory:");
  });
  afterAll(() => db.close());

  it("reads an account's trails once, and again after each change made or heard", async () => {
    const changes = createTrailChanges();
    const { repo: inner, reads } = counted(db.trails);
    const trails = routedTrailRepo(inner, changes);
    await db.trails.reset();

    expect(await trails.list(ACCOUNT)).toEqual([]);
    await trails.create(trail("a"));
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["a"]);
    expect((await trails.get(ACCOUNT, "us-east-1", "a"))?.name).toBe("a");
    expect(await trails.get(ACCOUNT, "us-east-1", "missing")).toBeUndefined();
    expect(reads()).toBe(2);

    await trails.update({ ...trail("a", 2), s3BucketName: "other" });
    expect((await trails.get(ACCOUNT, "us-east-1", "a"))?.s3BucketName).toBe("other");
    expect(reads()).toBe(3);

    // a change of another node reaches the repository directly, and is heard afterwards
    await db.trails.create(trail("b"));
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["a"]);
    changes.heard(ACCOUNT);
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["a", "b"]);
    await db.trails.delete(ACCOUNT, "us-east-1", "b");
    changes.heard(undefined);
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["a"]);

    // another node's update, not heard yet: a write on the stale version is refused, and the
    // next read is fresh
    await db.trails.update({ ...trail("a", 3), s3BucketName: "third" });
    await expect(trails.update({ ...trail("a", 3), s3BucketName: "mine" })).rejects.toThrow();
    expect((await trails.get(ACCOUNT, "us-east-1", "a"))?.s3BucketName).toBe("third");

    await trails.delete(ACCOUNT, "us-east-1", "a");
    expect(await trails.list(ACCOUNT)).toEqual([]);
  });

  it("does not keep a read that began before a change", async () => {
    const changes = createTrailChanges();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = wrapped(db.trails, {
      list: async (a) => {
        const before = await db.trails.list(a);
        await gate;
        return before;
      },
      close: async () => {},
    });
    const trails = routedTrailRepo(slow, changes);
    await db.trails.reset();
    const early = trails.list(ACCOUNT);
    await db.trails.create(trail("late"));
    changes.heard(ACCOUNT);
    release();
    expect(await early).toEqual([]);
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["late"]);
  });

  it("answers each caller with a list of its own", async () => {
    const trails = routedTrailRepo(db.trails, createTrailChanges());
    await db.trails.reset();
    await trails.create(trail("x"));
    const first = await trails.list(ACCOUNT);
    first.pop();
    expect((await trails.list(ACCOUNT)).map((t) => t.name)).toEqual(["x"]);
  });
});

// A trail change on one node reaches the other node's kept trails through LISTEN/NOTIFY.
describePostgres("trails kept by two nodes on one database", (url) => {
  let one: TestServer;
  let two: TestServer;
  beforeAll(async () => {
    usePostgresServer(url);
    [one, two] = await startTwoNodes({ deliveryIntervalMs: 3_600_000 });
    for (const server of [one, two]) server.createBucket("logs");
  });
  afterAll(async () => {
    await closeNodes(one, two);
  });

  it("shows the other node's CreateTrail, UpdateTrail and DeleteTrail", async () => {
    const a = httpClient({ endpoint: one.url });
    const b = httpClient({ endpoint: two.url });
    expect((await b.describeTrails({})).trailList).toEqual([]);
    // the other node hears each change a moment later
    const poll = { timeout: 5_000, interval: 20 };
    await a.createTrail({ Name: "shared", S3BucketName: "logs" });
    await expect
      .poll(async () => (await b.describeTrails({})).trailList?.map((t) => t.Name), poll)
      .toEqual(["shared"]);

    await a.updateTrail({ Name: "shared", S3KeyPrefix: "p" });
    await expect.poll(async () => (await b.getTrail({ Name: "shared" })).Trail?.S3KeyPrefix, poll).toBe("p");

    await a.startLogging({ Name: "shared" });
    await expect.poll(async () => (await b.getTrailStatus({ Name: "shared" })).IsLogging, poll).toBe(true);

    await a.deleteTrail({ Name: "shared" });
    await expect.poll(async () => (await b.describeTrails({})).trailList, poll).toEqual([]);
  });
});
