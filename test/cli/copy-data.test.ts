import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import Database from "better-sqlite3";
import pg from "pg";
import { pino } from "pino";
import { afterAll, expect, it } from "vitest";
import { runCopyData } from "../../src/cli/copy-data.ts";
import { runValidateLogs } from "../../src/cli/validate-logs.ts";
import { loadConfig } from "../../src/config/index.ts";
import { CopyRefused, copyDataToPostgres } from "../../src/copy.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import { clockedClient } from "../support/clocked-client.ts";
import { describePostgres, type FreshDatabase, freshDatabase } from "../support/postgres.ts";
import { Screen } from "../support/terminal.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUCKET = "ot-copied";
const STUCK = "ot-stuck";
const OUTBOX_COLUMNS = "consumer, trail_arn, region, file_id, trail_created, bucket, key";
const STATUS_COLUMNS = "consumer, trail_arn, region, latest_success, latest_error, latest_attempt";
/** A PostgreSQL row's BIGINT columns (strings from a plain client) as the numbers SQLite gives. */
const numbers = (r: Record<string, unknown>) =>
  Object.fromEntries(
    ["file_id", "trail_created", "latest_success", "latest_attempt"]
      .filter((k) => typeof r[k] === "string")
      .map((k) => [k, Number(r[k])]),
  );
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** eventName → eventIDs of the records in the log files of the local bucket. */
function deliveredIds(dataDir: string, bucket = BUCKET): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".json.gz") && path.includes("/CloudTrail/")) {
        const body = JSON.parse(gunzipSync(readFileSync(path)).toString("utf8")) as {
          Records: { eventID: string; eventName: string }[];
        };
        for (const r of body.Records) out.set(r.eventName, [...(out.get(r.eventName) ?? []), r.eventID]);
      }
    }
  };
  walk(join(dataDir, "buckets", bucket));
  return out;
}

// A SQLite data directory with delivered and undelivered records and a digest chain, copied into
// PostgreSQL; a server on the copy finds every record, delivers the rest once, and continues the chain.
describePostgres("opentrail copy-data from SQLite to PostgreSQL", (url) => {
  const dataDir = mkdtempSync(join(tmpdir(), "opentrail-copy-"));
  let database: FreshDatabase | undefined;
  let app: OpenTrail | undefined;
  const t0 = Math.floor((Date.now() - 4 * HOUR) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };
  const start = (extra: { database?: string } = {}) =>
    startOpenTrail(
      {
        ...loadConfig({ flags: { port: 0, dataDir } }),
        deliveryIntervalMs: 3_600_000,
        digestIntervalMs: HOUR,
        ...extra,
      },
      { clock, log: pino({ level: "silent" }) },
    );
  afterAll(async () => {
    await app?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("moves trails, records, outbox, keys and digest chains; the server on the copy goes on", async () => {
    app = await start();
    const api = () => clockedClient(app!.url, clock);
    for (const bucket of [BUCKET, STUCK]) mkdirSync(join(dataDir, "buckets", bucket), { recursive: true });
    const trailArn = (
      await api().createTrail({ Name: "moved", S3BucketName: BUCKET, EnableLogFileValidation: true })
    ).TrailARN!;
    await api().startLogging({ Name: trailArn });
    await api().putInsightSelectors({
      TrailName: trailArn,
      InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
    });
    // a second trail whose bucket goes away: its file stays pending through the copy
    await api().createTrail({ Name: "stuck", S3BucketName: STUCK });
    await api().startLogging({ Name: "stuck" });
    rmSync(join(dataDir, "buckets", STUCK), { recursive: true });
    // an hour delivered and digested on SQLite, then calls left in the outbox
    t = t0 + 5 * MINUTE;
    for (let i = 0; i < 12; i++) await api().describeTrails({});
    t = t0 + HOUR + 5 * MINUTE;
    await app.delivery.drain();
    await app.digests.drain();
    await app.insights.drain();
    for (let i = 0; i < 7; i++) await api().listTrails({});
    await app.close();
    app = undefined;
    const sqlite = new Database(join(dataDir, "opentrail.db"), { readonly: true });
    const pendingKeys = (sqlite.prepare("SELECT key FROM pending_files").all() as { key: string }[]).map(
      (r) => r.key,
    );
    const outputRows = {
      file_outbox: sqlite.prepare(`SELECT ${OUTBOX_COLUMNS} FROM file_outbox ORDER BY 1, 2, 3, 4`).all(),
      output_status: sqlite.prepare(`SELECT ${STATUS_COLUMNS} FROM output_status ORDER BY 1, 2, 3`).all(),
    };
    sqlite.close();
    // the hour's digest is in GetTrailStatus
    expect(outputRows.output_status).toContainEqual(
      expect.objectContaining({ consumer: "digest", trail_arn: trailArn }),
    );
    expect(pendingKeys).toHaveLength(1);
    expect(deliveredIds(dataDir).get("DescribeTrails")).toHaveLength(12);
    expect(deliveredIds(dataDir).get("ListTrails")).toBeUndefined();

    database = await freshDatabase(url);
    const steps = new Set<string>();
    const summary = await copyDataToPostgres({
      dataDir,
      url: database.url,
      onProgress: (p) => steps.add(p.step),
    });
    expect(summary.trails).toBe(2);
    expect(summary.pending_files).toBe(1);
    expect(summary.outbox).toBeGreaterThanOrEqual(7);
    expect(summary.digest_chains).toBe(1);
    // the Insights lane of the trail, and its destination of its own kind
    expect(summary.insight_lanes).toBe(1);
    expect(summary.destinations).toBe(3);
    expect(summary.signing_keys).toBeGreaterThanOrEqual(1);
    expect(steps).toContain("events");
    // the outputs' outbox and status, as they were
    expect(summary.file_outbox).toBe(outputRows.file_outbox.length);
    const copied = new pg.Client({ connectionString: database.url });
    await copied.connect();
    try {
      for (const [table, columns, order] of [
        ["file_outbox", OUTBOX_COLUMNS, "1, 2, 3, 4"],
        ["output_status", STATUS_COLUMNS, "1, 2, 3"],
      ] as const) {
        const { rows } = await copied.query(`SELECT ${columns} FROM ${table} ORDER BY ${order}`);
        expect(rows.map((r) => ({ ...r, ...numbers(r) }))).toEqual(outputRows[table]);
      }
    } finally {
      await copied.end();
    }
    await expect(copyDataToPostgres({ dataDir, url: database.url })).rejects.toBeInstanceOf(CopyRefused);

    app = await start({ database: database.url });
    t = t0 + 2 * HOUR + 5 * MINUTE;
    const found = await api().lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DescribeTrails" }],
    });
    expect(found.Events).toHaveLength(12);
    // the Insights counts, made again by the appends of the copied records
    const created = await api().listInsightsMetricData({
      EventSource: "cloudtrail.amazonaws.com",
      EventName: "CreateTrail",
      InsightType: "ApiCallRateInsight",
      StartTime: new Date(t0 - MINUTE),
      EndTime: new Date(t0 + 5 * MINUTE),
      Period: 60,
      DataType: "NonZeroData",
    });
    expect(created.Values).toEqual([2]);
    mkdirSync(join(dataDir, "buckets", STUCK));
    await app.delivery.drain();
    await app.digests.drain();
    // the pending file under the key it was given on SQLite, then the rest; each record once
    expect(existsSync(join(dataDir, "buckets", STUCK, pendingKeys[0]!))).toBe(true);
    const stuck = deliveredIds(dataDir, STUCK);
    expect(new Set(stuck.get("DescribeTrails")).size).toBe(12);
    expect(stuck.get("DescribeTrails")).toHaveLength(12);
    expect(stuck.get("ListTrails")).toHaveLength(7);
    const after = deliveredIds(dataDir);
    expect(after.get("DescribeTrails")).toHaveLength(12);
    expect(new Set(after.get("ListTrails")).size).toBe(7);
    expect(after.get("ListTrails")).toHaveLength(7);
    t = t0 + 2 * HOUR + 10 * MINUTE;
    await api().stopLogging({ Name: trailArn });
    await app.delivery.drain();
    await app.digests.drain();
    real = true;

    let stdout = "";
    let stderr = "";
    const code = await runValidateLogs(
      {
        trailArn,
        startTime: iso(t0 - MINUTE),
        endTime: iso(t0 + 3 * HOUR),
        endpoint: app.url,
        dataDir,
        verbose: true,
        concurrency: "16",
      },
      {
        env: { AWS_DEFAULT_REGION: "us-east-1" },
        cwd: dataDir,
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
      },
    );
    expect(code, stdout + stderr).toBe(0);
    expect(stdout).toMatch(/^(\d+)\/\1 log files valid$/m);
    // the hour digested on SQLite, the next on PostgreSQL, and the final one: one chain
    expect(stdout).toMatch(/^3\/3 digest files valid$/m);
    await app.close();
    app = undefined;
  });

  it("draws a progress line on a terminal, prints what it copied, and refuses a target that is not empty", async () => {
    const target = await freshDatabase(url);
    try {
      const screen = new Screen();
      const drawn: string[] = [];
      const terminal = {
        isTTY: true,
        write: (text: string) => {
          drawn.push(text);
          return screen.write(text);
        },
      };
      let out = "";
      const stdout = { write: (text: string) => (out += text) };
      const flags = { from: dataDir, to: target.url };
      expect(await runCopyData(flags, { stdout, stderr: terminal, progressEveryMs: 0 })).toBe(0);
      expect(drawn.join("")).toMatch(/\[#+\.*\] events: \d+\/\d+/);
      // the line is erased once done: nothing of it stays on the screen; the data directory is
      // as the first copy found it (its file still pending there)
      expect(screen.text().trim()).toBe("");
      expect(out).toMatch(/^copied 2 trails, .*\d+ events, \d+ outbox, 1 pending files\n$/);

      let err = "";
      const stderr = { write: (t: string) => (err += t) };
      const empty = mkdtempSync(join(tmpdir(), "opentrail-copy-empty-"));
      expect(await runCopyData({ from: empty, to: target.url }, { stdout, stderr })).toBe(1);
      expect(err).toBe(
        `opentrail copy-data: ${empty} holds no opentrail.db: not a data directory of opentrail serve\n`,
      );
      expect(readdirSync(empty)).toEqual([]);
      rmSync(empty, { recursive: true });
      err = "";
      const again = await runCopyData(flags, { stdout, stderr });
      expect(again).toBe(1);
      expect(err).toBe(
        "opentrail copy-data: the target database is not empty (table trails has rows): copy-data only fills an empty one\n",
      );
    } finally {
      await target.drop();
    }
  });
});
