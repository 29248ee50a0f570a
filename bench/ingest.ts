/**
 * Sustained `POST /ingest` throughput of the real server (built dist, child process, embedded
 * SQLite on a fresh data directory, or the PostgreSQL database of --database), driven by
 * concurrent signed requests of plain JSON batches. Prints figures only.
 *
 *   npm run bench:ingest -- [--seconds 20] [--warmup 2] [--concurrency 6] [--batch 500]
 *                           [--ingest-workers N (the server's default)]
 *                           [--database postgres://… [--nodes 1]]
 *                           [--cpu-prof DIR] [--dir D] [--keep]
 *                           [--insights] [--base TREE [--rounds 2]]
 *
 * --insights gives the account a logging trail with both Insights types before the load, so
 * the server counts what it ingests and runs its Insights passes. --base runs another built tree
 * (a checkout of an earlier commit after `npm run build`) in turns with this one, the order
 * swapped each round, and prints both medians side by side: e.g. this tree with --insights
 * against the commit before Insights counting (6d00fc0^) measures what Insights cost ingest.
 *
 * --cpu-prof writes the server's V8 CPU profile into DIR and prints where its time went.
 *
 * --database runs the server on a fresh database made on that PostgreSQL server (its role must
 * be allowed to create databases; dropped after the run unless --keep) and prints the CPU that
 * PostgreSQL spent per record too: the database's backends, and the processes every database
 * shares, such as the WAL writer. --nodes N starts N servers on that database, each on a data
 * directory of its own as several nodes are run, and spreads the clients over them round-robin;
 * server CPU is printed per node and summed.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutInsightSelectorsCommand,
  StartLoggingCommand,
} from "@aws-sdk/client-cloudtrail";
import { freshDatabase } from "../test/support/fresh-database.ts";
import { summarizeProfile } from "./support/cpu-profile.ts";
import { BATCH_MARK, batchBody, lanePosters, numberFlag, TIME_MARK } from "./support/ingest-post.ts";
import {
  type PostgresSample,
  postgresCpu,
  postgresCpuLine,
  postgresCpuSpent,
  type WalSample,
  walLine,
  walSample,
} from "./support/postgres.ts";
import { recordSource } from "./support/records.ts";
import { type ProcessUsage, type ServerProcess, startServerProcess } from "./support/server-process.ts";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
/** Bodies prepared ahead, so that the client (on the same two cores) spends little per request. */
const TEMPLATES = 16;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    warmup: { type: "string", default: "2" },
    concurrency: { type: "string", default: "6" },
    batch: { type: "string", default: "500" },
    "ingest-workers": { type: "string" },
    database: { type: "string" },
    nodes: { type: "string", default: "1" },
    "cpu-prof": { type: "string" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
    insights: { type: "boolean", default: false },
    base: { type: "string" },
    rounds: { type: "string", default: "2" },
  },
});

const seconds = numberFlag("seconds", flags.seconds);
const warmup = numberFlag("warmup", flags.warmup);
const concurrency = Math.max(1, Math.floor(numberFlag("concurrency", flags.concurrency)));
const batchSize = Math.max(1, Math.floor(numberFlag("batch", flags.batch)));
const rounds = Math.max(1, Math.floor(numberFlag("rounds", flags.rounds)));
const nodes = Math.max(1, Math.floor(numberFlag("nodes", flags.nodes)));
if (nodes > 1 && !/^postgres(ql)?:\/\//.test(flags.database ?? "")) {
  // nodes share their records through the database; SQLite is one server's file
  throw new Error("--nodes needs --database postgres://…");
}

/** JSON bodies whose eventIDs are `<prefix>-<batch mark><index>`: a fresh batch number makes them unique. */
function buildTemplates(): string[] {
  const templates: string[] = [];
  for (let t = 0; t < TEMPLATES; t++) {
    const source = recordSource({ seed: 1000 + t, accountId: ACCOUNT, region: REGION });
    const records = [];
    for (let i = 0; i < batchSize; i++) {
      const record = source.next(TIME_MARK);
      record.eventID = `6f1c0a5e-b3d4-4e21-9c7a-${BATCH_MARK}${i.toString(16).padStart(4, "0")}`;
      records.push(record);
    }
    templates.push(JSON.stringify({ Records: records }));
  }
  return templates;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Sent {
  ended: number;
  ms: number;
  records: number;
  /** Which server took it (0 when there is one). */
  node: number;
}

function driver(servers: readonly ServerProcess[], templates: readonly string[]) {
  const posters = lanePosters(
    servers.map((s) => s.url),
    { region: REGION, lanes: concurrency },
  );
  let batchNo = 0;

  /** One batch: fresh ids and the current time in a prepared body, signed, sent, checked. */
  async function sendOne(lane: number): Promise<Sent> {
    const n = batchNo++;
    const body = batchBody(templates[n % templates.length]!, n);
    const started = performance.now();
    const { status, text } = await posters.forLane(lane).post(body);
    const ended = performance.now();
    if (status !== 200) throw new Error(`POST /ingest answered ${status}: ${text.slice(0, 500)}`);
    const answer = JSON.parse(text) as { eventIds: string[]; duplicates: string[] };
    if (answer.eventIds.length !== batchSize || answer.duplicates.length !== 0) {
      throw new Error(
        `unexpected answer: ${answer.eventIds.length} ids, ${answer.duplicates.length} duplicates`,
      );
    }
    return { ended, ms: ended - started, records: batchSize, node: posters.nodeOf(lane) };
  }

  return {
    /** Keeps `concurrency` batches in flight until `until` (performance.now() ms). */
    async run(until: number): Promise<Sent[]> {
      const sent: Sent[] = [];
      const lane = async (n: number) => {
        while (performance.now() < until) sent.push(await sendOne(n));
      };
      await Promise.all(Array.from({ length: concurrency }, (_, n) => lane(n)));
      posters.close();
      return sent;
    },
  };
}

/** CPU time all cores spent busy so far, in ms (Linux /proc/stat); undefined elsewhere. */
function machineBusyMs(): number | undefined {
  try {
    const cpu = readFileSync("/proc/stat", "utf8")
      .split("\n")[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    const idle = cpu[3]! + cpu[4]!;
    return ((cpu.reduce((a, b) => a + b, 0) - idle) * 1000) / 100;
  } catch {
    return undefined;
  }
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? "n/a" : `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const info = statSync(join(dir, name));
    total += info.isDirectory() ? dirBytes(join(dir, name)) : info.size;
  }
  return total;
}

interface RunFigures {
  recordsPerSecond: number;
  p50: number;
  p99: number;
  /** Server CPU per record after the warm-up, µs (undefined where /proc is missing). */
  cpuUs: number | undefined;
  mainUs: number | undefined;
}

/** A logging trail with both Insights types, so the server counts and analyses what it ingests. */
async function enableInsights(server: ServerProcess, dataDirs: readonly string[]): Promise<void> {
  const bucket = "opentrail-bench-insights";
  // the local bucket store: a bucket is a directory of the data directory (of every node's)
  for (const dataDir of dataDirs) mkdirSync(join(dataDir, "buckets", bucket), { recursive: true });
  const client = new CloudTrailClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    await client.send(new CreateTrailCommand({ Name: "bench-insights", S3BucketName: bucket }));
    await client.send(
      new PutInsightSelectorsCommand({
        TrailName: "bench-insights",
        InsightSelectors: [{ InsightType: "ApiCallRateInsight" }, { InsightType: "ApiErrorRateInsight" }],
      }),
    );
    await client.send(new StartLoggingCommand({ Name: "bench-insights" }));
  } finally {
    client.destroy();
  }
}

/**
 * The servers of one run: one on `dataDir`, or with --nodes N, N on `dataDir/node-<i>`, started
 * one after the other (the first brings the schema to the last migration).
 */
async function startServers(
  cliPath: string | undefined,
  dataDir: string,
  database: string | undefined,
  profileDir: string | undefined,
): Promise<{ servers: ServerProcess[]; dataDirs: string[]; profileDirs: string[] }> {
  const dataDirs =
    nodes === 1 ? [dataDir] : Array.from({ length: nodes }, (_, i) => join(dataDir, `node-${i + 1}`));
  const profileDirs =
    profileDir === undefined
      ? []
      : nodes === 1
        ? [profileDir]
        : dataDirs.map((_, i) => join(profileDir, `node-${i + 1}`));
  const servers: ServerProcess[] = [];
  try {
    for (const [i, nodeDir] of dataDirs.entries()) {
      const profile = profileDirs[i];
      if (profile !== undefined) mkdirSync(profile, { recursive: true });
      servers.push(
        await startServerProcess({
          dataDir: nodeDir,
          ...(cliPath === undefined ? {} : { cliPath }),
          nodeArgs: profile === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profile],
          serveArgs: [
            ...(flags["ingest-workers"] === undefined ? [] : ["--ingest-workers", flags["ingest-workers"]]),
            ...(database === undefined ? [] : ["--database", database]),
          ],
        }),
      );
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop("SIGTERM")));
    throw e;
  }
  return { servers, dataDirs, profileDirs };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** One server (this tree's build, or `cliPath`'s), or --nodes of them, on a fresh data directory, measured and stopped. */
async function runOnce(label: string, cliPath: string | undefined, dataDir: string): Promise<RunFigures> {
  const profileDir = cliPath === undefined ? flags["cpu-prof"] : undefined;
  const templates = buildTemplates();
  const bodyKb = Buffer.byteLength(templates[0]!) / 1024;
  const database =
    flags.database === undefined ? undefined : await freshDatabase(flags.database, "opentrail_bench");
  let started: Awaited<ReturnType<typeof startServers>>;
  try {
    started = await startServers(cliPath, dataDir, database?.url, profileDir);
  } catch (e) {
    await database?.drop();
    throw e;
  }
  const { servers, dataDirs, profileDirs } = started;
  const databaseName = database === undefined ? "" : new URL(database.url).pathname.slice(1);
  if (flags.insights) await enableInsights(servers[0]!, dataDirs);
  const peakRss = servers.map(() => 0);
  let atWarmupEnd: (ProcessUsage | undefined)[] = [];
  const sampler = setInterval(() => {
    for (const [i, server] of servers.entries())
      peakRss[i] = Math.max(peakRss[i]!, server.usage()?.rssBytes ?? 0);
  }, 200);
  const figures: RunFigures = {
    recordsPerSecond: Number.NaN,
    p50: Number.NaN,
    p99: Number.NaN,
    cpuUs: undefined,
    mainUs: undefined,
  };
  const say = (text: string) => console.log(label === "" ? text : `[${label}] ${text}`);
  try {
    say(
      `ingest bench: ${flags.database === undefined ? "SQLite" : nodes === 1 ? "PostgreSQL" : `PostgreSQL, ${nodes} nodes`}, ${flags["ingest-workers"] ?? "default"} ingest workers, ${concurrency} in flight, batches of ${batchSize} records (${bodyKb.toFixed(0)} KB plain JSON, ` +
        `${((bodyKb * 1024) / batchSize).toFixed(0)} B/record), ${warmup} s warm-up + ${seconds} s, ` +
        `${flags.insights ? "a logging trail with both Insights types" : "no trail"}, load average ${loadavg()[0]!.toFixed(2)} before`,
    );
    const start = performance.now();
    const from = start + warmup * 1000;
    const to = from + seconds * 1000;
    let clientAtWarmupEnd = process.cpuUsage();
    let busyAtWarmupEnd = machineBusyMs();
    let postgresAtWarmupEnd: PostgresSample = postgresCpu(databaseName);
    let walAtWarmupEnd: Promise<WalSample> | undefined;
    const warmupTimer = setTimeout(() => {
      atWarmupEnd = servers.map((s) => s.usage());
      clientAtWarmupEnd = process.cpuUsage();
      busyAtWarmupEnd = machineBusyMs();
      postgresAtWarmupEnd = postgresCpu(databaseName);
      if (database !== undefined) walAtWarmupEnd = walSample(database.url);
    }, warmup * 1000);
    const sent = await driver(servers, templates).run(to);
    clearTimeout(warmupTimer);
    const atEnd = servers.map((s) => s.usage());
    const clientCpu = process.cpuUsage(clientAtWarmupEnd);
    const busyAtEnd = machineBusyMs();
    const postgresAtEnd = postgresCpu(databaseName);
    const walAtEnd = database === undefined ? undefined : await walSample(database.url);
    const lastEnd = Math.max(...sent.map((s) => s.ended));
    const counted = sent.filter((s) => s.ended >= from && s.ended <= to);
    const records = counted.reduce((n, s) => n + s.records, 0);
    const latencies = counted.map((s) => s.ms).sort((a, b) => a - b);
    for (const [i, usage] of atEnd.entries()) peakRss[i] = Math.max(peakRss[i]!, usage?.rssBytes ?? 0);
    figures.recordsPerSecond = records / seconds;
    figures.p50 = percentile(latencies, 50);
    figures.p99 = percentile(latencies, 99);
    say(`records/s sustained: ${Math.round(records / seconds)} (${records} records in ${seconds} s)`);
    say(
      `batch latency: p50 ${figures.p50.toFixed(1)} ms, p99 ${figures.p99.toFixed(1)} ms, ` +
        `max ${percentile(latencies, 100).toFixed(1)} ms (${latencies.length} batches)`,
    );
    if (nodes === 1) say(`server RSS: ${mb(atEnd[0]?.rssBytes)} at the end, ${mb(peakRss[0])} peak`);
    else {
      say(
        `server RSS: ${atEnd.map((u, i) => `node ${i + 1} ${mb(u?.rssBytes)} at the end, ${mb(peakRss[i])} peak`).join("; ")}`,
      );
    }
    const measured =
      atWarmupEnd.length === servers.length && atWarmupEnd.every((u) => u) && atEnd.every((u) => u);
    if (measured) {
      // CPU per record does not depend on what else the machine runs, unlike records/s.
      const afterBy = (node: number | undefined) =>
        sent
          .filter((s) => s.ended >= from && (node === undefined || s.node === node))
          .reduce((n, s) => n + s.records, 0);
      const after = afterBy(undefined);
      const cpuMsOf = servers.map((_, i) => atEnd[i]!.cpuMs - atWarmupEnd[i]!.cpuMs);
      const mainMsOf = servers.map((_, i) => atEnd[i]!.mainThreadCpuMs - atWarmupEnd[i]!.mainThreadCpuMs);
      const cpuMs = sum(cpuMsOf);
      const mainUs = (sum(mainMsOf) * 1000) / after;
      const wallMs = lastEnd - from;
      const clientMs = (clientCpu.user + clientCpu.system) / 1000;
      figures.cpuUs = (cpuMs * 1000) / after;
      figures.mainUs = mainUs;
      say(
        `server CPU${nodes === 1 ? "" : ` (${nodes} nodes summed)`}: ${figures.cpuUs.toFixed(1)} µs per record (main thread${nodes === 1 ? "" : "s"} ${mainUs.toFixed(1)}), ` +
          `${((100 * cpuMs) / wallMs).toFixed(0)}% of one core; ` +
          `client CPU: ${((clientMs * 1000) / after).toFixed(1)} µs per record, ${((100 * clientMs) / wallMs).toFixed(0)}% of one core`,
      );
      if (nodes === 1) {
        // What the main thread's CPU per record allows when it has a core to itself and never waits.
        say(`main-thread ceiling: ${Math.round(1e6 / mainUs)} records/s`);
      } else {
        for (const [i] of servers.entries()) {
          const own = afterBy(i);
          const nodeMainUs = (mainMsOf[i]! * 1000) / own;
          say(
            `  node ${i + 1}: ${own} records, ${((cpuMsOf[i]! * 1000) / own).toFixed(1)} µs CPU per record ` +
              `(main thread ${nodeMainUs.toFixed(1)}, ceiling ${Math.round(1e6 / nodeMainUs)} records/s), ` +
              `${((100 * cpuMsOf[i]!) / wallMs).toFixed(0)}% of one core`,
          );
        }
      }
      const postgres =
        database === undefined ? { run: 0, shared: 0 } : postgresCpuSpent(postgresAtWarmupEnd, postgresAtEnd);
      const postgresMs = postgres.run + postgres.shared;
      if (postgresMs > 0) say(postgresCpuLine(postgres, after, wallMs));
      if (walAtWarmupEnd !== undefined && walAtEnd !== undefined)
        say(walLine(await walAtWarmupEnd, walAtEnd, after, wallMs));
      if (busyAtWarmupEnd !== undefined && busyAtEnd !== undefined) {
        // The figures above only hold for a machine this bench has to itself.
        const others = busyAtEnd - busyAtWarmupEnd - cpuMs - clientMs - postgresMs;
        say(
          `other processes${postgresMs > 0 ? " (besides PostgreSQL)" : ""}: ${Math.max(0, (100 * others) / wallMs).toFixed(0)}% of one core meanwhile`,
        );
      }
    }
    say(
      `total: ${sent.length * batchSize} records in ${((lastEnd - start) / 1000).toFixed(1)} s; data dir ${mb(dirBytes(dataDir))}; ` +
        `load average ${loadavg()[0]!.toFixed(2)} after`,
    );
  } finally {
    clearInterval(sampler);
    for (const [i, server] of servers.entries()) {
      const exit = await server.stop("SIGTERM");
      if (exit.code !== 0) {
        console.error(
          `server${nodes === 1 ? "" : ` ${i + 1}`} exited with ${exit.code ?? exit.signal}:\n${server.stderr()}`,
        );
      }
    }
    if (database !== undefined && !flags.keep) await database.drop();
    else if (database !== undefined) say(`kept database ${new URL(database.url).pathname.slice(1)}`);
  }
  for (const [i, dir] of profileDirs.entries()) {
    if (nodes > 1) console.log(`node ${i + 1}:`);
    console.log(summarizeProfile(dir));
  }
  return figures;
}

function median(values: readonly number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-ingest-"));
  try {
    if (flags.base === undefined) {
      await runOnce("", undefined, dir);
      return;
    }
    if (flags.database !== undefined) {
      // every run numbers its batches from 0, so a second run on one database would be all duplicates
      throw new Error("--base compares on fresh SQLite data directories; it does not take --database");
    }
    // Both builds in turns, the order swapped each round, each on a fresh data directory, so
    // drift in the machine's load falls on both alike.
    const baseCli = join(flags.base, "dist", "cli", "main.js");
    const mine: RunFigures[] = [];
    const base: RunFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      const order: ("this" | "base")[] = round % 2 === 0 ? ["this", "base"] : ["base", "this"];
      for (const which of order) {
        const data = join(dir, `${which}-${round}`);
        const figures = await runOnce(
          `${which} ${round + 1}/${rounds}`,
          which === "this" ? undefined : baseCli,
          data,
        );
        (which === "this" ? mine : base).push(figures);
        if (!flags.keep) rmSync(data, { recursive: true, force: true });
      }
    }
    const row = (name: string, f: RunFigures[]) =>
      `  ${name.padEnd(5)} ${String(Math.round(median(f.map((x) => x.recordsPerSecond)))).padStart(7)} records/s  ` +
      `server CPU ${median(f.map((x) => x.cpuUs ?? Number.NaN)).toFixed(2)} µs/record  ` +
      `p99 ${median(f.map((x) => x.p99)).toFixed(1)} ms`;
    const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(1)} %`;
    console.log(`medians of ${rounds} rounds (base: ${flags.base}):`);
    console.log(row("this", mine));
    console.log(row("base", base));
    console.log(
      `this vs base: records/s ${pct(median(mine.map((x) => x.recordsPerSecond)), median(base.map((x) => x.recordsPerSecond)))}, ` +
        `server CPU per record ${pct(median(mine.map((x) => x.cpuUs ?? Number.NaN)), median(base.map((x) => x.cpuUs ?? Number.NaN)))}`,
    );
  } finally {
    if (!flags.keep && flags.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
