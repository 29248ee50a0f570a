import { beforeEach, describe, expect, it } from "vitest";
import type {
  DeliveredFile,
  DeliveryStore,
  EventStore,
  FileConsumer,
  FileOutbox,
  TrailRepo,
} from "../../src/ports/index.ts";
import { sampleTrail } from "./trail-repo.contract.ts";

const ACCOUNT = "123456789012";
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`;
const OTHER = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/other`;
const EAST = "us-east-1";
const WEST = "eu-west-1";
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000);
const CONSUMERS: FileConsumer[] = ["sns", "logs", "events"];

/** The outbox under test and the stores whose deliveries fill it, over the same storage (emptied). */
export interface FileOutboxStores {
  events: EventStore;
  deliveries: DeliveryStore;
  outputs: FileOutbox;
  trails: TrailRepo;
}

/** What every FileOutbox adapter does; run it from each backend's test file. */
export function fileOutboxContract(name: string, make: () => Promise<FileOutboxStores>): void {
  describe(`FileOutbox contract: ${name}`, () => {
    let stores: FileOutboxStores;
    let outbox: FileOutbox;
    let seq: number;

    beforeEach(async () => {
      stores = await make();
      outbox = stores.outputs;
      seq = 0;
    });

    /** One record through the delivery store's steps, as the delivery worker takes them. */
    async function deliver(
      trailArn: string,
      region: string,
      bucket = "b",
      trailCreatedAt?: Date,
    ): Promise<DeliveredFile> {
      const { events, deliveries } = stores;
      const n = ++seq;
      const d = await deliveries.destinationFor({
        accountId: ACCOUNT,
        trailArn,
        bucket,
        ...(trailCreatedAt ? { trailCreatedAt } : {}),
      });
      const eventId = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
      await events.append([
        {
          accountId: ACCOUNT,
          region,
          eventId,
          eventTime: at(n),
          category: "Management",
          resources: [],
          json: JSON.stringify({ eventID: eventId }),
          destinations: [d],
        },
      ]);
      const batch = (await deliveries.nextBatch(d, region, 100, 1 << 20))!;
      const file = {
        destinationId: d,
        region,
        key: `k${n}.json.gz`,
        firstId: batch.firstId,
        lastId: batch.lastId,
      };
      await deliveries.writePending(file);
      const delivered: DeliveredFile = {
        destinationId: d,
        trailArn,
        region,
        bucket,
        key: file.key,
        sha256: "ab".repeat(32),
        oldestEventTime: batch.oldestEventTime,
        newestEventTime: batch.newestEventTime,
        deliveredAt: at(100 + n),
      };
      await deliveries.completeFile(file, delivered);
      return delivered;
    }

    it("has nothing waiting and no status before any delivery", async () => {
      for (const c of CONSUMERS) expect(await outbox.lanes(c)).toEqual([]);
      expect(await outbox.filesFor("sns", TRAIL, EAST, 10)).toEqual([]);
      expect(await outbox.outputStatus("digest", TRAIL, EAST)).toEqual({});
    });

    it("holds each delivered file once per output, in lanes of its trail and region, in delivery order", async () => {
      await deliver(TRAIL, EAST);
      await deliver(TRAIL, WEST);
      await deliver(OTHER, EAST, "c");
      await deliver(TRAIL, EAST);
      for (const c of CONSUMERS) {
        expect(await outbox.lanes(c)).toEqual([
          { trailArn: OTHER, region: EAST },
          { trailArn: TRAIL, region: WEST },
          { trailArn: TRAIL, region: EAST },
        ]);
      }
      const files = await outbox.filesFor("logs", TRAIL, EAST, 10);
      expect(files.map(({ bucket, key }) => ({ bucket, key }))).toEqual([
        { bucket: "b", key: "k1.json.gz" },
        { bucket: "b", key: "k4.json.gz" },
      ]);
      expect(files[0]!.id).toBeLessThan(files[1]!.id);
      expect(await outbox.filesFor("logs", TRAIL, EAST, 1)).toEqual([files[0]]);
      expect((await outbox.filesFor("events", OTHER, EAST, 10)).map((f) => f.bucket)).toEqual(["c"]);
    });

    it("handled drops a lane's files up to an id for that output only, and records a send", async () => {
      await deliver(TRAIL, EAST);
      await deliver(TRAIL, EAST);
      await deliver(TRAIL, EAST);
      const [f1, f2, f3] = await outbox.filesFor("sns", TRAIL, EAST, 10);
      // dropped without sending (a trail without a topic): no status
      await outbox.handled("sns", TRAIL, EAST, f1!.id);
      expect(await outbox.outputStatus("sns", TRAIL, EAST)).toEqual({});
      expect((await outbox.filesFor("sns", TRAIL, EAST, 10)).map((f) => f.id)).toEqual([f2!.id, f3!.id]);
      await outbox.handled("sns", TRAIL, EAST, f2!.id, at(500));
      expect(await outbox.outputStatus("sns", TRAIL, EAST)).toEqual({
        latestTime: at(500),
        latestAttemptTime: at(500),
      });
      expect((await outbox.filesFor("sns", TRAIL, EAST, 10)).map((f) => f.id)).toEqual([f3!.id]);
      // the other outputs still hold all three
      expect(await outbox.filesFor("logs", TRAIL, EAST, 10)).toHaveLength(3);
      expect(await outbox.outputStatus("logs", TRAIL, EAST)).toEqual({});
      await outbox.handled("sns", TRAIL, EAST, f3!.id, at(501));
      expect(await outbox.lanes("sns")).toEqual([]);
      expect(await outbox.lanes("logs")).toEqual([{ trailArn: TRAIL, region: EAST }]);
    });

    it("a failure keeps the last success beside its error until the next success clears it", async () => {
      await deliver(TRAIL, EAST);
      const [file] = await outbox.filesFor("logs", TRAIL, EAST, 10);
      await outbox.failed("logs", TRAIL, EAST, at(10), "ResourceNotFoundException");
      expect(await outbox.outputStatus("logs", TRAIL, EAST)).toEqual({
        latestError: "ResourceNotFoundException",
        latestAttemptTime: at(10),
      });
      // the file waits until it is sent
      expect(await outbox.filesFor("logs", TRAIL, EAST, 10)).toEqual([file]);
      await outbox.handled("logs", TRAIL, EAST, file!.id, at(20));
      await outbox.failed("logs", TRAIL, EAST, at(30), "AccessDeniedException");
      expect(await outbox.outputStatus("logs", TRAIL, EAST)).toEqual({
        latestTime: at(20),
        latestError: "AccessDeniedException",
        latestAttemptTime: at(30),
      });
      await outbox.recordOutcome("logs", TRAIL, EAST, at(40));
      expect(await outbox.outputStatus("logs", TRAIL, EAST)).toEqual({
        latestTime: at(40),
        latestAttemptTime: at(40),
      });
      expect(await outbox.lanes("logs")).toEqual([]);
    });

    it("records digest outcomes per trail and region, apart from the outputs", async () => {
      await outbox.recordOutcome("digest", TRAIL, EAST, at(1));
      await outbox.recordOutcome("digest", TRAIL, WEST, at(2), "NoSuchBucket");
      expect(await outbox.outputStatus("digest", TRAIL, EAST)).toEqual({
        latestTime: at(1),
        latestAttemptTime: at(1),
      });
      expect(await outbox.outputStatus("digest", TRAIL, WEST)).toEqual({
        latestError: "NoSuchBucket",
        latestAttemptTime: at(2),
      });
      expect(await outbox.outputStatus("digest", OTHER, EAST)).toEqual({});
      expect(await outbox.outputStatus("sns", TRAIL, EAST)).toEqual({});
    });

    it("gives each file the creation of the trail it was delivered for, where known", async () => {
      await deliver(TRAIL, EAST, "b", at(-50));
      await deliver(TRAIL, EAST, "b");
      const files = await outbox.filesFor("sns", TRAIL, EAST, 10);
      expect(files.map((f) => f.trailCreatedAt)).toEqual([at(-50), undefined]);
    });

    it("deleting a trail, or creating one, drops its ARN's waiting files and output status only", async () => {
      const { trails } = stores;
      const first = sampleTrail({ accountId: ACCOUNT, name: "t", createdAt: at(-100) });
      expect(first.arn).toBe(TRAIL);
      await trails.create(first);
      await trails.create(sampleTrail({ accountId: ACCOUNT, name: "other", createdAt: at(-100) }));
      await deliver(TRAIL, EAST, "b", first.createdAt);
      await deliver(TRAIL, WEST, "b", first.createdAt);
      await deliver(OTHER, EAST, "c", first.createdAt);
      const [sent] = await outbox.filesFor("sns", TRAIL, EAST, 1);
      await outbox.handled("sns", TRAIL, EAST, sent!.id, at(1));
      for (const arn of [TRAIL, OTHER]) {
        await outbox.recordOutcome("digest", arn, EAST, at(2));
        await outbox.failed("logs", arn, WEST, at(3), "AccessDeniedException");
      }

      await trails.delete(ACCOUNT, "us-east-1", "t");
      for (const c of CONSUMERS) expect(await outbox.lanes(c)).toEqual([{ trailArn: OTHER, region: EAST }]);
      for (const [kind, region] of [
        ["sns", EAST],
        ["digest", EAST],
        ["logs", WEST],
      ] as const) {
        expect(await outbox.outputStatus(kind, TRAIL, region)).toEqual({});
      }
      expect(await outbox.outputStatus("digest", OTHER, EAST)).toEqual({
        latestTime: at(2),
        latestAttemptTime: at(2),
      });
      expect((await outbox.outputStatus("logs", OTHER, WEST)).latestError).toBe("AccessDeniedException");

      // the deleted trail's final file, delivered after DeleteTrail, waits (with its trail's creation) ...
      await deliver(TRAIL, EAST, "b", first.createdAt);
      await outbox.recordOutcome("digest", TRAIL, EAST, at(4));
      expect((await outbox.filesFor("sns", TRAIL, EAST, 10)).map((f) => f.trailCreatedAt)).toEqual([
        at(-100),
      ]);
      // ... until a trail of that name is created again: it starts with nothing
      await trails.create(sampleTrail({ accountId: ACCOUNT, name: "t", createdAt: at(10) }));
      expect(await outbox.lanes("sns")).toEqual([{ trailArn: OTHER, region: EAST }]);
      expect(await outbox.outputStatus("digest", TRAIL, EAST)).toEqual({});
      expect(await outbox.outputStatus("digest", OTHER, EAST)).toEqual({
        latestTime: at(2),
        latestAttemptTime: at(2),
      });
    });
  });
}
