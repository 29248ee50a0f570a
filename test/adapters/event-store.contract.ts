import { beforeEach, describe, expect, it } from "vitest";
import type { EventStore, LookupKey, LookupQuery, StoredEvent } from "../../src/ports/index.ts";

export const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "210987654321";
const REGION = "us-east-1";
export const T0 = Date.parse("2026-03-01T00:00:00.000Z");

/** Event ids that sort like their number, so expected orders can be written down. */
export function eventId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

/**
 * A management event `n`, `seconds` after T0, with every lookup column set; `overrides` replace
 * any, and an override of `undefined` removes the member (as a store gives it back).
 */
export function sampleEvent(n: number, seconds = n, overrides: Partial<StoredEvent> = {}): StoredEvent {
  const id = overrides.eventId ?? eventId(n);
  const eventTime = overrides.eventTime ?? new Date(T0 + seconds * 1000);
  const event: StoredEvent = {
    accountId: ACCOUNT,
    region: REGION,
    eventId: id,
    eventTime,
    category: "Management",
    eventName: "DescribeTrails",
    eventSource: "cloudtrail.amazonaws.com",
    readOnly: true,
    username: "alice",
    accessKeyId: "AKIAEXAMPLE",
    resources: [],
    json: JSON.stringify({ eventID: id, eventTime: eventTime.toISOString(), n }),
    ...overrides,
  };
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined) delete event[key as keyof StoredEvent];
  }
  return event;
}

function query(overrides: Partial<LookupQuery> = {}): LookupQuery {
  return {
    accountId: ACCOUNT,
    region: REGION,
    category: "Management",
    start: new Date(T0 - 86_400_000),
    end: new Date(T0 + 86_400_000),
    limit: 50,
    ...overrides,
  };
}

const ids = (events: StoredEvent[]) => events.map((e) => e.eventId);

/** Newest first, ties by event id descending: the order every lookup answers in. */
function newestFirst(events: StoredEvent[]): StoredEvent[] {
  return [...events].sort(
    (a, b) =>
      b.eventTime.getTime() - a.eventTime.getTime() ||
      (a.eventId < b.eventId ? 1 : a.eventId > b.eventId ? -1 : 0),
  );
}

/** Follows `after` from page to page; `between` runs after each page (to append meanwhile). */
async function allPages(
  store: EventStore,
  q: LookupQuery,
  between: (page: number) => Promise<void> = async () => {},
): Promise<StoredEvent[]> {
  const seen: StoredEvent[] = [];
  for (let page = 0; page < 1000; page++) {
    const events = await store.lookup(q);
    expect(events.length).toBeLessThanOrEqual(q.limit);
    seen.push(...events);
    if (events.length < q.limit) return seen;
    const last = events[events.length - 1]!;
    q = { ...q, after: { eventTime: last.eventTime, eventId: last.eventId } };
    await between(page);
  }
  throw new Error("paging did not end");
}

/** What every EventStore must do; run it from each adapter's test file. */
export function eventStoreContract(name: string, make: () => Promise<EventStore>): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;

    beforeEach(async () => {
      store = await make();
    });

    describe("append", () => {
      it("stores a batch and gives every member back as it was", async () => {
        const full = sampleEvent(1, 1, {
          resources: [
            { type: "AWS::CloudTrail::Trail", name: "trail-1" },
            { type: "AWS::S3::Bucket" },
            { name: "x" },
          ],
        });
        const bare: StoredEvent = {
          accountId: ACCOUNT,
          region: REGION,
          eventId: eventId(2),
          eventTime: new Date(T0 + 2000),
          category: "Management",
          resources: [],
          json: "{}",
        };
        expect(await store.append([full, bare])).toEqual({ inserted: 2, duplicates: [] });
        expect(await store.lookup(query())).toStrictEqual([bare, full]);
      });

      it("accepts an empty batch", async () => {
        expect(await store.append([])).toEqual({ inserted: 0, duplicates: [] });
      });

      it("returns the record JSON byte for byte", async () => {
        const json = '{ "eventID" : "e1",\n  "b":1, "a":"\\u00e9 é \u2028 😀 \\"q\\"", "n": 1.50 }';
        await store.append([sampleEvent(1, 1, { json })]);
        const [got] = await store.lookup(query());
        expect(got?.json).toBe(json);
      });

      it("returns each record of a batch of multi-byte texts as sent, one with U+0001 among them or not", async () => {
        const texts = ["é", "😀 \u2028", "{}", "\u4e2d\u6587", "z"].map(
          (s, i) => `{"eventID":"e${i}","a":"${s.repeat(i + 1)}"}`,
        );
        await store.append(texts.map((json, i) => sampleEvent(i + 1, i, { json })));
        const got = await store.lookup(query());
        expect(got.map((e) => e.json).reverse()).toEqual(texts);
        const odd = '{"eventID":"e9","a":"\u0001"}';
        await store.append([sampleEvent(20, 20, { json: odd }), sampleEvent(21, 21, { json: "{}" })]);
        expect((await store.lookup(query())).slice(0, 2).map((e) => e.json)).toEqual(["{}", odd]);
      });

      it("keeps milliseconds of the event time", async () => {
        const eventTime = new Date(T0 + 1234);
        await store.append([sampleEvent(1, 0, { eventTime })]);
        expect((await store.lookup(query()))[0]?.eventTime).toEqual(eventTime);
      });

      it("skips a record sent twice in one batch and reports it", async () => {
        const e = sampleEvent(1);
        expect(await store.append([e, sampleEvent(2), { ...e }])).toEqual({
          inserted: 2,
          duplicates: [e.eventId],
        });
        expect(ids(await store.lookup(query()))).toEqual([eventId(2), eventId(1)]);
      });

      it("skips records stored by an earlier batch and stores the rest", async () => {
        await store.append([sampleEvent(1), sampleEvent(2)]);
        expect(await store.append([sampleEvent(2), sampleEvent(3), sampleEvent(1)])).toEqual({
          inserted: 1,
          duplicates: [eventId(2), eventId(1)],
        });
        expect(ids(await store.lookup(query()))).toEqual([eventId(3), eventId(2), eventId(1)]);
      });

      it("skips an eventID the account already stored, whatever its time, region or category", async () => {
        const e = sampleEvent(1, 1);
        await store.append([e]);
        const again = [
          { ...e, eventTime: new Date(T0 + 60_000) },
          { ...e, region: "eu-west-1" },
          { ...e, category: "Insight" as const },
        ];
        for (const other of again) {
          expect(await store.append([other])).toEqual({ inserted: 0, duplicates: [e.eventId] });
        }
        expect(await store.lookup(query({ region: "eu-west-1" }))).toEqual([]);
        expect(await store.lookup(query({ category: "Insight" }))).toEqual([]);
        expect(await store.lookup(query())).toStrictEqual([e]);
      });

      it("skips an eventID repeated in one batch for another region", async () => {
        const e = sampleEvent(1, 1);
        expect(await store.append([e, { ...e, region: "eu-west-1", eventTime: new Date(T0) }])).toEqual({
          inserted: 1,
          duplicates: [e.eventId],
        });
        expect(await store.lookup(query({ region: "eu-west-1" }))).toEqual([]);
      });

      it("keeps the same event id in two accounts apart", async () => {
        const e = sampleEvent(1);
        expect(await store.append([e, { ...e, accountId: OTHER_ACCOUNT }])).toEqual({
          inserted: 2,
          duplicates: [],
        });
        expect(ids(await store.lookup(query({ accountId: OTHER_ACCOUNT })))).toEqual([e.eventId]);
      });
    });

    describe("lookup by attribute", () => {
      const events = [
        sampleEvent(1, 1, { eventName: "CreateTrail", readOnly: false, username: "bob" }),
        sampleEvent(2, 2, {
          eventSource: "s3.amazonaws.com",
          eventName: "GetObject",
          accessKeyId: "ASIAOTHER",
          resources: [
            { type: "AWS::S3::Object", name: "arn:aws:s3:::bucket/key one" },
            { type: "AWS::S3::Bucket", name: "arn:aws:s3:::bucket" },
          ],
        }),
        sampleEvent(3, 3, { username: 'carol "the admin", ops', resources: [{ type: "AWS::S3::Bucket" }] }),
        sampleEvent(4, 4, { readOnly: undefined, username: undefined, accessKeyId: undefined }),
        sampleEvent(5, 5, { eventName: "createtrail", username: "Bob" }),
      ];

      const cases: [LookupKey, string, number[]][] = [
        ["EventId", eventId(3), [3]],
        ["EventName", "CreateTrail", [1]],
        ["EventName", "DescribeTrails", [4, 3]],
        ["EventSource", "s3.amazonaws.com", [2]],
        ["EventSource", "cloudtrail.amazonaws.com", [5, 4, 3, 1]],
        ["ReadOnly", "false", [1]],
        ["ReadOnly", "true", [5, 3, 2]],
        ["ReadOnly", "TRUE", []],
        ["Username", "bob", [1]],
        ["Username", 'carol "the admin", ops', [3]],
        ["Username", "alice", [2]],
        ["AccessKeyId", "ASIAOTHER", [2]],
        ["AccessKeyId", "AKIAEXAMPLE", [5, 3, 1]],
        ["ResourceType", "AWS::S3::Bucket", [3, 2]],
        ["ResourceType", "AWS::S3::Object", [2]],
        ["ResourceName", "arn:aws:s3:::bucket/key one", [2]],
        ["ResourceName", "arn:aws:s3:::bucket", [2]],
        ["ResourceName", "arn:aws:s3:::bucket/key", []],
        ["EventName", "Nothing", []],
      ];

      it.each(cases)("%s = %j", async (key, value, expected) => {
        await store.append(events);
        const got = await store.lookup(query({ attribute: { key, value } }));
        expect(ids(got)).toEqual(expected.map(eventId));
        for (const e of got) expect(e).toStrictEqual(events[Number(e.eventId.slice(-12)) - 1]);
      });

      it("finds attributes of insight events under the insight category only", async () => {
        const insight = sampleEvent(6, 6, {
          category: "Insight",
          eventName: "CreateTrail",
          eventSource: "cloudtrail.amazonaws.com",
          readOnly: undefined,
          username: undefined,
          accessKeyId: undefined,
        });
        await store.append([...events, insight]);
        const name = { key: "EventName", value: "CreateTrail" } as const;
        expect(ids(await store.lookup(query({ category: "Insight", attribute: name })))).toEqual([
          eventId(6),
        ]);
        expect(ids(await store.lookup(query({ attribute: name })))).toEqual([eventId(1)]);
        const id = { key: "EventId", value: eventId(6) } as const;
        expect(ids(await store.lookup(query({ category: "Insight", attribute: id })))).toEqual([eventId(6)]);
        expect(await store.lookup(query({ attribute: id }))).toEqual([]);
        expect(ids(await store.lookup(query({ category: "Insight" })))).toEqual([eventId(6)]);
      });
    });

    describe("scope", () => {
      const mine = sampleEvent(1);
      const others = [
        sampleEvent(2, 2, { accountId: OTHER_ACCOUNT }),
        sampleEvent(3, 3, { region: "eu-west-1" }),
        sampleEvent(4, 4, { category: "Insight" }),
        sampleEvent(5, 5, { category: "Data" }),
        sampleEvent(6, 6, { category: "NetworkActivity" }),
      ];

      it("answers only the account, region and category asked for", async () => {
        await store.append([mine, ...others]);
        expect(ids(await store.lookup(query()))).toEqual([mine.eventId]);
        expect(ids(await store.lookup(query({ attribute: { key: "Username", value: "alice" } })))).toEqual([
          mine.eventId,
        ]);
        expect(ids(await store.lookup(query({ accountId: OTHER_ACCOUNT })))).toEqual([eventId(2)]);
        expect(ids(await store.lookup(query({ region: "eu-west-1" })))).toEqual([eventId(3)]);
        expect(ids(await store.lookup(query({ category: "Insight" })))).toEqual([eventId(4)]);
      });

      it("does not find another account's event by its id", async () => {
        await store.append(others);
        const attribute = { key: "EventId", value: eventId(2) } as const;
        expect(await store.lookup(query({ attribute }))).toEqual([]);
      });

      it("answers nothing for an account, region or category never seen", async () => {
        await store.append([mine]);
        expect(await store.lookup(query({ accountId: "999999999999" }))).toEqual([]);
        expect(await store.lookup(query({ region: "ap-south-2" }))).toEqual([]);
        expect(await store.lookup(query({ category: "Insight" }))).toEqual([]);
      });
    });

    describe("time range", () => {
      const at = (ms: number, n: number, overrides: Partial<StoredEvent> = {}) =>
        sampleEvent(n, 0, { eventTime: new Date(T0 + ms), ...overrides });

      it.each([undefined, { key: "Username", value: "alice" } as const])(
        "includes both bounds (attribute %j)",
        async (attribute) => {
          await store.append([at(-1, 1), at(0, 2), at(500, 3), at(1000, 4), at(1001, 5)]);
          const got = await store.lookup(
            query({ start: new Date(T0), end: new Date(T0 + 1000), ...(attribute && { attribute }) }),
          );
          expect(ids(got)).toEqual([eventId(4), eventId(3), eventId(2)]);
        },
      );

      it("answers one instant when start equals end, and nothing when start is after end", async () => {
        await store.append([at(0, 1), at(1, 2)]);
        expect(ids(await store.lookup(query({ start: new Date(T0), end: new Date(T0) })))).toEqual([
          eventId(1),
        ]);
        expect(await store.lookup(query({ start: new Date(T0 + 1), end: new Date(T0) }))).toEqual([]);
      });

      it("stores events far in the past and the future", async () => {
        const old = sampleEvent(1, 0, { eventTime: new Date("1970-01-01T00:00:00.000Z") });
        const older = sampleEvent(2, 0, { eventTime: new Date("1969-12-31T23:59:59.999Z") });
        const late = sampleEvent(3, 0, { eventTime: new Date("2099-12-31T23:59:59.999Z") });
        await store.append([old, older, late]);
        const all = query({ start: new Date("1900-01-01T00:00:00Z"), end: new Date("2100-01-01T00:00:00Z") });
        expect(ids(await store.lookup(all))).toEqual([eventId(3), eventId(1), eventId(2)]);
        const attribute = { key: "EventName", value: "DescribeTrails" } as const;
        expect(ids(await store.lookup({ ...all, attribute }))).toEqual([eventId(3), eventId(1), eventId(2)]);
      });
    });

    describe("order and paging", () => {
      it.each([undefined, { key: "EventName", value: "DescribeTrails" } as const])(
        "answers newest first and breaks ties by event id, descending (attribute %j)",
        async (attribute) => {
          // Same second, stored in an order unrelated to the ids.
          const tied = [7, 3, 9, 1, 5].map((n) => sampleEvent(n, 10));
          await store.append([sampleEvent(20, 5), ...tied, sampleEvent(21, 11)]);
          const got = await store.lookup(query({ ...(attribute && { attribute }) }));
          expect(ids(got)).toEqual([21, 9, 7, 5, 3, 1, 20].map(eventId));
        },
      );

      it.each([undefined, { key: "Username", value: "alice" } as const])(
        "cuts a tie at the limit by event id and goes on after it (attribute %j)",
        async (attribute) => {
          const tied = [4, 8, 2, 6, 10, 1].map((n) => sampleEvent(n, 10));
          await store.append([sampleEvent(30, 11), ...tied, sampleEvent(31, 9)]);
          const q = query({ limit: 3, ...(attribute && { attribute }) });
          expect(ids(await store.lookup(q))).toEqual([30, 10, 8].map(eventId));
          const after = { eventTime: new Date(T0 + 10_000), eventId: eventId(8) };
          expect(ids(await store.lookup({ ...q, after }))).toEqual([6, 4, 2].map(eventId));
          expect(ids(await allPages(store, q))).toEqual([30, 10, 8, 6, 4, 2, 1, 31].map(eventId));
        },
      );

      it.each([undefined, { key: "EventName", value: "DescribeTrails" } as const])(
        "orders events a millisecond apart, stored newest first (attribute %j)",
        async (attribute) => {
          const at = (ms: number, n: number) => sampleEvent(n, 0, { eventTime: new Date(T0 + ms) });
          await store.append([at(2, 1), at(1, 2), at(0, 3), at(1, 4)]);
          await store.append([at(-1, 5), at(3, 6)]);
          const got = await store.lookup(query({ ...(attribute && { attribute }) }));
          expect(ids(got)).toEqual([6, 1, 4, 2, 3, 5].map(eventId));
        },
      );

      it.each([undefined, { key: "Username", value: "alice" } as const])(
        "pages through a large tie, stored in random order (attribute %j)",
        async (attribute) => {
          const order = Array.from({ length: 90 }, (_, i) => (i * 37) % 90);
          const tied = order.map((i) => sampleEvent(i + 1, 5, { username: i % 3 === 0 ? "bob" : "alice" }));
          const around = [sampleEvent(200, 4), sampleEvent(201, 6)];
          await store.append([...tied.slice(0, 45), ...around]);
          await store.append(tied.slice(45));
          const expected = newestFirst([...tied, ...around]).filter(
            (e) => !attribute || e.username === "alice",
          );
          const got = await allPages(store, query({ limit: 7, ...(attribute && { attribute }) }));
          expect(ids(got)).toEqual(ids(expected));
        },
      );

      it("starts after a position whose event does not exist", async () => {
        await store.append([sampleEvent(1, 1), sampleEvent(2, 2), sampleEvent(3, 2), sampleEvent(4, 3)]);
        const after = { eventTime: new Date(T0 + 2000), eventId: `${eventId(2)}x` };
        expect(ids(await store.lookup(query({ after })))).toEqual([eventId(2), eventId(1)]);
      });

      it.each([undefined, { key: "EventSource", value: "cloudtrail.amazonaws.com" } as const])(
        "pages through everything once while newer events arrive (attribute %j)",
        async (attribute) => {
          // 120 events over 40 seconds: many ties, some crossing page boundaries.
          const stored: StoredEvent[] = [];
          for (let n = 1; n <= 120; n++) stored.push(sampleEvent(n, (n * 7) % 40));
          for (let i = 0; i < stored.length; i += 25) await store.append(stored.slice(i, i + 25));
          const end = new Date(T0 + 39_000);
          let next = 1000;
          const got = await allPages(
            store,
            query({ end, limit: 7, ...(attribute && { attribute }) }),
            async (page) => {
              // Newer than the fixed end: must not show up in later pages.
              await store.append([sampleEvent(next++, 40 + page), sampleEvent(next++, 39.001 + page)]);
            },
          );
          expect(ids(got)).toEqual(ids(newestFirst(stored)));
        },
      );

      it("returns at most limit events", async () => {
        await store.append([1, 2, 3, 4, 5].map((n) => sampleEvent(n)));
        expect(ids(await store.lookup(query({ limit: 2 })))).toEqual([eventId(5), eventId(4)]);
        const attribute = { key: "ReadOnly", value: "true" } as const;
        expect(ids(await store.lookup(query({ limit: 1, attribute })))).toEqual([eventId(5)]);
      });
    });

    describe("purgeBefore", () => {
      it("forgets events older than the cutoff and keeps the rest", async () => {
        const stored = [];
        for (let n = 1; n <= 30; n++)
          stored.push(sampleEvent(n, n, { region: n % 2 ? REGION : "eu-west-1" }));
        await store.append(stored);
        expect(await store.purgeBefore(new Date(T0 + 21_000))).toBe(20);
        const east = await store.lookup(query());
        expect(ids(east)).toEqual([29, 27, 25, 23, 21].map(eventId));
        const byName = await store.lookup(
          query({ attribute: { key: "EventName", value: "DescribeTrails" } }),
        );
        expect(ids(byName)).toEqual(ids(east));
        expect(await store.lookup(query({ attribute: { key: "EventId", value: eventId(3) } }))).toEqual([]);
        expect(await store.purgeBefore(new Date(T0 + 21_000))).toBe(0);
      });

      it("lets a purged record be stored again", async () => {
        await store.append([sampleEvent(1, 1)]);
        await store.purgeBefore(new Date(T0 + 2000));
        expect(await store.append([sampleEvent(1, 1)])).toEqual({ inserted: 1, duplicates: [] });
        expect(ids(await store.lookup(query({ attribute: { key: "EventId", value: eventId(1) } })))).toEqual([
          eventId(1),
        ]);
      });
    });
  });
}
