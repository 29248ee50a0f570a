/**
 * Event history at scale: fills a file database through `EventStore.append` (batches of 500
 * synthetic ~1 KB records) and then times LookupEvents-like queries. Prints figures only.
 *
 *   npx tsc -p tsconfig.bench.json && node .bench-dist/bench/lookup.js [--events N] [--queries N]
 *     [--dir D] [--keep] [--skip-fill]
 *
 * Without --dir the database goes to a fresh temporary directory that is removed at the end.
 * --skip-fill runs the queries only, on the database an earlier `--dir D` run left.
 *
 * --http times LookupEvents through the built server instead, signed, while ingest runs (see
 * bench/lookup-http.ts); --dir is then the server's data directory:
 *
 *   npm run bench:lookup -- --http [--events N] [--seconds 60] [--warmup 30] [--connections 4]
 *     [--query-rate 50] [--ingest-rate 20000] [--cpu-prof DIR] [--dir D] [--keep] [--skip-fill]
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSqlite, type SqliteDb } from "../src/adapters/sqlite/index.ts";
import type { LookupKey, LookupQuery, StoredEvent } from "../src/ports/index.ts";
import { lookupOverHttp } from "./lookup-http.ts";
import { numberFlag } from "./support/ingest-post.ts";
import {
  firstPage,
  KINDS,
  type Known,
  latencyTable,
  type Workload,
  workload,
} from "./support/lookup-workload.ts";
import { prng } from "./support/records.ts";

const BATCH = 500;
const DAYS = 90;
const DAY_MS = 86_400_000;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

/** Appends `total` events over the 90 days before `now`; returns a sample of them for EventId lookups. */
async function fill(sqlite: SqliteDb, total: number, work: Workload, random: () => number, now: number) {
  const first = now - DAYS * DAY_MS;
  const step = (DAYS * DAY_MS) / total;
  const known: Known[] = [];
  let appendMs = 0;
  let cpuMicros = 0;
  let bytes = 0;
  let lastReport = performance.now();
  const fillStart = lastReport;
  for (let done = 0; done < total; ) {
    const batch: StoredEvent[] = [];
    for (let i = 0; i < BATCH && done < total; i++, done++) {
      // Mostly in time order, as events arrive; 1% are late records from anywhere in the 90 days.
      const time =
        random() < 0.01
          ? first + Math.floor(random() * (now - first))
          : Math.floor(first + done * step + random() * 1000);
      const event = work.event(Math.min(time, now));
      bytes += event.json.length;
      batch.push(event);
      if (random() < 2000 / total) {
        const { accountId, region, eventId, category } = event;
        known.push({ accountId, region, eventId, category });
      }
    }
    const cpu = process.cpuUsage();
    const t = performance.now();
    await sqlite.events.append(batch);
    appendMs += performance.now() - t;
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    sampleRss();
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(
        `  ${done} events, ${Math.round(done / (appendMs / 1000))} records/s in append, rss ${mib(peakRss)}`,
      );
    }
  }
  const fillMs = performance.now() - fillStart;
  console.log(
    `append: ${total} records (avg ${Math.round(bytes / total)} B of JSON) in ${(appendMs / 1000).toFixed(1)} s ` +
      `inside append = ${Math.round(total / (appendMs / 1000))} records/s; ` +
      `CPU ${(cpuMicros / total).toFixed(1)} µs/record (user+system, all threads); ` +
      `fill with generation ${(fillMs / 1000).toFixed(1)} s`,
  );
  return known;
}

/** For a database filled by an earlier run: its time span and a sample of its events. */
function survey(sqlite: SqliteDb, random: () => number): { first: number; now: number; known: Known[] } {
  const span = sqlite.db
    .prepare<[], { first: number; now: number }>(
      "SELECT min(id) >> 21 AS first, max(id) >> 21 AS now FROM events",
    )
    .get()!;
  const at = sqlite.db.prepare<[number], Known>(
    `SELECT s.account_id AS accountId, s.region, s.category, e.event_id AS eventId
     FROM events AS e JOIN event_scopes AS s ON s.id = e.scope
     WHERE e.id >= (CAST(? AS INTEGER) << 21) ORDER BY e.id LIMIT 1`,
  );
  const known: Known[] = [];
  for (let i = 0; i < 2000; i++) {
    const row = at.get(Math.floor(span.first + random() * (span.now - span.first)));
    if (row !== undefined) known.push(row);
  }
  return { ...span, known };
}

/** LookupEvents-like queries: random attribute and value, random time range, a quarter of them next pages. */
async function lookups(
  sqlite: SqliteDb,
  queries: number,
  known: Known[],
  work: Workload,
  random: () => number,
  span: [number, number],
): Promise<void> {
  const latencies = new Map<string, number[]>(KINDS.map((k) => [k, []]));
  const rowsOf = new Map<string, number>(KINDS.map((k) => [k, 0]));
  let rows = 0;
  let pages = 0;
  let previous: { query: LookupQuery; last: StoredEvent } | undefined;
  for (let i = 0; i < queries; i++) {
    let query: LookupQuery;
    let kind: LookupKey | "none";
    if (previous !== undefined && random() < 0.25) {
      // The next page of the previous query, as the CLI asks for it.
      const { last } = previous;
      query = { ...previous.query, after: { eventTime: last.eventTime, eventId: last.eventId } };
      kind = query.attribute?.key ?? "none";
      pages++;
    } else {
      ({ kind, query } = firstPage(work, known, random, span));
    }
    const t = performance.now();
    const found = await sqlite.events.lookup(query);
    const elapsed = performance.now() - t;
    sampleRss();
    latencies.get(kind)!.push(elapsed);
    rows += found.length;
    rowsOf.set(kind, rowsOf.get(kind)! + found.length);
    previous = found.length === query.limit ? { query, last: found[found.length - 1]! } : undefined;
  }

  console.log(`lookup: ${queries} queries (${pages} of them next pages), limit 50, ${rows} events returned`);
  for (const line of latencyTable(latencies, rowsOf)) console.log(line);
}

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "5000000" },
      queries: { type: "string", default: "2000" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      "skip-fill": { type: "boolean", default: false },
      http: { type: "boolean", default: false },
      seconds: { type: "string", default: "60" },
      warmup: { type: "string", default: "30" },
      connections: { type: "string", default: "4" },
      "query-rate": { type: "string", default: "50" },
      "ingest-rate": { type: "string", default: "20000" },
      "cpu-prof": { type: "string" },
    },
  });
  if (values.http) {
    await lookupOverHttp({
      events: Math.floor(numberFlag("events", values.events)),
      seconds: numberFlag("seconds", values.seconds),
      warmup: numberFlag("warmup", values.warmup),
      connections: Math.max(1, Math.floor(numberFlag("connections", values.connections))),
      queryRate: numberFlag("query-rate", values["query-rate"]),
      ingestRate: numberFlag("ingest-rate", values["ingest-rate"]),
      keep: values.keep,
      skipFill: values["skip-fill"],
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values["cpu-prof"] === undefined ? {} : { cpuProf: values["cpu-prof"] }),
    });
    return;
  }
  const total = Number(values.events);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-"));
  const path = join(dir, "events.db");
  const sqlite = openSqlite(path);
  const work = workload(1);
  const random = prng(2);

  let span: [number, number];
  let known: Known[];
  if (values["skip-fill"]) {
    const surveyed = survey(sqlite, random);
    span = [surveyed.first, surveyed.now];
    known = surveyed.known;
    console.log(`lookups only, on ${path}`);
  } else {
    const now = Date.now();
    console.log(`filling ${path} with ${total} events in batches of ${BATCH}`);
    known = await fill(sqlite, total, work, random, now);
    span = [now - DAYS * DAY_MS, now];
  }
  const size = (suffix: string) => (existsSync(path + suffix) ? statSync(path + suffix).size : 0);
  console.log(`database: ${mib(size(""))} + WAL ${mib(size("-wal"))}, peak rss so far ${mib(peakRss)}`);

  peakRss = 0;
  await lookups(sqlite, Number(values.queries), known, work, random, span);
  console.log(`peak rss during lookups ${mib(peakRss)}`);

  sqlite.close();
  if (values.dir === undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${path}`);
}

await main();
