/**
 * Delivery keeping up with ingest: the built server (child process, embedded SQLite or the
 * PostgreSQL database of --database, local buckets) with a short delivery interval and one logging trail that selects every record, fed
 * 500-record batches by concurrent clients at full speed. Prints records/s ingested and delivered,
 * and the delivery latency: from a batch's acknowledgement to its records' file appearing in the
 * bucket (the bucket directory is listed every few milliseconds).
 *
 *   npm run bench:delivery -- [--seconds 15] [--warmup 2] [--concurrency 4] [--batch 500]
 *                             [--interval 1] [--rate R] [--ingest-workers N] [--outage S]
 *                             [--database postgres://… [--nodes 1] [--s3]]
 *                             [--cpu-prof DIR] [--dir D] [--keep]
 *
 * --database runs the server on a fresh database made on that PostgreSQL server (its role must
 * be allowed to create databases; dropped after the run unless --keep) and prints the CPU that
 * PostgreSQL spent per record too: the database's backends, and the processes every database
 * shares, such as the WAL writer. --nodes N starts N servers on that database, each on a data
 * directory of its own as several nodes are run, delivering to one bucket of a moto S3 endpoint
 * that they share, with the clients spread over them round-robin; server CPU is printed per node
 * and summed. --s3 delivers to moto with one node as well, for a figure to set beside theirs
 * (moto's bucket is listed less often than a directory, so the latency figures are coarser).
 *
 * --rate paces ingest at R records/s instead of full speed. The server's event-loop lag is
 * printed too: under load each asynchronous step of a delivery waits about that long.
 * --outage S takes the bucket away (its directory is moved aside) for the first S seconds of the
 * load and then puts it back: ingest and the request thread meanwhile, while the backlog grows
 * on disk, and how long the backlog then takes to arrive.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { httpClient } from "../src/client/http.ts";
import { type FreshDatabase, freshDatabase } from "../test/support/fresh-database.ts";
import { createBucket, type S3TestServer, s3Client, startMoto } from "../test/support/s3-servers.ts";
import { summarizeProfile } from "./support/cpu-profile.ts";
import { bucketDir, logFileKeys, startDeliveryServer } from "./support/delivery-server.ts";
import {
  BATCH_MARK,
  batchBody,
  lanePosters,
  numberFlag,
  pacedBatches,
  TIME_MARK,
} from "./support/ingest-post.ts";
import {
  type PostgresSample,
  postgresCpu,
  postgresCpuLine,
  postgresCpuSpent,
  walLine,
  walSample,
} from "./support/postgres.ts";
import { recordSource } from "./support/records.ts";
import type { ServerProcess } from "./support/server-process.ts";

interface LoopLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The lines bench/support/loop-lag.ts wrote into a stretch of the server's stderr. */
function loopLag(stderr: string): LoopLag[] {
  const mark = "opentrail-bench-loop-lag ";
  return stderr
    .split("\n")
    .filter((line) => line.startsWith(mark))
    .map((line) => JSON.parse(line.slice(mark.length)) as LoopLag);
}

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const BUCKET = "bench-delivery";
/** Bodies prepared ahead, so that the client (sharing the machine) spends little per request. */
const TEMPLATES = 8;
const ID_PREFIX = "0d3e5a70-9f1b-4c2d-8e6f-";
/** How often the bucket is listed: the resolution of the latency figures. */
const LIST_EVERY_MS = 20;
/** The same for moto's bucket: each listing costs moto a few milliseconds of a core it shares. */
const S3_LIST_EVERY_MS = 100;
/** After the load stops, how long the rest may take to arrive before the bench gives up. */
const SETTLE_LIMIT_MS = 60_000;

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "15" },
    warmup: { type: "string", default: "2" },
    concurrency: { type: "string", default: "4" },
    batch: { type: "string", default: "500" },
    interval: { type: "string", default: "1" },
    rate: { type: "string", default: "0" },
    "ingest-workers": { type: "string" },
    database: { type: "string" },
    nodes: { type: "string", default: "1" },
    s3: { type: "boolean", default: false },
    outage: { type: "string", default: "0" },
    "cpu-prof": { type: "string" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const seconds = numberFlag("seconds", flags.seconds);
const warmup = numberFlag("warmup", flags.warmup);
const concurrency = Math.max(1, Math.floor(numberFlag("concurrency", flags.concurrency)));
const batchSize = Math.max(1, Math.min(0xffff, Math.floor(numberFlag("batch", flags.batch))));
const interval = numberFlag("interval", flags.interval);
/** Records/s to pace ingest at; 0 for full speed. */
const rate = numberFlag("rate", flags.rate);
/** Seconds the bucket is missing from the start of the load. */
const outage = numberFlag("outage", flags.outage);
if (outage >= warmup + seconds) throw new Error("--outage must end before the load does");
const nodes = Math.max(1, Math.floor(numberFlag("nodes", flags.nodes)));
if (nodes > 1 && !/^postgres(ql)?:\/\//.test(flags.database ?? "")) {
  // nodes share their records through the database; SQLite is one server's file
  throw new Error("--nodes needs --database postgres://…");
}
/** Whether the servers deliver to moto rather than to local buckets: nodes share one bucket there. */
const useS3 = flags.s3 || nodes > 1;
if (useS3 && outage > 0)
  throw new Error("--outage takes a local bucket's directory away; not with --s3 or --nodes");

/** Batch bodies whose eventIDs end in `<batch number, 8 hex><index, 4 hex>`. */
function templates(): string[] {
  return Array.from({ length: TEMPLATES }, (_, t) => {
    const source = recordSource({ seed: 500 + t, accountId: ACCOUNT, region: REGION });
    const records = Array.from({ length: batchSize }, (_, i) => ({
      ...source.next(TIME_MARK),
      eventID: `${ID_PREFIX}${BATCH_MARK}${i.toString(16).padStart(4, "0")}`,
    }));
    return JSON.stringify({ Records: records });
  });
}

const batchOf = (eventId: string) => Number.parseInt(eventId.slice(-12, -4), 16);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Concurrent signed POST /ingest of prepared bodies; the acknowledgement time of every batch. */
function loadDriver(servers: readonly ServerProcess[], bodies: readonly string[]) {
  const posters = lanePosters(
    servers.map((s) => s.url),
    { region: REGION, lanes: concurrency },
  );
  /** performance.now() at each batch's acknowledgement, by batch number. */
  const ackedAt: number[] = [];

  async function send(batch: number, lane: number): Promise<void> {
    const body = batchBody(bodies[batch % bodies.length]!, batch);
    const { status, text } = await posters.forLane(lane).post(body);
    if (status !== 200) throw new Error(`POST /ingest answered ${status}: ${text.slice(0, 500)}`);
    ackedAt[batch] = performance.now();
  }

  return {
    ackedAt,
    /** Keeps `concurrency` batches in flight until `until` (performance.now() ms), paced by --rate. */
    async run(until: number): Promise<void> {
      await pacedBatches({ lanes: concurrency, until, rate, batchRecords: batchSize, send });
      posters.close();
    },
  };
}

/** Where the log files arrive: a local bucket's directory, or moto's bucket. */
interface WatchedBucket {
  /** Keys of the whole log files in it now. */
  keys(): Promise<string[]>;
  read(key: string): Promise<Buffer>;
  listEveryMs: number;
  close(): void;
}

function localBucket(dir: string): WatchedBucket {
  return {
    keys: async () => logFileKeys(dir),
    read: async (key) => readFileSync(join(dir, key)),
    listEveryMs: LIST_EVERY_MS,
    close() {},
  };
}

function s3Bucket(s3: S3TestServer, bucket: string): WatchedBucket {
  const client = s3Client(s3);
  return {
    async keys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: "AWSLogs/", ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key?.endsWith(".json.gz") && o.Key.includes("/CloudTrail/")) keys.push(o.Key);
        }
        token = page.NextContinuationToken;
      } while (token);
      return keys;
    },
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    listEveryMs: S3_LIST_EVERY_MS,
    close: () => client.destroy(),
  };
}

/** Lists the bucket every few milliseconds and notes when each log file first appeared. */
function bucketWatcher(bucket: WatchedBucket) {
  const seenAt = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const now = performance.now();
      for (const key of await bucket.keys()) if (!seenAt.has(key)) seenAt.set(key, now);
      await sleep(bucket.listEveryMs);
    }
  })();
  return {
    seenAt,
    async stop(): Promise<void> {
      stopped = true;
      await loop;
    },
  };
}

interface DeliveredFile {
  key: string;
  seenAt: number;
  batches: number[];
}

/** The files seen so far, each read once: the batch number of every record in it. */
function deliveredReader(bucket: WatchedBucket, seenAt: ReadonlyMap<string, number>) {
  const read = new Map<string, DeliveredFile>();
  return async (): Promise<DeliveredFile[]> => {
    for (const [key, at] of seenAt) {
      if (read.has(key)) continue;
      const body = JSON.parse(gunzipSync(await bucket.read(key)).toString("utf8")) as {
        Records: { eventID: string }[];
      };
      // the trail's own StartLogging call is in the bucket too
      const ours = body.Records.filter((r) => r.eventID.startsWith(ID_PREFIX));
      read.set(key, { key, seenAt: at, batches: ours.map((r) => batchOf(r.eventID)) });
    }
    return [...read.values()];
  };
}

/** Moves the bucket's directory aside for `seconds`, then back; when it came back, and the server's log then. */
function takeBucketAway(dir: string, seconds: number, server: ServerProcess) {
  const away = `${dir}.away`;
  renameSync(dir, away);
  const state: { back?: number; stderrThen: string } = { stderrThen: "" };
  setTimeout(() => {
    renameSync(away, dir);
    state.back = performance.now();
    state.stderrThen = server.stderr();
  }, seconds * 1000);
  return state;
}

/** Where a run's records and log files go: its database (when --database), moto (when shared), the servers. */
interface Setup {
  database: FreshDatabase | undefined;
  s3: S3TestServer | undefined;
  servers: ServerProcess[];
  profileDirs: string[];
}

/** The database and the bucket first, then the servers one after the other (the first migrates). */
async function setUp(dataDir: string, setup: Setup): Promise<void> {
  const profileDir = flags["cpu-prof"];
  if (flags.database !== undefined) setup.database = await freshDatabase(flags.database, "opentrail_bench");
  if (useS3) {
    setup.s3 = await startMoto();
    await createBucket(setup.s3, BUCKET);
  } else mkdirSync(bucketDir(dataDir, BUCKET), { recursive: true });
  for (let i = 0; i < nodes; i++) {
    const profile =
      profileDir === undefined ? undefined : nodes === 1 ? profileDir : join(profileDir, `node-${i + 1}`);
    if (profile !== undefined) {
      mkdirSync(profile, { recursive: true });
      setup.profileDirs.push(profile);
    }
    setup.servers.push(
      await startDeliveryServer({
        dataDir: nodes === 1 ? dataDir : join(dataDir, `node-${i + 1}`),
        deliveryIntervalSeconds: interval,
        serveArgs: [
          ...(flags["ingest-workers"] === undefined ? [] : ["--ingest-workers", flags["ingest-workers"]]),
          ...(setup.database === undefined ? [] : ["--database", setup.database.url]),
          // moto's bucket has no policy: checked as for a local bucket, only that it exists
          ...(setup.s3 === undefined ? [] : ["--s3-endpoint", setup.s3.endpoint, "--policy-checks", "off"]),
        ],
        nodeArgs: [
          ...(profile === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profile]),
          "--import",
          fileURLToPath(new URL("./support/loop-lag.js", import.meta.url)),
        ],
      }),
    );
  }
}

async function main(): Promise<void> {
  const dataDir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-delivery-"));
  const dir = bucketDir(dataDir, BUCKET);
  const bodies = templates();
  const setup: Setup = { database: undefined, s3: undefined, servers: [], profileDirs: [] };
  let bucket: WatchedBucket | undefined;
  try {
    await setUp(dataDir, setup);
    const { servers } = setup;
    const server = servers[0]!;
    const databaseName = setup.database === undefined ? "" : new URL(setup.database.url).pathname.slice(1);
    bucket = setup.s3 === undefined ? localBucket(dir) : s3Bucket(setup.s3, BUCKET);
    const api = httpClient({ endpoint: server.url, region: REGION });
    await api.createTrail({ Name: "bench", S3BucketName: BUCKET });
    await api.startLogging({ Name: "bench" });
    api.client.destroy();
    console.log(
      `delivery bench: ${flags.database === undefined ? "SQLite" : nodes === 1 ? "PostgreSQL" : `PostgreSQL, ${nodes} nodes`}${useS3 ? ", a moto S3 bucket" : ""}, ${concurrency} in flight, batches of ${batchSize} records ` +
        `(${(Buffer.byteLength(bodies[0]!) / batchSize).toFixed(0)} B/record), delivery interval ${interval} s, ` +
        `ingest ${rate > 0 ? `paced at ${rate} records/s` : "at full speed"}, ` +
        `${warmup} s warm-up + ${seconds} s, load average ${loadavg()[0]!.toFixed(2)} before`,
    );

    const walBefore = setup.database === undefined ? undefined : await walSample(setup.database.url);
    const watcher = bucketWatcher(bucket);
    const driver = loadDriver(servers, bodies);
    const start = performance.now();
    const from = start + warmup * 1000;
    const to = from + seconds * 1000;
    const cpuBefore = servers.map((s) => s.usage());
    const postgresBefore: PostgresSample = postgresCpu(databaseName);
    const bucketOutage = outage > 0 ? takeBucketAway(dir, outage, server) : undefined;
    let stderrAtWarmupEnd: string[] = servers.map(() => "");
    const warmupTimer = setTimeout(() => {
      stderrAtWarmupEnd = servers.map((s) => s.stderr());
    }, warmup * 1000);
    await driver.run(to);
    clearTimeout(warmupTimer);
    const loadEnded = performance.now();
    const cpuAfter = servers.map((s) => s.usage());
    const postgresAfter = postgresCpu(databaseName);
    const walAfter = setup.database === undefined ? undefined : await walSample(setup.database.url);
    const allLags = loopLag(server.stderr());
    const lags = servers.flatMap((s, i) => loopLag(s.stderr()).slice(loopLag(stderrAtWarmupEnd[i]!).length));
    const ackedAt = driver.ackedAt;
    const ackedRecords = ackedAt.filter((t) => t !== undefined).length * batchSize;

    // The rest arrives within about one interval; the bench waits for it, with a bound. Files are
    // read only once no new one has appeared for a while: reading hundreds of megabytes of JSON
    // stops this process's event loop for seconds, and the watcher would see the last files late.
    const readDelivered = deliveredReader(bucket, watcher.seenAt);
    const settleLimit = loadEnded + SETTLE_LIMIT_MS;
    const quietMs = 2 * interval * 1000 + 2000;
    const count = (files: DeliveredFile[]) => files.reduce((n, f) => n + f.batches.length, 0);
    const lastSeen = () => Math.max(loadEnded, ...watcher.seenAt.values());
    for (;;) {
      while (performance.now() < settleLimit && performance.now() - lastSeen() < quietMs) await sleep(100);
      if (performance.now() >= settleLimit || count(await readDelivered()) >= ackedRecords) break;
    }
    await watcher.stop();
    const files = await readDelivered();
    const delivered = count(files);
    const lastFile = Math.max(...files.map((f) => f.seenAt));
    const deliveredByLoadEnd = count(files.filter((f) => f.seenAt <= loadEnded));

    const inWindow = (t: number | undefined) => t !== undefined && t >= from && t <= to;
    const ingested = ackedAt.filter(inWindow).length * batchSize;
    const deliveredInWindow = files
      .filter((f) => inWindow(f.seenAt))
      .reduce((n, f) => n + f.batches.length, 0);
    // latency of the records acknowledged after the warm-up
    const latencies: number[] = [];
    for (const f of files) {
      for (const b of f.batches) {
        const acked = ackedAt[b];
        if (acked !== undefined && acked >= from) latencies.push(Math.max(0, f.seenAt - acked));
      }
    }
    latencies.sort((a, b) => a - b);

    console.log(
      `ingested: ${Math.round(ingested / seconds)} records/s (${ingested} records in ${seconds} s)`,
    );
    console.log(
      `delivered: ${Math.round(deliveredInWindow / seconds)} records/s in the same window; ` +
        `${ackedRecords - deliveredByLoadEnd} records waiting when the load stopped, the last of them ` +
        `delivered ${((lastFile - loadEnded) / 1000).toFixed(2)} s later; ${delivered} of ${ackedRecords} ` +
        `acknowledged records in ${files.length} files`,
    );
    console.log(
      `delivery latency (ack → file in the bucket): p50 ${(percentile(latencies, 50) / 1000).toFixed(2)} s, ` +
        `p99 ${(percentile(latencies, 99) / 1000).toFixed(2)} s, max ${(percentile(latencies, 100) / 1000).toFixed(2)} s ` +
        `(${latencies.length} records, listing every ${bucket.listEveryMs} ms)`,
    );
    const wall = loadEnded - start;
    if (cpuBefore.every((u) => u) && cpuAfter.every((u) => u)) {
      const cpuMsOf = servers.map((_, i) => cpuAfter[i]!.cpuMs - cpuBefore[i]!.cpuMs);
      const cpuMs = cpuMsOf.reduce((a, b) => a + b, 0);
      const rss = (i: number) => `${(cpuAfter[i]!.rssBytes / 1024 / 1024).toFixed(0)} MB`;
      console.log(
        `server CPU${nodes === 1 ? "" : ` (${nodes} nodes summed)`}: ${((cpuMs * 1000) / ackedRecords).toFixed(1)} µs per record, ` +
          `${((100 * cpuMs) / wall).toFixed(0)}% of one core` +
          (nodes === 1 ? `; RSS ${rss(0)} when the load stopped` : ""),
      );
      if (nodes > 1) {
        // a node delivers the records any node took in, for as long as it holds the lane's lease
        for (const [i] of servers.entries()) {
          console.log(
            `  node ${i + 1}: ${((cpuMsOf[i]! * 1000) / ackedRecords).toFixed(1)} µs per record of all nodes', ` +
              `${((100 * cpuMsOf[i]!) / wall).toFixed(0)}% of one core; RSS ${rss(i)} when the load stopped`,
          );
        }
      }
    }
    if (setup.database !== undefined) {
      const postgres = postgresCpuSpent(postgresBefore, postgresAfter);
      if (postgres.run + postgres.shared > 0) console.log(postgresCpuLine(postgres, ackedRecords, wall));
      if (walBefore !== undefined && walAfter !== undefined)
        console.log(walLine(walBefore, walAfter, ackedRecords, wall));
    }
    if (lags.length > 0) {
      const p50s = lags.map((l) => l.p50Ms).sort((a, b) => a - b);
      console.log(
        `server event-loop lag under load${nodes === 1 ? "" : " (all nodes)"}: median of per-second p50 ${percentile(p50s, 50)} ms, ` +
          `worst per-second p99 ${Math.max(...lags.map((l) => l.p99Ms))} ms, max ${Math.max(...lags.map((l) => l.maxMs))} ms`,
      );
    }
    if (bucketOutage?.back !== undefined) {
      const { back, stderrThen } = bucketOutage;
      const recordsIn = (lo: number, hi: number) =>
        ackedAt.filter((t) => t !== undefined && t > lo && t <= hi).length * batchSize;
      const during = allLags.slice(0, loopLag(stderrThen).length);
      const backlogDone = Math.max(
        ...files.filter((f) => f.batches.some((b) => (ackedAt[b] ?? Infinity) <= back)).map((f) => f.seenAt),
      );
      console.log(
        `outage: bucket missing for the first ${outage} s of the load: ingest ${Math.round(recordsIn(start, back) / outage)} records/s meanwhile, ` +
          `request thread's event-loop lag worst per-second p99 ${Math.max(0, ...during.map((l) => l.p99Ms))} ms, max ${Math.max(0, ...during.map((l) => l.maxMs))} ms; ` +
          `${recordsIn(start, back)} records waiting when the bucket came back, all of them delivered ${((backlogDone - back) / 1000).toFixed(2)} s later; ` +
          `ingest meanwhile ${Math.round(recordsIn(back, loadEnded) / ((loadEnded - back) / 1000))} records/s`,
      );
    }
    console.log(`load average ${loadavg()[0]!.toFixed(2)} after`);
    if (delivered !== ackedRecords) {
      process.exitCode = 1;
      console.error(
        `only ${delivered} of ${ackedRecords} records arrived within ${SETTLE_LIMIT_MS / 1000} s`,
      );
    }
  } catch (e) {
    for (const [i, server] of setup.servers.entries()) {
      console.error(
        `the server${nodes === 1 ? "" : ` ${i + 1}`}'s log, last lines:\n${server.stderr().split("\n").slice(-20).join("\n")}`,
      );
    }
    throw e;
  } finally {
    bucket?.close();
    for (const [i, server] of setup.servers.entries()) {
      const exit = await server.stop("SIGTERM");
      if (exit.code !== 0) {
        console.error(
          `server${nodes === 1 ? "" : ` ${i + 1}`} exited with ${exit.code ?? exit.signal}:\n${server.stderr()}`,
        );
      }
    }
    await setup.s3?.stop();
    if (setup.database !== undefined && !flags.keep) await setup.database.drop();
    else if (setup.database !== undefined)
      console.log(`kept database ${new URL(setup.database.url).pathname.slice(1)}`);
    if (!flags.keep && flags.dir === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  for (const [i, profile] of setup.profileDirs.entries()) {
    if (nodes > 1) console.log(`node ${i + 1}:`);
    console.log(summarizeProfile(profile));
  }
}

await main();
