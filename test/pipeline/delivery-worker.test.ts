import { getEventListeners } from "node:events";
import { gunzipSync } from "node:zlib";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqlite, type SqliteDb } from "../../src/adapters/sqlite/index.ts";
import { createDeliveryWorker, type DeliveryOptions } from "../../src/pipeline/delivery.ts";
import { type ObjectStore, ObjectStoreError, type StoredEvent } from "../../src/ports/index.ts";

/*
 * The delivery worker over a real SQLite outbox and an object store that the test controls: when
 * files are due, splitting, failures and backoff, and the re-put of a pending file after a crash.
 */

const ACCOUNT = "123456789012";
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`;
const INTERVAL = 60_000;

interface Put {
  bucket: string;
  key: string;
  body: Buffer;
}

/** Records puts; `failWith` makes the next puts fail as a bucket would. */
function memoryStore() {
  const puts: Put[] = [];
  const state = { failWith: undefined as string | undefined, crashAfterPut: false };
  const store: ObjectStore = {
    probeBucket: async () => "ok",
    async putObject(bucket, key, body) {
      if (state.failWith) throw new ObjectStoreError(state.failWith, "put failed");
      puts.push({ bucket, key, body });
      // the object is written, but the process dies before delivery is recorded
      if (state.crashAfterPut) throw new Error("crash");
    },
    getObject: async () => undefined,
    async *listKeys() {},
    deleteObject: async () => {},
    close: async () => {},
  };
  return { store, puts, state };
}

const recordsOf = (put: Put) =>
  (JSON.parse(gunzipSync(put.body).toString("utf8")) as { Records: { eventID: string }[] }).Records;

let db: SqliteDb;
let destination: number;
/** The worker's clock runs `skew` ahead of the wall clock, which stamps outbox rows as they are stored. */
let skew = 0;
let seq = 0;
const clock = { now: () => new Date(Date.now() + skew) };

function event(i: number, region = "us-east-1", time = new Date(Date.now() - 1000 * (i % 7))): StoredEvent {
  const eventId = `e-${String(i).padStart(6, "0")}`;
  return {
    accountId: ACCOUNT,
    region,
    eventId,
    eventTime: time,
    category: "Management",
    resources: [],
    json: JSON.stringify({ eventID: eventId, awsRegion: region, eventTime: time.toISOString() }),
    destinations: [destination],
  };
}

async function append(count: number, region = "us-east-1"): Promise<string[]> {
  const events = Array.from({ length: count }, () => event(seq++, region));
  await db.events.append(events);
  return events.map((e) => e.eventId);
}

function worker(objects: ObjectStore, extra: Partial<DeliveryOptions> = {}) {
  let r = 0;
  return createDeliveryWorker({
    store: db.deliveries,
    objects,
    clock,
    log: pino({ level: "silent" }),
    intervalMs: INTERVAL,
    // distinct, repeatable unique parts
    random: (n) => Uint8Array.from({ length: n }, (_, i) => (r++ * 7 + i) % 256),
    ...extra,
  });
}

beforeEach(async () => {
  db = openSqlite(":memory:");
  skew = 0;
  destination = await db.deliveries.destinationFor({ accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" });
});
afterEach(() => db.close());

describe("when files are written", () => {
  it("waits for the interval, unless drained or asked to flush", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store);
    const ids = await append(3);
    await w.runOnce();
    expect(puts).toEqual([]);
    skew += INTERVAL;
    await w.runOnce();
    expect(puts).toHaveLength(1);
    expect(
      recordsOf(puts[0]!)
        .map((r) => r.eventID)
        .sort(),
    ).toEqual(ids);

    skew = 0;
    await append(2);
    await w.runOnce();
    expect(puts).toHaveLength(1);
    w.requestFlush([destination]);
    await w.runOnce();
    expect(puts).toHaveLength(2);

    await append(1);
    await w.drain();
    expect(puts).toHaveLength(3);
  });

  it("writes a lane early once its bytes reach the flush size, and splits by size and count", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store, { flushBytes: 2_000, maxRecordsPerFile: 7 });
    const ids = await append(60);
    await w.runOnce();
    expect(puts.length).toBeGreaterThan(1);
    const perFile = puts.map(recordsOf);
    for (const records of perFile) {
      expect(records.length).toBeLessThanOrEqual(7);
      expect(records.reduce((n, r) => n + JSON.stringify(r).length, 0)).toBeLessThanOrEqual(2_000);
    }
    expect(
      perFile
        .flat()
        .map((r) => r.eventID)
        .sort(),
    ).toEqual(ids);
  });

  it("keeps regions apart, one file per region, each named for its region", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store);
    await append(2, "us-east-1");
    await append(3, "eu-west-1");
    await w.drain();
    expect(puts.map((p) => p.key.split("/")[3]).sort()).toEqual(["eu-west-1", "us-east-1"]);
    for (const p of puts) {
      const region = p.key.split("/")[3];
      expect(recordsOf(p).every((r) => (r as { awsRegion?: string }).awsRegion === region)).toBe(true);
    }
  });

  it("lists a file's records in eventTime order", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store);
    const times = [5, 1, 4, 2, 3].map((s) => new Date(Date.now() - s * 1000));
    await db.events.append(times.map((t, i) => event(1000 + i, "us-east-1", t)));
    await w.drain();
    const got = recordsOf(puts[0]!).map((r) => (r as { eventTime?: string }).eventTime);
    expect(got).toEqual([...times].sort((a, b) => a.getTime() - b.getTime()).map((t) => t.toISOString()));
  });

  it("orders across appends by eventTime, and records of one millisecond as they were stored", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store);
    const at = (s: number) => new Date(Math.floor(Date.now() / 1000) * 1000 - s * 1000);
    // later appends hold older records, and several appends share a millisecond
    await db.events.append([event(2000, "us-east-1", at(3)), event(2001, "us-east-1", at(9))]);
    await db.events.append([event(2002, "us-east-1", at(3)), event(2003, "us-east-1", at(12))]);
    await db.events.append([event(2004, "us-east-1", at(9)), event(2005, "us-east-1", at(3))]);
    await w.drain();
    expect(puts).toHaveLength(1);
    expect(recordsOf(puts[0]!).map((r) => r.eventID)).toEqual(
      [2003, 2001, 2004, 2000, 2002, 2005].map((i) => `e-00${i}`),
    );
  });

  it("writes the records' texts byte for byte as stored (spacing, multi-byte characters)", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store);
    const texts = ['{"eventID":"e-003000","note":"é ✓ 😀"}', '{ "eventID" : "e-003001" }'];
    await db.events.append(
      texts.map((json, i) => ({
        ...event(3000 + i, "us-east-1", new Date(Date.now() - (2 - i) * 1000)),
        json,
      })),
    );
    await w.drain();
    expect(puts).toHaveLength(1);
    expect(gunzipSync(puts[0]!.body).toString("utf8")).toBe(`{"Records":[${texts.join(",")}]}`);
  });
});

describe("failures", () => {
  it("keeps the records, reports the code, backs off, and delivers once the bucket is back", async () => {
    const { store, puts, state } = memoryStore();
    const w = worker(store);
    const ids = await append(4);
    state.failWith = "NoSuchBucket";
    skew += INTERVAL;
    await w.runOnce();
    const failed = await db.deliveries.status(TRAIL, "us-east-1");
    expect(failed.latestDeliveryError).toBe("NoSuchBucket");
    expect(failed.latestDeliveryAttemptTime!.getTime()).toBeGreaterThan(Date.now());
    expect(failed.latestDeliveryTime).toBeUndefined();

    state.failWith = undefined;
    // still backing off (the clock is set back so that no slowness of the test ends the backoff)
    skew -= 10_000;
    await w.runOnce();
    expect(puts).toEqual([]);
    skew += 70_000;
    await w.runOnce();
    expect(puts).toHaveLength(1);
    expect(
      recordsOf(puts[0]!)
        .map((r) => r.eventID)
        .sort(),
    ).toEqual(ids);
    const back = await db.deliveries.status(TRAIL, "us-east-1");
    expect(back.latestDeliveryError).toBeUndefined();
    expect(back.latestDeliveryTime!.getTime()).toBeGreaterThan(failed.latestDeliveryAttemptTime!.getTime());
    expect(await db.deliveries.backlog()).toEqual([]);
  });

  it("re-puts a file that was written but not recorded with the same key and bytes, once", async () => {
    const { store, puts, state } = memoryStore();
    const ids = await append(25);
    state.crashAfterPut = true;
    await worker(store).drain();
    expect(puts).toHaveLength(1);
    expect(await db.deliveries.pendingFiles()).toHaveLength(1);

    // a new process: another source of randomness, a later clock, more records in the same lane
    state.crashAfterPut = false;
    skew += 5 * INTERVAL;
    const later = await append(5);
    await worker(store).drain();
    expect(puts[1]!.key).toBe(puts[0]!.key);
    expect(puts[1]!.body.equals(puts[0]!.body)).toBe(true);
    const all = puts.slice(1).flatMap(recordsOf);
    expect(all.map((r) => r.eventID).sort()).toEqual([...ids, ...later].sort());
    expect(await db.deliveries.pendingFiles()).toEqual([]);
    expect(await db.deliveries.backlog()).toEqual([]);
  });
});

describe("the backlog", () => {
  /** The backlog counted the slow way, from every outbox row. */
  const counted = () =>
    db.db
      .prepare(
        `SELECT destination_id AS destinationId, region, count(*) AS rows, sum(bytes) AS bytes
         FROM outbox GROUP BY destination_id, region ORDER BY destination_id, region`,
      )
      .all();
  const backlog = async () =>
    (await db.deliveries.backlog())
      .map(({ destinationId, region, rows, bytes }) => ({ destinationId, region, rows, bytes }))
      .sort((a, b) => a.destinationId - b.destinationId || a.region.localeCompare(b.region));

  it("counts each lane's rows and bytes as appends add them and files take them away", async () => {
    const { store, puts, state } = memoryStore();
    const other = await db.deliveries.destinationFor({ accountId: ACCOUNT, trailArn: TRAIL, bucket: "c" });
    const w = worker(store, { maxRecordsPerFile: 4 });
    for (let round = 0; round < 6; round++) {
      const events = Array.from({ length: 3 + round }, (_, i) => ({
        ...event(seq++, i % 3 === 0 ? "eu-west-1" : "us-east-1"),
        destinations: i % 2 === 0 ? [destination, other] : [destination],
      }));
      // a batch with a duplicate: its rows are not counted twice
      await db.events.append(round === 3 ? [...events, events[0]!] : events);
      expect(await backlog()).toEqual(counted());
      state.failWith = round === 2 ? "AccessDenied" : undefined;
      skew += INTERVAL;
      await w.runOnce();
      expect(await backlog()).toEqual(counted());
    }
    await w.drain();
    expect(puts.length).toBeGreaterThan(6);
    expect(counted()).toEqual([]);
    expect(await db.deliveries.backlog()).toEqual([]);
  });

  it("gives each lane the enqueue time of its oldest row", async () => {
    await append(2);
    const [lane] = await db.deliveries.backlog();
    const oldest = db.db.prepare("SELECT min(enqueued_at) AS t FROM outbox").get() as { t: number };
    expect(lane!.oldestEnqueuedAt.getTime()).toBe(oldest.t);
  });
});

describe("the loop", () => {
  it("runs passes until aborted without piling up abort listeners", async () => {
    const { store, puts } = memoryStore();
    const w = worker(store, { tickMs: 1, intervalMs: 0 });
    const controller = new AbortController();
    const loop = w.start(controller.signal);
    // each pass delivers the batch appended before it; ten files are ten passes at least
    for (let i = 0; i < 10; i++) {
      const before = puts.length;
      await append(1);
      while (puts.length === before) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(getEventListeners(controller.signal, "abort").length).toBeLessThanOrEqual(1);
    controller.abort();
    await loop;
  });
});
