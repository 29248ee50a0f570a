/**
 * bench:lookup --http: LookupEvents as a client sees it, signed, through HTTP, while records
 * arrive. The built server (child process, SQLite in a data directory) is filled through
 * `POST /ingest` with the store-level run's event history (three accounts, four regions, Zipf's
 * law over names, users and resource types; 80 days, so that none ages out of the 90 days during
 * a later run), started again, and then for warm-up + measured seconds it takes at once paced
 * ingest of new records and paced LookupEvents calls from several connections: the store-level
 * mix of attributes and time ranges, MaxResults 50, a quarter of them next pages by NextToken.
 * The LookupEvents rate limit is off, so no call is throttled. Each call is recorded, as
 * CloudTrail records it: its answer waits for a write turn among the ingest threads' commits.
 * The warm-up (default 30 s) covers the duplicate filters each connection builds after a start.
 * The records ingested meanwhile stay: a run at 20,000 records/s adds about 1.8 million events
 * to the data directory, and a later --skip-fill run starts from that many more.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { LookupEventsRequest } from "@aws-sdk/client-cloudtrail";
import type { LookupQuery } from "../src/ports/index.ts";
import { summarizeProfile } from "./support/cpu-profile.ts";
import {
  BATCH_MARK,
  batchBody,
  type IngestPoster,
  ingestPoster,
  pacedBatches,
  postAll,
  TIME_MARK,
} from "./support/ingest-post.ts";
import {
  ACCOUNTS,
  firstPage,
  KINDS,
  type Known,
  latencyTable,
  percentile,
  type QueryKind,
  REGIONS,
  weighted,
  workload,
} from "./support/lookup-workload.ts";
import { prng } from "./support/records.ts";
import { type ServerProcess, startServerProcess } from "./support/server-process.ts";
import { cloudTrailCall, sendPrepared } from "./support/signed-call.ts";

export interface HttpLookupOptions {
  events: number;
  /** Measured seconds, after the warm-up. */
  seconds: number;
  warmup: number;
  /** LookupEvents connections, each with one call at a time. */
  connections: number;
  /** LookupEvents calls per second over all connections; 0: each connection as fast as it is answered. */
  queryRate: number;
  /** Records per second of the ingest that runs meanwhile; 0: none. */
  ingestRate: number;
  dir?: string;
  keep: boolean;
  skipFill: boolean;
  cpuProf?: string;
}

const BATCH = 500;
const DAYS = 80;
const DAY_MS = 86_400_000;
const INGEST_CONNECTIONS = 4;
/** Batches of new records made ahead, so that the client (sharing the machine) spends little per batch. */
const TEMPLATES = 48;
/** The API takes Insights lookups by these only; the store-level mix asks the store for others too. */
const INSIGHT_KINDS: ReadonlySet<QueryKind> = new Set(["none", "EventId", "EventName", "EventSource"]);

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const loads = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, name));
    if (stat.isFile()) total += stat.size;
  }
  return total;
}

/** One poster per account: a record is taken only from its own account's key. */
function postersByAccount(url: string, connections: number): Map<string, IngestPoster> {
  return new Map(
    ACCOUNTS.map(([accountId]) => [
      accountId,
      // every record has its eventID: a batch sent twice is stored once
      ingestPoster(url, {
        region: "us-east-1",
        connections,
        accessKeyId: accountId,
        retryStaleSockets: true,
      }),
    ]),
  );
}

/**
 * Groups records by account into batches of BATCH: `take` is called with each full batch, and
 * once more per account with what is left when `flush` is called.
 */
function accountBatches(take: (accountId: string, records: Record<string, unknown>[]) => void) {
  const pending = new Map<string, Record<string, unknown>[]>();
  return {
    add(accountId: string, record: Record<string, unknown>): void {
      const list = pending.get(accountId) ?? [];
      list.push(record);
      pending.set(accountId, list);
      if (list.length === BATCH) {
        pending.delete(accountId);
        take(accountId, list);
      }
    },
    flush(): void {
      for (const [accountId, list] of pending) take(accountId, list);
      pending.clear();
    },
  };
}

/** The store-level run's records over the DAYS before now, mostly in time order, 1 % late. */
async function fill(url: string, total: number, runId: string): Promise<void> {
  let counter = 0;
  const work = workload(1, { eventId: () => `${runId}-f-${(counter++).toString(16).padStart(10, "0")}` });
  const random = prng(2);
  const now = Date.now();
  const first = now - DAYS * DAY_MS;
  const step = (DAYS * DAY_MS) / total;
  const posters = postersByAccount(url, 6);
  const ready: { poster: IngestPoster; body: Buffer }[] = [];
  const batches = accountBatches((accountId, records) => {
    ready.push({ poster: posters.get(accountId)!, body: Buffer.from(JSON.stringify({ Records: records })) });
  });
  let made = 0;
  const began = performance.now();
  let lastReport = began;
  await postAll(6, () => {
    while (ready.length === 0 && made < total) {
      const time =
        random() < 0.01
          ? first + Math.floor(random() * (now - first))
          : Math.floor(first + made * step + random() * 1000);
      const { columns, record } = work.next(Math.min(time, now));
      batches.add(columns.accountId, record);
      made++;
      if (made === total) batches.flush();
    }
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(`  ${made} events, ${Math.round(made / ((lastReport - began) / 1000))} records/s`);
    }
    return ready.shift();
  });
  for (const poster of posters.values()) poster.close();
  const seconds = (performance.now() - began) / 1000;
  console.log(`filled ${total} events in ${seconds.toFixed(0)} s (${Math.round(total / seconds)} records/s)`);
}

/** Batch bodies of one account each, whose eventIDs end in `<batch number, 8 hex><index, 4 hex>`. */
function templates(runId: string): { accountId: string; text: string }[] {
  const work = workload(3);
  const out: { accountId: string; text: string }[] = [];
  const batches = accountBatches((accountId, records) => {
    records.forEach((r, i) => {
      r.eventID = `${runId}-p-${BATCH_MARK}${i.toString(16).padStart(4, "0")}`;
    });
    out.push({ accountId, text: JSON.stringify({ Records: records }) });
  });
  while (out.length < TEMPLATES) {
    const { columns, record } = work.next(TIME_MARK.getTime());
    batches.add(columns.accountId, record);
  }
  return out;
}

/** Paced POST /ingest of new records (eventTime: the second it is sent); when each batch was acknowledged. */
function pacedIngest(url: string, rate: number, runId: string) {
  const bodies = templates(runId);
  const posters = postersByAccount(url, INGEST_CONNECTIONS);
  const ackedAt: number[] = [];
  async function send(batch: number): Promise<void> {
    const { accountId, text } = bodies[batch % bodies.length]!;
    const body = batchBody(text, batch);
    const { status, text: answer } = await posters.get(accountId)!.post(body);
    if (status !== 200) throw new Error(`POST /ingest answered ${status}: ${answer.slice(0, 300)}`);
    ackedAt[batch] = performance.now();
  }
  return {
    /** Records acknowledged between two moments (performance.now() ms). */
    recordsIn: (from: number, to: number) =>
      ackedAt.filter((t) => t !== undefined && t >= from && t < to).length * BATCH,
    async run(until: number): Promise<void> {
      if (rate > 0) await pacedBatches({ lanes: INGEST_CONNECTIONS, until, rate, batchRecords: BATCH, send });
      for (const poster of posters.values()) poster.close();
    },
  };
}

/** LookupEventsRequest as JSON 1.1 sends it: timestamps in epoch seconds. */
type LookupBody = Omit<LookupEventsRequest, "StartTime" | "EndTime"> & { StartTime: number; EndTime: number };

function toRequest(query: LookupQuery): LookupBody {
  const insight = query.category === "Insight" && INSIGHT_KINDS.has(query.attribute?.key ?? "none");
  const request: LookupBody = {
    StartTime: Math.floor(query.start.getTime() / 1000),
    EndTime: Math.ceil(query.end.getTime() / 1000),
    MaxResults: query.limit,
  };
  if (query.attribute !== undefined) {
    request.LookupAttributes = [{ AttributeKey: query.attribute.key, AttributeValue: query.attribute.value }];
  }
  if (insight) request.EventCategory = "insight";
  return request;
}

interface Answer {
  Events?: { EventId?: string }[];
  NextToken?: string;
}

/** Events to look up by EventId: the newest 50 of random days, asked for without an attribute. */
async function survey(url: URL, agent: Agent, span: [number, number]): Promise<Known[]> {
  const random = prng(4);
  const known: Known[] = [];
  for (let i = 0; i < 40; i++) {
    const accountId = weighted(ACCOUNTS, random)();
    const region = weighted(REGIONS, random)();
    const end = span[0] + DAY_MS + random() * (span[1] - span[0] - DAY_MS);
    const call = await cloudTrailCall(url, { accessKeyId: accountId, region }, "LookupEvents", {
      StartTime: Math.floor((end - DAY_MS) / 1000),
      EndTime: Math.ceil(end / 1000),
      MaxResults: 50,
    });
    const { status, text } = await sendPrepared(url, agent, call);
    if (status !== 200) throw new Error(`LookupEvents answered ${status}: ${text.slice(0, 300)}`);
    for (const e of (JSON.parse(text) as Answer).Events ?? []) {
      known.push({ accountId, region, eventId: e.EventId!, category: "Management" });
    }
  }
  if (known.length === 0) throw new Error("LookupEvents found no events: is the data directory filled?");
  return known;
}

interface LookupFigures {
  latencies: Map<string, number[]>;
  rowsOf: Map<string, number>;
  pages: number;
  /** Every counted call: when it was sent and how long it took. */
  calls: { sent: number; ms: number }[];
}

/** Seconds of the measured window that each line of the course of a run covers. */
const SLICE_S = 10;

/**
 * One connection's LookupEvents calls until `until`, one at a time, paced at `rate` calls/s
 * (0: back to back), a turn missed while waiting for an answer left out; calls sent before
 * `from` are not counted. The signing happens before
 * the clock starts.
 */
async function lookupLane(
  lane: number,
  opts: {
    url: URL;
    agent: Agent;
    known: Known[];
    span: [number, number];
    from: number;
    until: number;
    /** Calls per second of this connection. */
    rate: number;
    connections: number;
  },
  figures: LookupFigures,
): Promise<void> {
  const work = workload(10 + lane);
  const random = prng(20 + lane);
  const interval = opts.rate > 0 ? 1000 / opts.rate : 0;
  // the lanes take turns: lane i starts i/lanes of an interval after lane 0
  let due = performance.now() + (interval * lane) / opts.connections;
  let previous: { kind: QueryKind; query: LookupQuery; request: LookupBody; token: string } | undefined;
  for (;;) {
    if (due >= opts.until) return;
    await sleep(Math.max(0, due - performance.now()));
    // a call answered late does not make the next ones come back to back: missed turns are skipped
    due = Math.max(due + interval, performance.now());
    let kind: QueryKind;
    let query: LookupQuery;
    let request: LookupBody;
    if (previous !== undefined && random() < 0.25) {
      // the next page of the previous call, as the CLI asks for it
      ({ kind, query } = previous);
      request = { ...previous.request, NextToken: previous.token };
    } else {
      ({ kind, query } = firstPage(work, opts.known, random, opts.span));
      request = toRequest(query);
    }
    const call = await cloudTrailCall(
      opts.url,
      { accessKeyId: query.accountId, region: query.region },
      "LookupEvents",
      request,
    );
    const sent = performance.now();
    const { status, text } = await sendPrepared(opts.url, opts.agent, call);
    const elapsed = performance.now() - sent;
    if (status !== 200) throw new Error(`LookupEvents answered ${status}: ${text.slice(0, 300)}`);
    const answer = JSON.parse(text) as Answer;
    if (sent >= opts.from) {
      figures.latencies.get(kind)!.push(elapsed);
      figures.calls.push({ sent, ms: elapsed });
      figures.rowsOf.set(kind, figures.rowsOf.get(kind)! + (answer.Events?.length ?? 0));
      if (request.NextToken !== undefined) figures.pages++;
    }
    previous = answer.NextToken === undefined ? undefined : { kind, query, request, token: answer.NextToken };
  }
}

/** The server's per-second event-loop lag lines (bench/support/loop-lag.ts), with when each arrived. */
function watchLoopLag(server: ServerProcess) {
  const mark = "opentrail-bench-loop-lag ";
  const lags: { at: number; p99Ms: number; maxMs: number }[] = [];
  let partial = "";
  server.child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith(mark)) lags.push({ at: performance.now(), ...JSON.parse(line.slice(mark.length)) });
    }
  });
  return lags;
}

export async function lookupOverHttp(opts: HttpLookupOptions): Promise<void> {
  if (opts.skipFill && opts.dir === undefined)
    throw new Error("--skip-fill needs the --dir of an earlier run");
  const dataDir = opts.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-lookup-"));
  // eventIDs of this run: neither the fill's nor the ingest's may repeat an earlier run's
  const runId = Date.now().toString(16);
  try {
    if (!opts.skipFill) {
      console.log(`filling ${dataDir} with ${opts.events} events through POST /ingest, batches of ${BATCH}`);
      const filling = await startServerProcess({ dataDir, startTimeoutMs: 60_000 });
      try {
        await fill(filling.url, opts.events, runId);
      } finally {
        await filling.stop("SIGTERM");
      }
    }
    const started = performance.now();
    const server = await startServerProcess({
      dataDir,
      startTimeoutMs: 120_000,
      serveArgs: ["--lookup-events-rate", "0"],
      nodeArgs: [
        ...(opts.cpuProf === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", opts.cpuProf]),
        "--import",
        fileURLToPath(new URL("./support/loop-lag.js", import.meta.url)),
      ],
    });
    const startMs = performance.now() - started;
    const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
    try {
      const url = new URL(server.url);
      const lags = watchLoopLag(server);
      const now = Date.now();
      const span: [number, number] = [now - DAYS * DAY_MS, now];
      const known = await survey(url, agent, span);
      console.log(
        `lookup over HTTP: ${mib(dirBytes(dataDir))} of data directory, server started in ${startMs.toFixed(0)} ms; ` +
          `${opts.connections} connections, LookupEvents ${opts.queryRate > 0 ? `paced at ${opts.queryRate}/s` : "back to back"}, ` +
          `ingest ${opts.ingestRate > 0 ? `paced at ${opts.ingestRate} records/s` : "off"}; ` +
          `${opts.warmup} s warm-up + ${opts.seconds} s; load average ${loads()} before`,
      );
      const ingest = pacedIngest(server.url, opts.ingestRate, runId);
      const figures: LookupFigures = {
        latencies: new Map(KINDS.map((k) => [k, []])),
        rowsOf: new Map(KINDS.map((k) => [k, 0])),
        pages: 0,
        calls: [],
      };
      const begin = performance.now();
      const from = begin + opts.warmup * 1000;
      const until = from + opts.seconds * 1000;
      let peakRss = 0;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, server.usage()?.rssBytes ?? 0);
      }, 1000);
      let cpuAtFrom: number | undefined;
      const warmed = setTimeout(() => {
        cpuAtFrom = server.usage()?.cpuMs;
      }, opts.warmup * 1000);
      const laneOpts = {
        url,
        agent,
        known,
        span,
        from,
        until,
        rate: opts.queryRate / opts.connections,
        connections: opts.connections,
      };
      await Promise.all([
        ingest.run(until),
        ...Array.from({ length: opts.connections }, (_, lane) => lookupLane(lane, laneOpts, figures)),
      ]);
      const ended = performance.now();
      clearInterval(sampler);
      clearTimeout(warmed);
      const usage = server.usage();

      const warm = ingest.recordsIn(begin, from);
      const measured = ingest.recordsIn(from, until);
      console.log(
        `ingest: ${Math.round(measured / opts.seconds)} records/s achieved in the measured ${opts.seconds} s ` +
          `(${measured} records)${opts.warmup > 0 ? `, ${Math.round(warm / opts.warmup)} records/s in the warm-up` : ""}`,
      );
      const all = [...figures.latencies.values()].flat().sort((a, b) => a - b);
      console.log(
        `LookupEvents: ${all.length} calls in ${opts.seconds} s (${figures.pages} of them next pages), ` +
          `${[...figures.rowsOf.values()].reduce((a, b) => a + b, 0)} events returned`,
      );
      for (const line of latencyTable(figures.latencies, figures.rowsOf)) console.log(line);
      console.log(
        `LookupEvents latency: p50 ${percentile(all, 0.5).toFixed(2)} ms, p99 ${percentile(all, 0.99).toFixed(2)} ms, ` +
          `max ${(all[all.length - 1] ?? Number.NaN).toFixed(2)} ms`,
      );
      // the course of the run: a server just started builds its duplicate filters meanwhile
      for (let at = from; at < until - 1; at += SLICE_S * 1000) {
        const to = Math.min(until, at + SLICE_S * 1000);
        const ms = figures.calls
          .filter((c) => c.sent >= at && c.sent < to)
          .map((c) => c.ms)
          .sort((a, b) => a - b);
        const lag = lags.filter((l) => l.at >= at && l.at < to).map((l) => l.p99Ms);
        console.log(
          `  ${String(Math.round((at - from) / 1000)).padStart(4)}–${String(Math.round((to - from) / 1000)).padStart(3)} s: ` +
            `${String(ms.length).padStart(4)} calls, p50 ${percentile(ms, 0.5).toFixed(1).padStart(6)} ms, ` +
            `p99 ${percentile(ms, 0.99).toFixed(1).padStart(6)} ms; ingest ${String(Math.round(ingest.recordsIn(at, to) / ((to - at) / 1000))).padStart(6)} records/s; ` +
            `loop lag p99 ≤ ${lag.length > 0 ? Math.max(...lag) : "?"} ms`,
        );
      }
      const inWindow = lags.filter((l) => l.at >= from && l.at <= until);
      if (inWindow.length > 0) {
        console.log(
          `server event-loop lag: worst per-second p99 ${Math.max(...inWindow.map((l) => l.p99Ms))} ms, ` +
            `max ${Math.max(...inWindow.map((l) => l.maxMs))} ms`,
        );
      }
      if (usage !== undefined) {
        const cpu =
          cpuAtFrom === undefined
            ? ""
            : `, ${((100 * (usage.cpuMs - cpuAtFrom)) / (ended - from)).toFixed(0)}% of one core in the measured window`;
        console.log(
          `server: RSS ${mib(usage.rssBytes)} at the end (peak ${mib(Math.max(peakRss, usage.rssBytes))})${cpu}`,
        );
      }
      console.log(`load average ${loads()} after`);
    } catch (e) {
      console.error(`the server's log, last lines:\n${server.stderr().split("\n").slice(-20).join("\n")}`);
      throw e;
    } finally {
      agent.destroy();
      await server.stop("SIGTERM");
    }
  } finally {
    if (opts.dir === undefined && !opts.keep) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`kept ${dataDir}`);
  }
  if (opts.cpuProf !== undefined) console.log(summarizeProfile(opts.cpuProf));
}
