import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketDir, logFileKeys } from "../../bench/support/delivery-server.ts";
import { prng } from "../../bench/support/records.ts";
import { assertBuilt, type ServerProcess, startServerProcess } from "../../bench/support/server-process.ts";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";

/*
 * kill -9 during an open Insights event, in real time: the built server runs with a configuration
 * file whose "insights" knobs are small (insights.md §6.6, with a one-minute quiet end), a trail
 * with ApiCallRateInsight takes a burst of 20 write calls in one minute after a quiet baseline,
 * and once the Start is in event history the server is killed and restarted on the same data
 * directory; a second kill falls at a seeded moment around the pass that ends the Insights event.
 * Afterwards event history, the database and the delivered CloudTrail-Insight files hold exactly
 * one Start and one End of that sharedEventID.
 *
 * Real time: the burst's minute must close before its Start, and one quiet minute more before its
 * End, so the test takes two to three minutes. Runs the built server (`npm run build` first; the
 * test command does).
 */

const SEED = 20261203;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const BUCKET = "crash-insights";
const TRAIL = "crash-insights";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
const MINUTE = 60_000;
const KNOBS = {
  baselineMinutes: 10,
  warmupMinutes: 0,
  multiplier: 3,
  sigmas: 4,
  floorCallRate: 5,
  endQuietMinutes: 1,
  cooldownMinutes: 5,
  graceSeconds: 0,
};
/** The worker looks for closed minutes every 5 s: the second kill falls within one such tick. */
const MAX_SECOND_KILL_MS = 6_000;
/** Bounds on polling (every 250 ms) for what the server does on its own clock. */
const LANE_TRIES = 120;
const RECORD_TRIES = 1_200;

interface InsightRecord {
  eventID: string;
  eventTime: string;
  sharedEventID: string;
  insightDetails: { state: string; eventName: string; insightContext: { statistics: unknown } };
}

/** The test's own read-only connection (WAL lets it read beside the server). */
function query<T>(dataDir: string, sql: string): T[] {
  const db = new Database(join(dataDir, "opentrail.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Polls `probe` until it returns a value, failing with `what` after `tries`. */
async function until<T>(what: string, tries: number, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(250);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The Insights records of the delivered CloudTrail-Insight files, and the files' keys. */
function deliveredInsights(dataDir: string): { keys: string[]; records: InsightRecord[] } {
  const dir = bucketDir(dataDir, BUCKET);
  const keys = logFileKeys(dir).filter((k) => k.includes("/CloudTrail-Insight/"));
  const records = keys.flatMap(
    (k) =>
      (JSON.parse(gunzipSync(readFileSync(join(dir, k))).toString()) as { Records: InsightRecord[] }).Records,
  );
  return { keys, records };
}

/** 20 CreateUser calls within one second of the minute now running (alice 12, bob 8). */
function burst(at: number): Record<string, unknown>[] {
  return Array.from({ length: 20 }, (_, n) => {
    const user = n < 12 ? "alice" : "bob";
    return {
      eventVersion: "1.08",
      userIdentity: {
        type: "IAMUser",
        principalId: "AIDAEXAMPLE",
        arn: `arn:aws:iam::${ACCOUNT}:user/${user}`,
        accountId: ACCOUNT,
        userName: user,
      },
      eventTime: `${new Date(at).toISOString().slice(0, 19)}Z`,
      eventSource: "iam.amazonaws.com",
      eventName: "CreateUser",
      awsRegion: REGION,
      sourceIPAddress: "192.0.2.1",
      userAgent: "aws-cli/2.15.0",
      requestParameters: { userName: `${user}-${n}` },
      responseElements: null,
      requestID: randomUUID(),
      eventID: randomUUID(),
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: "Management",
    };
  });
}

describe("kill -9 during an open Insights event", () => {
  let dir: string;
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), "opentrail-kill-insights-"));
    dataDir = join(dir, "data");
    mkdirSync(bucketDir(dataDir, BUCKET), { recursive: true });
    writeFileSync(join(dir, "opentrail.json"), JSON.stringify({ insights: KNOBS }));
  });

  afterAll(async () => {
    await server?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it(`gives exactly one Start and one End after restarts (seed ${SEED})`, async () => {
    const random = prng(SEED);
    let port = 0;
    const start = async () => {
      server = await startServerProcess({
        dataDir,
        port,
        serveArgs: ["--config", join(dir, "opentrail.json"), "--delivery-interval", "0.2"],
      });
      port = server.port;
      return server;
    };
    const kill = async () => {
      const exit = await server!.stop("SIGKILL");
      expect(exit.signal).toBe("SIGKILL");
      server = undefined;
    };
    const began = Date.now();
    await start();
    const api = () => httpClient({ endpoint: server!.url, region: REGION, credentials: CREDENTIALS });
    const setup = api();
    await setup.createTrail({ Name: TRAIL, S3BucketName: BUCKET });
    await setup.startLogging({ Name: TRAIL });
    await setup.putInsightSelectors({
      TrailName: TRAIL,
      InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
    });
    setup.client.destroy();

    // The worker's first pass after the selectors opens the lane at its minute; a burst from then
    // on is evaluated. Its baseline (the ten minutes before) holds no CreateUser.
    await until("the Insights lane", LANE_TRIES, async () => {
      const rows = query<{ n: number }>(dataDir, "SELECT count(*) AS n FROM insight_lanes");
      return rows[0]!.n > 0 ? true : undefined;
    });
    const at = Date.now();
    const burstMinute = Math.floor(at / MINUTE);
    await ingestClient({ endpoint: server!.url, region: REGION, credentials: CREDENTIALS }).send(burst(at));

    const insights = async (): Promise<InsightRecord[]> => {
      const c = api();
      try {
        const found = await c.lookupEvents({
          EventCategory: "insight",
          StartTime: new Date(began - 60 * MINUTE),
          EndTime: new Date(Date.now() + 60 * MINUTE),
        });
        return (found.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!) as InsightRecord);
      } finally {
        c.client.destroy();
      }
    };
    const states = (records: InsightRecord[]) => records.map((r) => r.insightDetails.state).sort();

    // Open: the Start is recorded once the burst's minute has closed.
    const opened = await until("the Start", RECORD_TRIES, async () => {
      const found = await insights();
      return found.length > 0 ? found : undefined;
    });
    expect(states(opened)).toEqual(["Start"]);
    await kill();
    await start();

    // The End is due once the minute after the burst has closed: kill again at a seeded moment
    // around the pass that writes it (before, during or after).
    const due = (burstMinute + 1 + KNOBS.endQuietMinutes) * MINUTE;
    const secondKill = due + Math.floor(random() * MAX_SECOND_KILL_MS);
    if (secondKill > Date.now()) await sleep(secondKill - Date.now());
    await kill();
    await start();

    const found = await until("the End", RECORD_TRIES, async () => {
      const f = await insights();
      return f.some((r) => r.insightDetails.state === "End") ? f : undefined;
    });
    expect(states(found)).toEqual(["End", "Start"]);
    const [startRecord, endRecord] = ["Start", "End"].map(
      (s) => found.find((r) => r.insightDetails.state === s)!,
    );
    expect(startRecord!.sharedEventID).toBe(endRecord!.sharedEventID);
    expect(startRecord!.eventTime).toBe(`${new Date(burstMinute * MINUTE).toISOString().slice(0, 19)}Z`);
    expect(endRecord!.insightDetails.insightContext.statistics).toEqual({
      baseline: { average: 0 },
      insight: { average: 20 },
      insightDuration: 1,
      baselineDuration: KNOBS.baselineMinutes,
    });

    // Nothing left to append, the lane idle: no further record of this Insights event can come.
    await until("the lane to settle", RECORD_TRIES, async () => {
      const pending = query<{ n: number }>(dataDir, "SELECT count(*) AS n FROM insight_pending")[0]!.n;
      const lanes = query<{ doc: string }>(dataDir, "SELECT doc FROM insight_lanes");
      const active = lanes.some((l) =>
        (JSON.parse(l.doc) as { series: { state: { active?: unknown } }[] }).series.some(
          (s) => s.state.active !== undefined,
        ),
      );
      return pending === 0 && !active ? true : undefined;
    });
    // Delivered: both records, each in one file of the Insights key layout.
    const delivered = await until("the delivered Insights files", RECORD_TRIES, async () => {
      const d = deliveredInsights(dataDir);
      return d.records.length >= 2 ? d : undefined;
    });
    const stop = await server!.stop("SIGTERM");
    expect(stop.code).toBe(0);
    server = undefined;

    const layout = new RegExp(
      `^AWSLogs/${ACCOUNT}/CloudTrail-Insight/${REGION}/\\d{4}/\\d{2}/\\d{2}/${ACCOUNT}_CloudTrail-Insight_${REGION}_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`,
    );
    for (const key of delivered.keys) expect(key).toMatch(layout);
    const final = deliveredInsights(dataDir);
    expect(final.records.map((r) => [r.insightDetails.state, r.sharedEventID]).sort()).toEqual([
      ["End", startRecord!.sharedEventID],
      ["Start", startRecord!.sharedEventID],
    ]);
    expect(final.records.map((r) => r.eventID).sort()).toEqual(
      [startRecord!.eventID, endRecord!.eventID].sort(),
    );
    const stored = query<{ state: string; n: number }>(
      dataDir,
      `SELECT record ->> '$.insightDetails.state' AS state, count(*) AS n FROM events
        WHERE record ->> '$.sharedEventID' = '${startRecord!.sharedEventID}' GROUP BY 1 ORDER BY 1`,
    );
    expect(stored).toEqual([
      { state: "End", n: 1 },
      { state: "Start", n: 1 },
    ]);
    console.log(
      `insights crash test (seed ${SEED}): Start at ${startRecord!.eventTime}, killed after it and ` +
        `${secondKill - due} ms after the End was due; ${final.keys.length} Insights file(s); ` +
        `${Math.round((Date.now() - began) / 1000)} s of real time`,
    );
  }, 300_000);
});
