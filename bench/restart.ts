/**
 * The first writes after a restart over a large event history: seeds N events into a data
 * directory (through `EventStore.append`, as the server stores them), starts the built server on
 * it, and times the first recorded API call (DescribeTrails, answered after its record commits),
 * then the first POST /ingest, then follows both for a while (one of each in flight) to show how
 * long the calls wait while the duplicate filter of each connection is built. Prints figures only.
 *
 *   npm run bench:restart -- [--events 200000] [--dir D] [--skip-fill] [--follow 15]
 *                            [--base TREE] [--ingest-workers N] [--keep]
 *
 * --dir D keeps the seeded directory for later runs (--skip-fill reuses it; 5 million events take
 * several minutes to seed). --base TREE restarts a second build (another checkout after `npm run
 * build`) on the same directory first, as "base", to compare a change on the same data.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CloudTrailClient, DescribeTrailsCommand } from "@aws-sdk/client-cloudtrail";
import { openSqlite } from "../src/adapters/sqlite/index.ts";
import type { StoredEvent } from "../src/ports/index.ts";
import { ingestPoster, numberFlag } from "./support/ingest-post.ts";
import { prng, recordSource } from "./support/records.ts";
import { CLI_PATH, startServerProcess } from "./support/server-process.ts";

const REGION = "us-east-1";
const ACCOUNTS = ["111122223333", "444455556666", "777788889999"] as const;
const REGIONS = ["us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2"] as const;
const BATCH = 1000;
const DAY_MS = 86_400_000;
const INGEST_BATCH = 100;

const { values: flags } = parseArgs({
  options: {
    events: { type: "string", default: "200000" },
    dir: { type: "string" },
    "skip-fill": { type: "boolean", default: false },
    follow: { type: "string", default: "15" },
    base: { type: "string" },
    "ingest-workers": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});

const total = Math.floor(numberFlag("events", flags.events));
const followSeconds = numberFlag("follow", flags.follow);

/** Compact management events (~300 B of JSON): the build reads ids, not records. */
function* seedEvents(count: number): Generator<StoredEvent[]> {
  const random = prng(7);
  const now = Date.now();
  const first = now - 89 * DAY_MS;
  const step = (now - first) / count;
  const hex = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(random() * 16)];
    return s;
  };
  for (let done = 0; done < count; ) {
    const batch: StoredEvent[] = [];
    for (let i = 0; i < BATCH && done < count; i++, done++) {
      const accountId = ACCOUNTS[done % 3]!;
      const region = REGIONS[Math.floor(random() * REGIONS.length)]!;
      // a counter keeps ids unique whatever the PRNG does
      const eventId = `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${done.toString(16).padStart(12, "0")}`;
      const eventTime = new Date(Math.floor(first + done * step));
      const eventName = `Describe${Math.floor(random() * 50)}`;
      const username = `user-${Math.floor(random() * 100)}`;
      batch.push({
        accountId,
        region,
        eventId,
        eventTime,
        category: "Management",
        eventName,
        eventSource: "ec2.amazonaws.com",
        readOnly: true,
        username,
        accessKeyId: `AKIA${hex(16)}`,
        resources: [],
        json: JSON.stringify({
          eventVersion: "1.09",
          eventTime: `${eventTime.toISOString().slice(0, 19)}Z`,
          eventSource: "ec2.amazonaws.com",
          eventName,
          awsRegion: region,
          userIdentity: { type: "IAMUser", accountId, userName: username },
          eventID: eventId,
          readOnly: true,
          eventType: "AwsApiCall",
          recipientAccountId: accountId,
          eventCategory: "Management",
        }),
      });
    }
    yield batch;
  }
}

async function seed(path: string): Promise<void> {
  const sqlite = openSqlite(path);
  const started = performance.now();
  let done = 0;
  let report = started;
  try {
    for (const batch of seedEvents(total)) {
      await sqlite.events.append(batch);
      done += batch.length;
      if (performance.now() - report > 10_000) {
        report = performance.now();
        console.log(`  seeded ${done} events`);
      }
    }
  } finally {
    sqlite.close();
  }
  console.log(`seeded ${total} events in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** A signed DescribeTrails; the server answers after the call's record has committed. */
function apiCaller(url: string) {
  const client = new CloudTrailClient({
    endpoint: url,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  return {
    call: () => client.send(new DescribeTrailsCommand({})),
    close: () => client.destroy(),
  };
}

function ingester(url: string) {
  const poster = ingestPoster(url, { region: REGION, connections: 1 });
  const source = recordSource({ seed: Date.now() % 1_000_000, accountId: "123456789012", region: REGION });
  return {
    /** Posts a batch of fresh records; the answer's status (503: no ingest thread is ready). */
    async post(): Promise<number> {
      const now = new Date();
      const body = Buffer.from(
        JSON.stringify({ Records: Array.from({ length: INGEST_BATCH }, () => source.next(now)) }),
      );
      const { status, text } = await poster.post(body);
      if (status === 503) return status;
      if (status !== 200) throw new Error(`POST /ingest answered ${status}: ${text.slice(0, 300)}`);
      const answer = JSON.parse(text) as { duplicates: string[] };
      if (answer.duplicates.length !== 0) throw new Error(`${answer.duplicates.length} duplicates`);
      return status;
    },
    close: () => poster.close(),
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

interface Window {
  calls: number[];
  ingests: number[];
}

const fmt = (n: number) => n.toFixed(1).padStart(8);
const maxOf = (list: number[]) => (list.length === 0 ? Number.NaN : Math.max(...list));

/** One restart of the server at `cliPath` on `dataDir`: first call, first ingest, then the follow-up. */
async function restart(label: string, cliPath: string, dataDir: string): Promise<void> {
  const t0 = performance.now();
  const server = await startServerProcess({
    dataDir,
    cliPath,
    startTimeoutMs: 120_000,
    serveArgs: flags["ingest-workers"] === undefined ? [] : ["--ingest-workers", flags["ingest-workers"]],
  });
  const startMs = performance.now() - t0;
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, server.usage()?.rssBytes ?? 0);
  }, 200);
  const api = apiCaller(server.url);
  const ingest = ingester(server.url);
  try {
    console.log(`${label}: listening after ${startMs.toFixed(0)} ms`);
    const firstCall = await timed(api.call);
    console.log(`  first recorded API call (DescribeTrails): ${firstCall.toFixed(1)} ms`);
    // the server answers 503 while no ingest thread is alive (one that died starting is replaced)
    const ingestFrom = performance.now();
    let refused = 0;
    let firstIngest = 0;
    for (;;) {
      let status = 0;
      firstIngest = await timed(async () => {
        status = await ingest.post();
      });
      if (status === 200) break;
      refused++;
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(
      `  first POST /ingest (${INGEST_BATCH} records): ${firstIngest.toFixed(1)} ms` +
        (refused === 0
          ? ""
          : ` (after ${refused} answers 503, ${(performance.now() - ingestFrom).toFixed(0)} ms in all)`),
    );
    if (followSeconds === 0) return;
    // one call and one ingest in flight at a time, per second of the follow-up
    const windows: Window[] = [];
    const from = performance.now();
    const until = from + followSeconds * 1000;
    const windowOf = () => {
      const i = Math.floor((performance.now() - from) / 1000);
      while (windows.length <= i) windows.push({ calls: [], ingests: [] });
      return windows[i]!;
    };
    let refusedLater = 0;
    const post = async () => {
      if ((await ingest.post()) !== 200) refusedLater++;
    };
    const lane = async (fn: () => Promise<unknown>, key: keyof Window) => {
      while (performance.now() < until) {
        const ms = await timed(fn);
        windowOf()[key].push(ms);
      }
    };
    await Promise.all([lane(api.call, "calls"), lane(post, "ingests")]);
    console.log(`  second   calls  max ms   ingests  max ms`);
    for (const [i, w] of windows.entries()) {
      console.log(
        `  ${String(i).padStart(6)} ${String(w.calls.length).padStart(7)} ${fmt(maxOf(w.calls))}` +
          ` ${String(w.ingests.length).padStart(9)} ${fmt(maxOf(w.ingests))}`,
      );
    }
    const all = windows.flatMap((w) => w.calls);
    const ingests = windows.flatMap((w) => w.ingests);
    console.log(
      `  follow-up: ${all.length} calls (max ${maxOf(all).toFixed(1)} ms), ${ingests.length} ingests ` +
        `(max ${maxOf(ingests).toFixed(1)} ms${refusedLater > 0 ? `, ${refusedLater} answered 503` : ""}) in ${followSeconds} s`,
    );
  } finally {
    clearInterval(sampler);
    console.log(`  server peak RSS: ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
    api.close();
    ingest.close();
    const exit = await server.stop("SIGTERM");
    if (exit.code !== 0)
      console.error(`${label} exited with ${exit.code ?? exit.signal}:\n${server.stderr()}`);
    else {
      const problems = server
        .stderr()
        .split("\n")
        .filter((l) => /"level":(50|60)/.test(l));
      if (problems.length > 0) console.log(`  server errors:\n${problems.join("\n").slice(0, 2000)}`);
    }
  }
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const dataDir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-restart-"));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, "opentrail.db");
  try {
    if (!flags["skip-fill"]) {
      console.log(`seeding ${path} with ${total} events`);
      await seed(path);
    }
    if (flags.base !== undefined) {
      await restart("base", join(resolve(flags.base), "dist", "cli", "main.js"), dataDir);
    }
    await restart("this tree", CLI_PATH, dataDir);
  } finally {
    if (flags.dir === undefined && !flags.keep) rmSync(dataDir, { recursive: true, force: true });
    else console.log(`kept ${dataDir}`);
  }
}

await main();
