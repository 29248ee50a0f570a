import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CloudTrailClient, type Event, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng, recordSource } from "../../bench/support/records.ts";
import { assertBuilt, type ServerProcess, startServerProcess } from "../../bench/support/server-process.ts";
import { IngestError, ingestClient } from "../../src/client/ingest.ts";

/*
 * kill -9 while a client ingests: the server is killed at seeded random moments with batches in
 * flight and restarted on the same data directory and port, so the client's retries reach the new
 * process. Afterwards every acknowledged eventID must be stored exactly once, and every batch must
 * be stored whole or not at all.
 *
 * Runs the built server (`npm run build` first; the test command does).
 */

/** Change it to explore other kill moments; a failure message names it. */
const SEED = 20261125;
const ROUNDS = 15;
/** Half of them retry (as `opentrail ingest` does), half give up at the first failure. */
const SENDERS = 4;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
/** Longest pause between the server taking batches again and the next kill. */
const MAX_KILL_DELAY_MS = 500;

interface Batch {
  ids: string[];
  acked: boolean;
  /** Ids the server said it already had: the first attempt committed but its answer was lost. */
  duplicates: number;
}

/** Ack counting that a waiter can await, failing instead of hanging if a sender dies. */
function ackBoard() {
  let acks = 0;
  let fatal: unknown;
  const waiters: { target: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  return {
    get acks() {
      return acks;
    },
    ack() {
      acks++;
      for (const w of waiters.filter((w) => w.target <= acks)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    },
    fail(e: unknown) {
      fatal ??= e;
      for (const w of waiters.splice(0)) w.reject(e);
    },
    /** Resolves once `more` further batches have been acknowledged. */
    waitFor(more: number): Promise<void> {
      if (fatal !== undefined) return Promise.reject(fatal);
      const target = acks + more;
      return new Promise((resolve, reject) => waiters.push({ target, resolve, reject }));
    },
  };
}

async function lookupAll(client: CloudTrailClient, start: Date, end: Date): Promise<Event[]> {
  const events: Event[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new LookupEventsCommand({ StartTime: start, EndTime: end, MaxResults: 50, NextToken: token }),
    );
    events.push(...(page.Events ?? []));
    token = page.NextToken;
  } while (token);
  return events;
}

describe("kill -9 during ingest", () => {
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(() => {
    assertBuilt();
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-crash-"));
  });

  afterAll(async () => {
    await server?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged batch exactly once and never part of a batch (seed ${SEED})`, async () => {
    const killMoments = prng(SEED);
    const sizes = prng(SEED + 1);
    const source = recordSource({ seed: SEED + 2, accountId: ACCOUNT, region: REGION });
    const started = new Date();
    const batches: Batch[] = [];
    const board = ackBoard();
    let inFlight = 0;
    let stopping = false;

    server = await startServerProcess({ dataDir });
    const port = server.port;
    const endpoint = server.url;
    // A batch of a retrying sender in flight at a kill is sent again to the next process; one of a
    // sender that does not retry stays unacknowledged, its fate decided by the crash alone.
    const retrying = ingestClient({ endpoint, region: REGION, credentials: CREDENTIALS });
    const once = ingestClient({ endpoint, region: REGION, credentials: CREDENTIALS, attempts: 1 });
    let serverUp = Promise.resolve();
    let restarted = () => {};

    const sender = async (client: typeof retrying) => {
      while (!stopping) {
        const records = Array.from({ length: 50 + Math.floor(sizes() * 151) }, () => source.next(new Date()));
        const batch: Batch = { ids: records.map((r) => r.eventID as string), acked: false, duplicates: 0 };
        batches.push(batch);
        inFlight++;
        try {
          const answer = await client.send(records);
          expect(answer.eventIds).toEqual(batch.ids);
          batch.acked = true;
          batch.duplicates = answer.duplicates.length;
          board.ack();
        } catch (e) {
          // Network errors and 5xx past the retries leave the batch unacknowledged; anything else is a bug.
          if (e instanceof IngestError && e.status < 500) throw e;
          if (!(e instanceof IngestError) && !(e instanceof TypeError)) throw e;
          await serverUp;
        } finally {
          inFlight--;
        }
      }
    };
    const senders = Promise.all(
      Array.from({ length: SENDERS }, (_, i) =>
        sender(i % 2 === 0 ? retrying : once).catch((e: unknown) => {
          board.fail(e);
          throw e;
        }),
      ),
    );

    const inFlightAtKill: number[] = [];
    const killedAt: Date[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Once the (re)started server takes batches, a seeded pause picks the moment of the kill;
      // the pause is the crash's timing, nothing waits for work by the clock.
      await board.waitFor(SENDERS);
      await sleep(Math.floor(killMoments() * MAX_KILL_DELAY_MS));
      inFlightAtKill.push(inFlight);
      killedAt.push(new Date());
      serverUp = new Promise((resolve) => {
        restarted = resolve;
      });
      const exit = await server.stop("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      server = await startServerProcess({ dataDir, port });
      restarted();
    }
    await board.waitFor(SENDERS);
    stopping = true;
    await senders;
    expect(inFlightAtKill.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const acked = batches.filter((b) => b.acked);
    const ackedIds = acked.flatMap((b) => b.ids);
    expect(acked.length).toBeGreaterThan(ROUNDS * SENDERS);

    // Event history after the last restart: a sample of acknowledged ids, and a whole time window.
    const api = new CloudTrailClient({ endpoint: server.url, region: REGION, credentials: CREDENTIALS });
    const start = new Date(started.getTime() - 60_000);
    const end = new Date(Date.now() + 60_000);
    const pick = prng(SEED + 3);
    for (let i = 0; i < 50; i++) {
      const id = ackedIds[Math.floor(pick() * ackedIds.length)]!;
      const { Events } = await api.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: id }],
          StartTime: start,
          EndTime: end,
        }),
      );
      expect(
        Events?.map((e) => e.EventId),
        `LookupEvents EventId=${id}`,
      ).toEqual([id]);
      expect(JSON.parse(Events?.[0]?.CloudTrailEvent ?? "{}").eventID).toBe(id);
    }
    // The second of the first kill, paged through: what the database holds for it, each id once.
    const windowStart = new Date(Math.floor(killedAt[0]!.getTime() / 1000) * 1000);
    const windowEnd = new Date(windowStart.getTime() + 999);
    const paged = (await lookupAll(api, windowStart, windowEnd)).map((e) => e.EventId!);
    api.destroy();

    const stop = await server.stop("SIGTERM");
    expect(stop.code).toBe(0);
    server = undefined;

    const db = new Database(join(dataDir, "opentrail.db"), { readonly: true, fileMustExist: true });
    let stored: Map<string, number>;
    let storedInWindow: string[];
    try {
      stored = new Map(
        db
          .prepare<[], { id: string; n: number }>(
            "SELECT event_id AS id, count(*) AS n FROM events GROUP BY event_id",
          )
          .all()
          .map((r) => [r.id, r.n]),
      );
      storedInWindow = db
        .prepare<[number, number], { id: string }>(
          "SELECT event_id AS id FROM events WHERE event_time BETWEEN ? AND ?",
        )
        .all(windowStart.getTime(), windowEnd.getTime())
        .map((r) => r.id);
    } finally {
      db.close();
    }

    const twice = [...stored].filter(([, n]) => n !== 1).map(([id, n]) => `${id} ×${n}`);
    expect(twice, "ids stored more than once").toEqual([]);
    const lost = ackedIds.filter((id) => !stored.has(id));
    expect(lost, "acknowledged ids missing after the crashes").toEqual([]);
    const partial = batches
      .map((b) => ({
        size: b.ids.length,
        found: b.ids.filter((id) => stored.has(id)).length,
        acked: b.acked,
      }))
      .filter((b) => b.found !== 0 && b.found !== b.size);
    expect(partial, "batches stored in part").toEqual([]);
    // A retry finds its batch stored whole (the first attempt committed) or not at all.
    const partlyThere = acked.filter((b) => b.duplicates !== 0 && b.duplicates !== b.ids.length);
    expect(partlyThere, "retried batches found in part").toEqual([]);
    expect(paged.length).toBe(new Set(paged).size);
    expect(new Set(paged)).toEqual(new Set(storedInWindow));

    const unacked = batches.length - acked.length;
    const unackedStored = batches.filter((b) => !b.acked && stored.has(b.ids[0]!)).length;
    const retriedAfterCommit = acked.filter((b) => b.duplicates > 0).length;
    console.log(
      `crash test (seed ${SEED}): ${ROUNDS} kills with ${inFlightAtKill.join("/")} batches in flight; ` +
        `${acked.length} batches (${ackedIds.length} records) acknowledged, ${retriedAfterCommit} of them ` +
        `acknowledged on a retry after their first attempt had committed; ${unacked} unacknowledged ` +
        `(${unackedStored} of them stored whole); ${paged.length} events paged in one second of event history`,
    );
  }, 90_000);
});
