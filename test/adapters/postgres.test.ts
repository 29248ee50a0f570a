import { describe, expect, it } from "vitest";
import { PgInsightStore } from "../../src/adapters/postgres/insight-store.ts";
import { PgKeyStore } from "../../src/adapters/postgres/key-store.ts";
import { PG_MIGRATIONS } from "../../src/adapters/postgres/migrations.ts";
import { migratePg, openPool } from "../../src/adapters/postgres/pool.ts";
import { isCloudTrailError } from "../../src/api/errors.ts";
import { describePostgres, dropSchema, freshSchemaName, pgOpener } from "../support/postgres.ts";
import { deliveryStoreContract } from "./delivery-store.contract.ts";
import { digestChainStoreContract } from "./digest-chain-store.contract.ts";
import { ACCOUNT, eventStoreContract, sampleEvent, T0 } from "./event-store.contract.ts";
import { fileOutboxContract } from "./file-outbox.contract.ts";
import {
  ACCOUNT as INSIGHTS_ACCOUNT,
  insightEvent,
  insightStoreContract,
  M0,
} from "./insight-store.contract.ts";
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
  fileOutboxContract("PgFileOutbox", async () => {
    const { events, deliveries, outputs, trails } = await open();
    return { events, deliveries, outputs, trails };
  });
  keyStoreContract("PgKeyStore", async (setup) => new PgKeyStore((await open()).pool, setup));
  digestChainStoreContract("PgDigestStore", async () => (await open()).digestChains);
  leasesContract("PgLeases", async () => {
    const db = await open();
    await db.pool.query("DELETE FROM leases");
    return db.leases;
  });

  insightStoreContract("PgInsightStore", async () => {
    const { events, insights } = await open();
    return { events, insights };
  });

  describe("migrations", () => {
    it("are recorded once each, however many pools open the schema at once", async () => {
      const db = await open();
      await Promise.all([open.another(), open.another(), open.another()]);
      const { rows } = await db.pool.query("SELECT id FROM schema_migrations ORDER BY id");
      expect(rows.map((r) => r.id)).toEqual(PG_MIGRATIONS.map((m) => m.id));
    });

    it("applies a step numbered below one already applied once it appears (numbers are handed out ahead)", async () => {
      const schema = freshSchemaName();
      const pool = openPool({ url, schema });
      const step = (id: number) => ({ id, name: `step ${id}`, up: `CREATE TABLE t${id} (x INTEGER)` });
      try {
        expect(await migratePg(pool, schema, [step(1), step(3)])).toBe(3);
        expect(await migratePg(pool, schema, [step(1), step(2), step(3)])).toBe(3);
        const { rows } = await pool.query("SELECT id FROM schema_migrations ORDER BY id");
        expect(rows.map((r) => r.id)).toEqual([1, 2, 3]);
        await pool.query("SELECT * FROM t2");
        await expect(migratePg(pool, schema, [step(1), step(2)])).rejects.toThrow(/newer than this build/);
        await expect(migratePg(pool, schema, [step(2), step(1)])).rejects.toThrow(/not above/);
      } finally {
        await pool.end();
        await dropSchema(url, schema);
      }
    });

    it("step 10 counts the events stored before it, and step 11 keeps destinations apart by kind", async () => {
      const schema = freshSchemaName();
      const pool = openPool({ url, schema });
      try {
        await migratePg(
          pool,
          schema,
          PG_MIGRATIONS.filter((m) => m.id < 10),
        );
        const insert = `INSERT INTO events (account_id, region, category, event_time, event_id, event_name,
            event_source, read_only, tokens, record)
          VALUES ($1, 'us-east-1', $2, $3, $4, 'CreateUser', 'iam.amazonaws.com', $5, '{}', $6)`;
        const t = M0 * 60_000;
        for (const [id, category, readOnly, record, time] of [
          ["x", "Management", false, "{}", t + 1000],
          ["y", "Management", true, '{"errorCode":"Throttling"}', t + 2000],
          ["z", "Management", true, "{}", t + 3000],
          ["d", "Data", false, "{}", t + 4000],
          ["w", "Management", false, "{}", t - 1],
        ] as const) {
          await pool.query(insert, [INSIGHTS_ACCOUNT, category, time, id, readOnly, record]);
        }
        await pool.query(
          `INSERT INTO destinations (account_id, trail_arn, bucket, prefix, kms_key_id)
           VALUES ($1, 'arn:t', 'b', '', '')`,
          [INSIGHTS_ACCOUNT],
        );
        await migratePg(pool, schema);
        const store = new PgInsightStore(pool);
        const write = await store.counts(INSIGHTS_ACCOUNT, "us-east-1", "write", M0 - 1, M0);
        expect(write.map((c) => [c.minute, c.calls])).toEqual([
          [M0 - 1, 1],
          [M0, 1],
        ]);
        const errors = await store.counts(INSIGHTS_ACCOUNT, "us-east-1", "error", M0, M0);
        expect(errors.map((c) => [c.errorCode, c.readOnly])).toEqual([["Throttling", true]]);
        const { rows } = await pool.query("SELECT kind FROM destinations");
        expect(rows).toEqual([{ kind: "CloudTrail" }]);
      } finally {
        await pool.end();
        await dropSchema(url, schema);
      }
    });
  });

  describe("PgEventStore", () => {
    it("counts for Insights an API whose name holds U+0000, beside the same name with U+FFFD", async () => {
      const { events, insights } = await open();
      await events.append([
        insightEvent("n1", 0, { eventName: "Odd\u0000" }),
        insightEvent("n2", 0, { eventName: "Odd\uFFFD" }),
      ]);
      const counts = await insights.counts(INSIGHTS_ACCOUNT, "us-east-1", "write", M0, M0);
      expect(counts.map((c) => [c.eventName, c.calls])).toEqual([["Odd\uFFFD", 2]]);
    });

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
      // and it waits once for each output that follows delivery
      for (const consumer of ["sns", "logs", "events"] as const) {
        expect((await two.outputs.filesFor(consumer, trailArn, "us-east-1", 10)).map((f) => f.key)).toEqual([
          "k",
        ]);
      }
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
