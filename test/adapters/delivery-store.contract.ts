import { beforeEach, describe, expect, it } from "vitest";
import type {
  DeliveredFile,
  DeliveryStore,
  Destination,
  EventStore,
  OutboxBatch,
  PendingFile,
  StoredEvent,
} from "../../src/ports/index.ts";

const ACCOUNT = "123456789012";
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`;
const OTHER_TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/other`;
const EAST = "us-east-1";
const WEST = "eu-west-1";
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
/** When batches arrive, which is their rows' enqueue time. */
const R1 = new Date(T0 + 3_600_000);
const R2 = new Date(T0 + 3_660_000);
const at = (ms: number) => new Date(T0 + 7_200_000 + ms);

/**
 * The delivery store under test and the event store whose appends put rows in its outbox (events
 * stored with `destinations`), over the same storage.
 */
export interface OutboxStores {
  events: EventStore;
  deliveries: DeliveryStore;
}

interface EventSpec {
  /** Destinations that select the event. */
  to: number[];
  /** Event time, seconds after T0; by default the event's number. */
  seconds?: number;
  region?: string;
  /** Length of the record's JSON text, which the outbox counts as its bytes. */
  size?: number;
}

const sortLanes = <T extends { destinationId: number; region: string }>(lanes: T[]) =>
  [...lanes].sort((a, b) => a.destinationId - b.destinationId || (a.region < b.region ? -1 : 1));

/** What every DeliveryStore must do; run it from each adapter's test file. */
export function deliveryStoreContract(name: string, make: () => Promise<OutboxStores>): void {
  describe(`DeliveryStore contract: ${name}`, () => {
    let events: EventStore;
    let store: DeliveryStore;
    let seq: number;
    /** Destinations of TRAIL: bucket "b", and bucket "c" (as after UpdateTrail moved it). */
    let d1: number;
    let d2: number;

    beforeEach(async () => {
      ({ events, deliveries: store } = await make());
      seq = 0;
      d1 = await store.destinationFor({ accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" });
      d2 = await store.destinationFor({ accountId: ACCOUNT, trailArn: TRAIL, bucket: "c" });
    });

    /** A record whose JSON text is exactly `size` ASCII characters long (100 by default). */
    function event(spec: EventSpec): StoredEvent {
      const n = ++seq;
      const eventId = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
      const eventTime = new Date(T0 + (spec.seconds ?? n) * 1000);
      const region = spec.region ?? EAST;
      const body = { eventID: eventId, awsRegion: region, pad: "" };
      const size = spec.size ?? 100;
      body.pad = "x".repeat(size - JSON.stringify(body).length);
      return {
        accountId: ACCOUNT,
        region,
        eventId,
        eventTime,
        category: "Management",
        resources: [],
        json: JSON.stringify(body),
        destinations: spec.to,
      };
    }

    /** Stores the events as one batch that arrived at `receivedAt`; returns their record texts. */
    async function append(specs: EventSpec[], receivedAt = R1): Promise<string[]> {
      const batch = specs.map(event);
      await events.append(batch, receivedAt);
      return batch.map((e) => e.json);
    }

    function pendingOf(destinationId: number, region: string, batch: OutboxBatch, key = "k"): PendingFile {
      return { destinationId, region, key, firstId: batch.firstId, lastId: batch.lastId };
    }

    function deliveredOf(
      file: PendingFile,
      batch: OutboxBatch,
      deliveredAt: Date,
      destination: Pick<Destination, "trailArn" | "bucket"> = { trailArn: TRAIL, bucket: "b" },
    ): DeliveredFile {
      return {
        destinationId: file.destinationId,
        trailArn: destination.trailArn,
        region: file.region,
        bucket: destination.bucket,
        key: file.key,
        sha256: "ab".repeat(32),
        oldestEventTime: batch.oldestEventTime,
        newestEventTime: batch.newestEventTime,
        deliveredAt,
      };
    }

    /** The delivery worker's steps for the lane's next file, as it takes them. */
    async function deliver(
      destinationId: number,
      region: string,
      deliveredAt: Date,
      opts: { maxRecords?: number; key?: string } = {},
    ): Promise<DeliveredFile> {
      const batch = await store.nextBatch(destinationId, region, opts.maxRecords ?? 1000, 1 << 30);
      if (!batch) throw new Error(`nothing to deliver in ${destinationId}/${region}`);
      const file = pendingOf(destinationId, region, batch, opts.key ?? `file-${deliveredAt.getTime()}`);
      await store.writePending(file);
      const delivered = deliveredOf(file, batch, deliveredAt, await store.destination(destinationId));
      await store.completeFile(file, delivered);
      return delivered;
    }

    describe("destinationFor and destination", () => {
      it("gives the same destination for the same settings", async () => {
        expect(await store.destinationFor({ accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" })).toBe(d1);
        const full = { accountId: ACCOUNT, trailArn: TRAIL, bucket: "b", prefix: "p", kmsKeyId: "k" };
        const id = await store.destinationFor(full);
        expect(await store.destinationFor({ ...full })).toBe(id);
        // what a trail without a prefix or key passes: its members, undefined
        expect(
          await store.destinationFor({
            accountId: ACCOUNT,
            trailArn: TRAIL,
            bucket: "b",
            prefix: undefined,
            kmsKeyId: undefined,
          }),
        ).toBe(d1);
      });

      it("gives a new destination when the bucket, prefix or KMS key changes, and the old one back", async () => {
        const base = { accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" };
        const prefixed = await store.destinationFor({ ...base, prefix: "p" });
        const otherPrefix = await store.destinationFor({ ...base, prefix: "q" });
        const encrypted = await store.destinationFor({ ...base, kmsKeyId: "k" });
        const both = await store.destinationFor({ ...base, prefix: "p", kmsKeyId: "k" });
        const ids = [d1, d2, prefixed, otherPrefix, encrypted, both];
        expect(new Set(ids).size).toBe(ids.length);
        expect(await store.destinationFor(base)).toBe(d1);
        expect(await store.destinationFor({ ...base, prefix: "p" })).toBe(prefixed);
      });

      it("keeps trails apart even on one bucket", async () => {
        const other = await store.destinationFor({ accountId: ACCOUNT, trailArn: OTHER_TRAIL, bucket: "b" });
        expect(other).not.toBe(d1);
        expect((await store.destination(other))?.trailArn).toBe(OTHER_TRAIL);
      });

      it("gives a trail's Insights files a destination of their own, and says its kind", async () => {
        const base = { accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" };
        const insights = await store.destinationFor({ ...base, kind: "CloudTrail-Insight" });
        expect(insights).not.toBe(d1);
        expect(await store.destinationFor({ ...base, kind: "CloudTrail" })).toBe(d1);
        expect(await store.destinationFor({ ...base, kind: "CloudTrail-Insight" })).toBe(insights);
        expect(await store.destination(insights)).toStrictEqual({
          id: insights,
          ...base,
          kind: "CloudTrail-Insight",
        } satisfies Destination);
      });

      it("answers a destination by id, without a prefix or KMS key it does not have", async () => {
        const full = { accountId: ACCOUNT, trailArn: TRAIL, bucket: "b", prefix: "p/q", kmsKeyId: "alias/k" };
        const id = await store.destinationFor(full);
        expect(await store.destination(id)).toStrictEqual({ id, ...full } satisfies Destination);
        expect(await store.destination(d1)).toStrictEqual({
          id: d1,
          accountId: ACCOUNT,
          trailArn: TRAIL,
          bucket: "b",
        } satisfies Destination);
        expect(await store.destination(Math.max(d1, d2, id) + 1000)).toBeUndefined();
      });
    });

    describe("backlog", () => {
      it("is empty without outbox rows, also for events no destination selects", async () => {
        expect(await store.backlog()).toEqual([]);
        await append([{ to: [] }, { to: [] }]);
        await events.append([{ ...event({ to: [] }), destinations: undefined }]);
        expect(await store.backlog()).toEqual([]);
      });

      it("counts rows and JSON bytes per destination and region, with the oldest row's enqueue time", async () => {
        await append([
          { to: [d1], size: 100 },
          { to: [d1], size: 120 },
          { to: [d1, d2], region: WEST, size: 150 },
        ]);
        await append(
          [
            { to: [d1], size: 90 },
            { to: [d2], size: 110 },
          ],
          R2,
        );
        expect(sortLanes(await store.backlog())).toEqual([
          { destinationId: d1, region: WEST, rows: 1, bytes: 150, oldestEnqueuedAt: R1 },
          { destinationId: d1, region: EAST, rows: 3, bytes: 310, oldestEnqueuedAt: R1 },
          { destinationId: d2, region: WEST, rows: 1, bytes: 150, oldestEnqueuedAt: R1 },
          { destinationId: d2, region: EAST, rows: 1, bytes: 110, oldestEnqueuedAt: R2 },
        ]);
      });

      it("adds no rows for an event appended again", async () => {
        const first = event({ to: [d1] });
        await events.append([first], R1);
        await events.append([first, { ...first }], R2);
        expect(await store.backlog()).toEqual([
          { destinationId: d1, region: EAST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
        ]);
      });
    });

    describe("nextBatch", () => {
      it("is undefined for a lane without rows", async () => {
        await append([{ to: [d1] }]);
        expect(await store.nextBatch(d1, WEST, 10, 10_000)).toBeUndefined();
        expect(await store.nextBatch(d2, EAST, 10, 10_000)).toBeUndefined();
        expect(await store.nextBatch(d2 + 1000, EAST, 10, 10_000)).toBeUndefined();
      });

      it("takes at most maxRecords of the oldest rows, and takes nothing away", async () => {
        const records = await append([{ to: [d1] }, { to: [d1] }, { to: [d1] }]);
        records.push(...(await append([{ to: [d1] }, { to: [d1] }], R2)));
        const batch = await store.nextBatch(d1, EAST, 3, 1 << 30);
        expect(batch?.records).toEqual(records.slice(0, 3));
        expect(batch!.firstId).toBeLessThan(batch!.lastId);
        expect(await store.nextBatch(d1, EAST, 3, 1 << 30)).toStrictEqual(batch);
        expect((await store.nextBatch(d1, EAST, 100, 1 << 30))?.records).toEqual(records);
        expect((await store.backlog())[0]?.rows).toBe(5);
      });

      it("stops before the row that would pass maxBytes, but never leaves a lane stuck on a large row", async () => {
        const records = await append([
          { to: [d1], size: 100 },
          { to: [d1], size: 100 },
          { to: [d1], size: 100 },
          { to: [d1], size: 100 },
        ]);
        const take = async (maxBytes: number) => (await store.nextBatch(d1, EAST, 100, maxBytes))?.records;
        expect(await take(300)).toEqual(records.slice(0, 3));
        expect(await take(299)).toEqual(records.slice(0, 2));
        expect(await take(400)).toEqual(records);
        expect(await take(50)).toEqual(records.slice(0, 1));
      });

      it("lists records in event time order, with the oldest and newest event times", async () => {
        const [late, early] = await append([
          { to: [d1], seconds: 30 },
          { to: [d1], seconds: 10 },
        ]);
        const [middle] = await append([{ to: [d1], seconds: 20 }], R2);
        const batch = await store.nextBatch(d1, EAST, 100, 1 << 30);
        expect(batch?.records).toEqual([early, middle, late]);
        expect(batch?.oldestEventTime).toEqual(new Date(T0 + 10_000));
        expect(batch?.newestEventTime).toEqual(new Date(T0 + 30_000));
        // the next rows are the first stored, whatever their event times; then sorted by time
        const two = await store.nextBatch(d1, EAST, 2, 1 << 30);
        expect(two?.records).toEqual([early, late]);
        expect(two?.oldestEventTime).toEqual(new Date(T0 + 10_000));
        expect(two?.newestEventTime).toEqual(new Date(T0 + 30_000));
      });

      it("keeps destinations and regions apart", async () => {
        const [a, b, c, d] = await append([
          { to: [d1] },
          { to: [d1], region: WEST },
          { to: [d2] },
          { to: [d1, d2], region: WEST },
        ]);
        const records = async (id: number, region: string) =>
          (await store.nextBatch(id, region, 100, 1 << 30))?.records;
        expect(await records(d1, EAST)).toEqual([a]);
        expect(await records(d1, WEST)).toEqual([b, d]);
        expect(await records(d2, EAST)).toEqual([c]);
        expect(await records(d2, WEST)).toEqual([d]);
      });
    });

    describe("pending files", () => {
      it("lists what writePending wrote, and nothing before", async () => {
        expect(await store.pendingFiles()).toEqual([]);
        await append([{ to: [d1] }, { to: [d1], region: WEST }, { to: [d2] }]);
        const east = pendingOf(d1, EAST, (await store.nextBatch(d1, EAST, 10, 1 << 30))!, "east.json.gz");
        const west = pendingOf(d1, WEST, (await store.nextBatch(d1, WEST, 10, 1 << 30))!, "west.json.gz");
        await store.writePending(east);
        await store.writePending(west);
        expect(sortLanes(await store.pendingFiles())).toEqual(sortLanes([east, west]));
        // a pending file is only written down: its rows still wait
        expect(sortLanes(await store.backlog()).map((l) => l.rows)).toEqual([1, 1, 1]);
      });

      it("batchOf gives a pending file's rows again, identical, after more rows arrived", async () => {
        await append([
          { to: [d1], seconds: 30 },
          { to: [d1], seconds: 10 },
          { to: [d1], seconds: 20 },
        ]);
        const batch = (await store.nextBatch(d1, EAST, 2, 1 << 30))!;
        const file = pendingOf(d1, EAST, batch);
        await store.writePending(file);
        await append(
          [
            { to: [d1], seconds: 5 },
            { to: [d1], seconds: 40 },
          ],
          R2,
        );
        expect(await store.batchOf(file)).toStrictEqual(batch);
        const [listed] = await store.pendingFiles();
        expect(await store.batchOf(listed!)).toStrictEqual(batch);
      });

      it("batchOf is undefined once the file's rows are delivered", async () => {
        await append([{ to: [d1] }, { to: [d1] }]);
        const batch = (await store.nextBatch(d1, EAST, 10, 1 << 30))!;
        const file = pendingOf(d1, EAST, batch);
        await store.writePending(file);
        await store.completeFile(file, deliveredOf(file, batch, at(0)));
        expect(await store.batchOf(file)).toBeUndefined();
      });
    });

    describe("moveLane", () => {
      it("moves a lane's rows and counts to another destination after its own, and drops the pending file", async () => {
        const old = await append([{ to: [d1] }, { to: [d1] }, { to: [d1], region: WEST }]);
        const stuck = pendingOf(d1, EAST, (await store.nextBatch(d1, EAST, 1, 1 << 30))!);
        await store.writePending(stuck);
        const current = await append([{ to: [d2] }], R2);
        expect(await store.moveLane(d1, EAST, d2)).toBe(true);
        expect(await store.pendingFiles()).toEqual([]);
        expect(sortLanes(await store.backlog())).toEqual(
          sortLanes([
            { destinationId: d1, region: WEST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
            { destinationId: d2, region: EAST, rows: 3, bytes: 300, oldestEnqueuedAt: R1 },
          ]),
        );
        const batch = (await store.nextBatch(d2, EAST, 10, 1 << 30))!;
        expect(batch.records).toEqual([old[0], old[1], ...current]);
        const file = pendingOf(d2, EAST, batch);
        await store.writePending(file);
        await store.completeFile(file, deliveredOf(file, batch, at(0), { trailArn: TRAIL, bucket: "c" }));
        expect(await store.backlog()).toEqual([
          { destinationId: d1, region: WEST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
        ]);
      });

      it("moves nothing while the target lane has a pending file", async () => {
        await append([{ to: [d1] }, { to: [d2] }]);
        const target = pendingOf(d2, EAST, (await store.nextBatch(d2, EAST, 10, 1 << 30))!);
        await store.writePending(target);
        expect(await store.moveLane(d1, EAST, d2)).toBe(false);
        expect(sortLanes(await store.backlog()).map((l) => [l.destinationId, l.rows])).toEqual(
          sortLanes([
            { destinationId: d1, region: EAST },
            { destinationId: d2, region: EAST },
          ]).map((l) => [l.destinationId, 1]),
        );
        expect(await store.batchOf(target)).toBeDefined();
      });
    });

    describe("completeFile", () => {
      it("drops the file's rows and its pending entry, and leaves later rows and other lanes", async () => {
        const first = await append([{ to: [d1] }, { to: [d1] }, { to: [d1, d2] }]);
        const batch = (await store.nextBatch(d1, EAST, 2, 1 << 30))!;
        const file = pendingOf(d1, EAST, batch);
        await store.writePending(file);
        const other = pendingOf(d2, EAST, (await store.nextBatch(d2, EAST, 10, 1 << 30))!);
        await store.writePending(other);
        const later = await append([{ to: [d1], size: 90 }], R2);

        await store.completeFile(file, deliveredOf(file, batch, at(0)));
        expect(await store.pendingFiles()).toEqual([other]);
        expect(sortLanes(await store.backlog())).toEqual([
          // the third row of the first batch is now the lane's oldest
          { destinationId: d1, region: EAST, rows: 2, bytes: 190, oldestEnqueuedAt: R1 },
          { destinationId: d2, region: EAST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
        ]);
        expect((await store.nextBatch(d1, EAST, 10, 1 << 30))?.records).toEqual([first[2], ...later]);
      });

      it("takes the lane out of the backlog with its last row", async () => {
        await append([{ to: [d1] }, { to: [d1] }]);
        await append([{ to: [d1] }], R2);
        await append([{ to: [d1], region: WEST }]);
        await deliver(d1, EAST, at(0), { maxRecords: 2 });
        expect(sortLanes(await store.backlog())).toEqual([
          { destinationId: d1, region: WEST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
          { destinationId: d1, region: EAST, rows: 1, bytes: 100, oldestEnqueuedAt: R2 },
        ]);
        await deliver(d1, EAST, at(1000));
        expect(await store.backlog()).toEqual([
          { destinationId: d1, region: WEST, rows: 1, bytes: 100, oldestEnqueuedAt: R1 },
        ]);
        expect(await store.nextBatch(d1, EAST, 10, 1 << 30)).toBeUndefined();
      });

      it("records the delivered file and the trail's latest delivery, clearing an earlier error", async () => {
        await append([{ to: [d1] }]);
        await store.recordAttempt(TRAIL, EAST, at(0), "NoSuchBucket");
        const delivered = await deliver(d1, EAST, at(5000));
        expect(await store.deliveredFiles(TRAIL, EAST, at(0), at(10_000))).toStrictEqual([delivered]);
        const status = await store.status(TRAIL, EAST);
        expect(status).toEqual({
          latestDeliveryTime: at(5000),
          latestDeliveryAttemptTime: at(5000),
          latestDeliveryAttemptSucceeded: at(5000),
        });
        expect(status.latestDeliveryError).toBeUndefined();
        expect(await store.status(TRAIL, WEST)).toEqual({});
      });
    });

    describe("recordAttempt and status", () => {
      it("has nothing for a trail and region without attempts", async () => {
        const status = await store.status(TRAIL, EAST);
        expect(status).toEqual({});
        for (const value of Object.values(status)) expect(value).toBeUndefined();
      });

      it("a failure sets the error and the attempt time and keeps the last success", async () => {
        await store.recordAttempt(TRAIL, EAST, at(0), "NoSuchBucket");
        expect(await store.status(TRAIL, EAST)).toEqual({
          latestDeliveryError: "NoSuchBucket",
          latestDeliveryAttemptTime: at(0),
        });
        await store.recordAttempt(TRAIL, EAST, at(1000));
        expect(await store.status(TRAIL, EAST)).toEqual({
          latestDeliveryTime: at(1000),
          latestDeliveryAttemptTime: at(1000),
          latestDeliveryAttemptSucceeded: at(1000),
        });
        await store.recordAttempt(TRAIL, EAST, at(2000), "AccessDenied");
        await store.recordAttempt(TRAIL, EAST, at(3000), "ServiceUnavailable");
        expect(await store.status(TRAIL, EAST)).toEqual({
          latestDeliveryTime: at(1000),
          latestDeliveryError: "ServiceUnavailable",
          latestDeliveryAttemptTime: at(3000),
          latestDeliveryAttemptSucceeded: at(1000),
        });
        await store.recordAttempt(TRAIL, EAST, at(4000));
        const status = await store.status(TRAIL, EAST);
        expect(status).toEqual({
          latestDeliveryTime: at(4000),
          latestDeliveryAttemptTime: at(4000),
          latestDeliveryAttemptSucceeded: at(4000),
        });
        expect(status.latestDeliveryError).toBeUndefined();
      });

      it("keeps trails and regions apart", async () => {
        await store.recordAttempt(TRAIL, EAST, at(0), "NoSuchBucket");
        await store.recordAttempt(TRAIL, WEST, at(1000));
        await store.recordAttempt(OTHER_TRAIL, EAST, at(2000), "AccessDenied");
        expect((await store.status(TRAIL, EAST)).latestDeliveryError).toBe("NoSuchBucket");
        expect((await store.status(TRAIL, WEST)).latestDeliveryTime).toEqual(at(1000));
        expect((await store.status(OTHER_TRAIL, EAST)).latestDeliveryAttemptTime).toEqual(at(2000));
        expect(await store.status(OTHER_TRAIL, WEST)).toEqual({});
      });
    });

    describe("putFailed and a trail's incarnations", () => {
      /** A file of the lane's rows, written down as pending (as before its put). */
      async function pendingFile(destinationId: number, key = "k"): Promise<PendingFile> {
        const file = pendingOf(
          destinationId,
          EAST,
          (await store.nextBatch(destinationId, EAST, 10, 1 << 30))!,
          key,
        );
        await store.writePending(file);
        return file;
      }

      it("keeps a failing lane's error after a success on another destination of the trail, until it is delivered", async () => {
        await append([{ to: [d1] }, { to: [d2] }]);
        const stuck = await pendingFile(d1);
        await store.putFailed(stuck, at(0), "InternalError");
        expect(await store.status(TRAIL, EAST)).toEqual({
          latestDeliveryError: "InternalError",
          latestDeliveryAttemptTime: at(0),
        });
        await deliver(d2, EAST, at(1000));
        expect(await store.status(TRAIL, EAST)).toEqual({
          latestDeliveryTime: at(1000),
          latestDeliveryError: "InternalError",
          latestDeliveryAttemptTime: at(1000),
          latestDeliveryAttemptSucceeded: at(1000),
        });
        // not in another region, nor for another trail
        expect((await store.status(TRAIL, WEST)).latestDeliveryError).toBeUndefined();
        expect((await store.status(OTHER_TRAIL, EAST)).latestDeliveryError).toBeUndefined();
        await store.completeFile(stuck, deliveredOf(stuck, (await store.batchOf(stuck))!, at(2000)));
        expect((await store.status(TRAIL, EAST)).latestDeliveryError).toBeUndefined();
      });

      it("drops a lane's error when its rows are moved", async () => {
        await append([{ to: [d1] }]);
        await store.putFailed(await pendingFile(d1), at(0), "NoSuchBucket");
        await store.recordAttempt(TRAIL, EAST, at(500));
        expect((await store.status(TRAIL, EAST)).latestDeliveryError).toBe("NoSuchBucket");
        expect(await store.moveLane(d1, EAST, d2)).toBe(true);
        expect((await store.status(TRAIL, EAST)).latestDeliveryError).toBeUndefined();
      });

      it("keeps the status and lanes of a trail created again under the same name apart from the first", async () => {
        const first = new Date(T0);
        const second = new Date(T0 + 60_000);
        const base = { accountId: ACCOUNT, trailArn: TRAIL, bucket: "b" };
        const old = await store.destinationFor({ ...base, trailCreatedAt: first });
        const fresh = await store.destinationFor({ ...base, trailCreatedAt: second });
        expect(new Set([old, fresh, d1]).size).toBe(3);
        expect((await store.destination(fresh))?.trailCreatedAt).toEqual(second);
        expect(await store.destinationFor({ ...base, trailCreatedAt: second })).toBe(fresh);

        await append([{ to: [old] }, { to: [fresh] }]);
        await deliver(old, EAST, at(0));
        expect(await store.status(TRAIL, EAST, first)).toMatchObject({ latestDeliveryTime: at(0) });
        // the second trail starts afresh, and the first one's late files write nothing over it
        await store.putFailed(await pendingFile(fresh), at(1000), "NoSuchBucket");
        expect(await store.status(TRAIL, EAST, second)).toEqual({
          latestDeliveryError: "NoSuchBucket",
          latestDeliveryAttemptTime: at(1000),
        });
        await append([{ to: [old] }]);
        const late = await pendingFile(old, "late");
        await store.putFailed(late, at(2000), "AccessDenied");
        await store.completeFile(late, deliveredOf(late, (await store.batchOf(late))!, at(3000)));
        expect(await store.status(TRAIL, EAST, second)).toEqual({
          latestDeliveryError: "NoSuchBucket",
          latestDeliveryAttemptTime: at(1000),
        });
        expect(await store.status(TRAIL, EAST, first)).toEqual({});
        expect(await store.status(TRAIL, EAST)).toEqual({});
      });
    });

    describe("deliveredFiles", () => {
      it("lists a trail and region's files delivered from `since` until before `until`, in delivery order", async () => {
        const other = await store.destinationFor({ accountId: ACCOUNT, trailArn: OTHER_TRAIL, bucket: "b" });
        const files: DeliveredFile[] = [];
        for (const [i, ms] of [0, 1000, 1000, 2000].entries()) {
          await append([{ to: [d1, other] }, { to: [d1], region: WEST }]);
          files.push(await deliver(d1, EAST, at(ms), { key: `east-${i}` }));
          await deliver(d1, WEST, at(ms), { key: `west-${i}` });
          await deliver(other, EAST, at(ms), { key: `other-${i}` });
        }
        const keys = async (since: number, until: number) =>
          (await store.deliveredFiles(TRAIL, EAST, at(since), at(until))).map((f) => f.key);
        expect(await keys(0, 3000)).toEqual(["east-0", "east-1", "east-2", "east-3"]);
        expect(await keys(0, 2000)).toEqual(["east-0", "east-1", "east-2"]);
        expect(await keys(1, 2001)).toEqual(["east-1", "east-2", "east-3"]);
        expect(await keys(1000, 1001)).toEqual(["east-1", "east-2"]);
        expect(await keys(2001, 9000)).toEqual([]);
        expect(await store.deliveredFiles(TRAIL, EAST, at(0), at(3000))).toStrictEqual(files);
        expect(await store.deliveredFiles(OTHER_TRAIL, WEST, at(0), at(3000))).toEqual([]);
      });

      it("lists the files of every destination the trail had", async () => {
        await append([{ to: [d1] }]);
        const before = await deliver(d1, EAST, at(0), { key: "in-b" });
        await append([{ to: [d2] }]);
        const after = await deliver(d2, EAST, at(1000), { key: "in-c" });
        expect(await store.deliveredFiles(TRAIL, EAST, at(0), at(2000))).toStrictEqual([before, after]);
      });
    });
  });
}
