import { describe, expect, it } from "vitest";
import { PgKeyStore } from "../../src/adapters/postgres/key-store.ts";
import { PG_MIGRATIONS } from "../../src/adapters/postgres/migrations.ts";
import { isCloudTrailError } from "../../src/api/errors.ts";
import { describePostgres, pgOpener } from "../support/postgres.ts";
import { deliveryStoreContract } from "./delivery-store.contract.ts";
import { digestChainStoreContract } from "./digest-chain-store.contract.ts";
import { ACCOUNT, eventStoreContract, sampleEvent, T0 } from "./event-store.contract.ts";
import { keyStoreContract } from "./key-store.contract.ts";
import { leasesContract } from "./leases.contract.ts";
import { sampleTrail, trailRepoContract } from "./trail-repo.contract.ts";

/** A listener, and the first account it hears of. */
function heard(): { listener: (account?: string) => void; first: Promise<string | undefined> } {
  let listener: (account?: string) => void = () => {};
  const first = new Promise<string | undefined>((resolve) => {
    listener = resolve;
  });
  return { listener, first };
}

describePostgres("PostgreSQL adapters", (url) => {
  const open = pgOpener(url);

  trailRepoContract("PgTrailRepo", async () => (await open()).trails);
  eventStoreContract("PgEventStore", async () => (await open()).events);
  deliveryStoreContract("PgDeliveryStore", async () => {
    const { events, deliveries } = await open();
    return { events, deliveries };
  });
  keyStoreContract("PgKeyStore", async (setup) => new PgKeyStore((await open()).pool, setup));
  digestChainStoreContract("PgDigestStore", async () => (await open()).digestChains);
  leasesContract("PgLeases", async () => {
    const db = await open();
    await db.pool.query("DELETE FROM leases");
    return db.leases;
  });

  describe("migrations", () => {
    it("are recorded once each, however many pools open the schema at once", async () => {
      const db = await open();
      await Promise.all([open.another(), open.another(), open.another()]);
      const { rows } = await db.pool.query("SELECT id FROM schema_migrations ORDER BY id");
      expect(rows.map((r) => r.id)).toEqual(PG_MIGRATIONS.map((m) => m.id));
    });
  });

  describe("PgEventStore", () => {
    it("stores and finds values holding U+0000, which PostgreSQL text cannot hold", async () => {
      const { events } = await open();
      const odd = sampleEvent(1, 1, { username: "a\u0000b", resources: [{ type: "T", name: "n\u0000" }] });
      expect(await events.append([odd])).toEqual({ inserted: 1, duplicates: [] });
      const window = {
        accountId: ACCOUNT,
        region: "us-east-1",
        category: "Management" as const,
        start: new Date(T0 - 1000),
        end: new Date(T0 + 100_000),
        limit: 10,
      };
      for (const attribute of [
        { key: "Username", value: "a\u0000b" },
        { key: "ResourceName", value: "n\u0000" },
      ] as const) {
        const found = await events.lookup({ ...window, attribute });
        expect(found.map((e) => [e.eventId, e.json])).toEqual([[odd.eventId, odd.json]]);
      }
    });
  });

  it("keeps a record holding U+0001 byte for byte, beside others", async () => {
    const { events } = await open();
    const odd = { ...sampleEvent(1), json: '{"eventID":"x","odd":"\u0001\u0001"}' };
    expect(await events.append([sampleEvent(2), odd, sampleEvent(3)])).toEqual({
      inserted: 3,
      duplicates: [],
    });
    const found = await events.lookup({
      accountId: ACCOUNT,
      region: "us-east-1",
      category: "Management",
      attribute: { key: "EventId", value: odd.eventId },
      start: new Date(T0 - 1000),
      end: new Date(T0 + 100_000),
      limit: 10,
    });
    expect(found.map((e) => e.json)).toEqual([odd.json]);
  });

  describe("trail feed", () => {
    it("tells every other node of a change, and a node not of its own", async () => {
      const one = await open();
      const two = await open.another();
      const heardByOne: (string | undefined)[] = [];
      await one.trailFeed.listen((account) => heardByOne.push(account));
      const heardByTwo = heard();
      await two.trailFeed.listen(heardByTwo.listener);
      await one.trailFeed.announce(ACCOUNT);
      expect(await heardByTwo.first).toBe(ACCOUNT);
      // notices arrive in commit order: had one heard its own, it would come before this one
      const heardByOneAgain = heard();
      await one.trailFeed.listen(heardByOneAgain.listener);
      await two.trailFeed.announce();
      expect(await heardByOneAgain.first).toBeUndefined();
      expect(heardByOne).toEqual([undefined]);
    });
  });

  describe("two nodes on one database", () => {
    it("refuses a duplicate eventID sent to both at once: exactly one stores it", async () => {
      const one = await open();
      const two = await open.another();
      const batch = Array.from({ length: 50 }, (_, n) => sampleEvent(n + 1));
      // the same records, retried on the other node, in another order
      const [a, b] = await Promise.all([one.events.append(batch), two.events.append([...batch].reverse())]);
      expect(a.inserted + b.inserted).toBe(50);
      expect(a.duplicates.length + b.duplicates.length).toBe(50);
      const stored = await one.events.lookup({
        accountId: ACCOUNT,
        region: "us-east-1",
        category: "Management",
        start: new Date(T0 - 1000),
        end: new Date(T0 + 100_000),
        limit: 100,
      });
      expect(new Set(stored.map((e) => e.eventId)).size).toBe(50);
      expect(stored).toHaveLength(50);
    });

    it("records a file once when both complete it (one re-put the other's pending file)", async () => {
      const one = await open();
      const two = await open.another();
      const trailArn = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/t`;
      const d = await one.deliveries.destinationFor({ accountId: ACCOUNT, trailArn, bucket: "b" });
      await one.events.append([{ ...sampleEvent(1), destinations: [d] }]);
      const batch = (await one.deliveries.nextBatch(d, "us-east-1", 10, 1 << 20))!;
      const file = {
        destinationId: d,
        region: "us-east-1",
        key: "k",
        firstId: batch.firstId,
        lastId: batch.lastId,
      };
      await one.deliveries.writePending(file);
      const delivered = {
        destinationId: d,
        trailArn,
        region: "us-east-1",
        bucket: "b",
        key: "k",
        sha256: "ab".repeat(32),
        oldestEventTime: batch.oldestEventTime,
        newestEventTime: batch.newestEventTime,
        deliveredAt: new Date(T0),
      };
      await Promise.all([
        one.deliveries.completeFile(file, delivered),
        two.deliveries.completeFile(file, delivered),
      ]);
      const files = await one.deliveries.deliveredFiles(trailArn, "us-east-1", new Date(0), new Date(T0 + 1));
      expect(files).toEqual([delivered]);
      expect(await one.deliveries.backlog()).toEqual([]);
    });

    it("holds the five-trail quota when both create the sixth trail at once", async () => {
      const one = await open();
      const two = await open.another();
      for (let n = 1; n <= 4; n++) await one.trails.create(sampleTrail({ name: `t${n}` }));
      const results = await Promise.allSettled([
        one.trails.create(sampleTrail({ name: "a" })),
        two.trails.create(sampleTrail({ name: "b" })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(isCloudTrailError(refused.reason) && refused.reason.code).toBe(
        "MaximumNumberOfTrailsExceededException",
      );
      expect(await one.trails.list(sampleTrail().accountId)).toHaveLength(5);
    });
  });
});
