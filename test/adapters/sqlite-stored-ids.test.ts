import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prng } from "../../bench/support/records.ts";
import { SqliteEventStore } from "../../src/adapters/sqlite/index.ts";
import type { StoredEvent } from "../../src/ports/index.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { ACCOUNT, eventId, sampleEvent } from "./event-store.contract.ts";

/*
 * The duplicate filter (stored-ids.ts) is built in the background after a connection's first
 * write, and catches up on other connections' appends in the background too. Until it can be
 * trusted every id is looked up. These tests make its steps one or a few rows long, so that
 * appends interleave with the build, and check every answer.
 */

const open = sqliteOpener();
let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opentrail-stored-ids-"));
  path = join(dir, "db.sqlite");
});

afterEach(() => {
  open.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

/** A connection whose filter is built `chunk` rows per turn of the event loop. */
const connection = (chunk: number, pagedIds?: number) =>
  new SqliteEventStore(open(path).db, {
    ids: { chunk, stepMs: 0, ...(pagedIds === undefined ? {} : { pagedIds }) },
  });

/** Stores events 1..n over two regions (two scopes) through a connection of its own. */
async function seed(n: number): Promise<void> {
  const seeder = open(path);
  const events = Array.from({ length: n }, (_, i) =>
    sampleEvent(i + 1, i + 1, { region: i % 2 === 0 ? "us-east-1" : "eu-west-1" }),
  );
  expect(await seeder.events.append(events)).toEqual({ inserted: n, duplicates: [] });
  seeder.close();
}

/** The event `n` again, in a region where it was not stored: a duplicate by (account, eventID). */
const again = (n: number) => sampleEvent(n, n, { region: "ap-southeast-2" });

describe("the duplicate filter while it is built", () => {
  it("refuses every stored id before, during and after the build", async () => {
    await seed(120);
    const store = connection(1);
    // the first write starts the build and does not wait for it
    expect(await store.append([sampleEvent(1000)])).toEqual({ inserted: 1, duplicates: [] });
    expect(store.idFilter.built).toBe(false);
    let refusedWhileBuilding = 0;
    for (let n = 1; n <= 120; n++) {
      const building = !store.idFilter.built;
      expect(await store.append([again(n)])).toEqual({ inserted: 0, duplicates: [eventId(n)] });
      if (building) refusedWhileBuilding++;
    }
    expect(refusedWhileBuilding).toBeGreaterThan(60);
    await store.idFilter.drain();
    expect(store.idFilter.built).toBe(true);
    for (const n of [1, 2, 60, 119, 120, 1000]) {
      expect(await store.append([again(n)])).toEqual({ inserted: 0, duplicates: [eventId(n)] });
    }
    expect(await store.append([sampleEvent(1001)])).toEqual({ inserted: 1, duplicates: [] });
  });

  it.each([
    ["kept in pages until counted", undefined],
    ["moved from pages to the largest filter after 16", 16],
  ])(
    "holds the ids appended during the build, by this connection and by others (%s)",
    async (_, pagedIds) => {
      await seed(100);
      const store = connection(1, pagedIds);
      const other = open(path);
      await store.append([sampleEvent(500)]);
      expect(store.idFilter.built).toBe(false);
      // newer and older than what the build has read so far, in known scopes and in new ones
      const during: StoredEvent[] = [];
      for (let k = 0; k < 30; k++) {
        const n = 501 + k;
        const seconds = k % 3 === 0 ? -n : n;
        const region = ["us-east-1", "eu-west-1", "us-west-2"][k % 3]!;
        const accountId = k % 5 === 0 ? "210987654321" : ACCOUNT;
        const e = sampleEvent(n, seconds, { region, accountId });
        during.push(e);
        const by = k % 2 === 0 ? store : other.events;
        expect(await by.append([e])).toEqual({ inserted: 1, duplicates: [] });
      }
      expect(store.idFilter.built).toBe(false);
      await store.idFilter.drain();
      expect(store.idFilter.built).toBe(true);
      // Each answer below comes from the filter first: an id it missed would be stored twice.
      const twice = during.map((e) => ({ ...e, region: "ap-southeast-2" }));
      expect(await store.append(twice)).toEqual({ inserted: 0, duplicates: during.map((e) => e.eventId) });
      const seeded = Array.from({ length: 100 }, (_, i) => again(i + 1));
      expect(await store.append(seeded)).toEqual({ inserted: 0, duplicates: seeded.map((e) => e.eventId) });
    },
  );

  it("looks ids up while far behind other connections' appends, and catches up in the background", async () => {
    await seed(10);
    const store = connection(4);
    await store.append([sampleEvent(100)]);
    await store.idFilter.drain();
    expect(store.idFilter.built).toBe(true);
    // another connection appends many more rows than one step of this one's catch-up
    const other = open(path);
    const many = Array.from({ length: 50 }, (_, i) => sampleEvent(200 + i));
    await other.events.append(many.slice(0, 25));
    await other.events.append(many.slice(25));
    for (const e of many) {
      expect(await store.append([{ ...e, region: "eu-west-1" }])).toEqual({
        inserted: 0,
        duplicates: [e.eventId],
      });
    }
    await store.idFilter.drain();
    const twice = many.map((e) => ({ ...e, region: "us-west-2" }));
    expect(await store.append(twice)).toEqual({ inserted: 0, duplicates: many.map((e) => e.eventId) });
  });

  it("never stores an eventID twice, whatever the interleaving of connections, builds and resets", async () => {
    await seed(40);
    const random = prng(11);
    // connections of different step sizes; the last builds in one step
    const stores = [connection(1), connection(3), connection(4096)];
    const plain = open(path);
    const writers = [...stores, plain.events];
    let stored = new Set(Array.from({ length: 40 }, (_, i) => eventId(i + 1)));
    let next = 41;
    const regions = ["us-east-1", "eu-west-1", "us-west-2"];
    for (let round = 0; round < 150; round++) {
      if (round === 90) {
        await plain.trails.reset();
        stored = new Set();
      }
      // a few appends at once, from any connection, of new ids, stored ids and ids new in this round
      const ids = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
        random() < 0.5 && stored.size > 0 ? 1 + Math.floor(random() * (next - 1)) : next++,
      );
      const appends = ids.map((n) => {
        const writer = writers[Math.floor(random() * writers.length)]!;
        const e = sampleEvent(n, Math.floor(random() * 1000) - 500, {
          region: regions[Math.floor(random() * regions.length)]!,
        });
        return writer.append([e]).then((result) => ({ id: e.eventId, result }));
      });
      const results = await Promise.all(appends);
      for (const id of new Set(results.map((r) => r.id))) {
        const inserted = results.filter((r) => r.id === id && r.result.inserted === 1).length;
        expect(inserted, `round ${round}, ${id}`).toBe(stored.has(id) ? 0 : 1);
        stored.add(id);
      }
    }
    for (const store of stores) await store.idFilter.drain();
    expect(stores.every((s) => s.idFilter.built)).toBe(true);
    const count = plain.db.prepare("SELECT count(*) FROM events").pluck().get();
    expect(count).toBe(stored.size);
  });
});
