/**
 * The CloudTrail API under load: signed DescribeTrails, GetTrailStatus, LookupEvents and
 * CreateTrail/DeleteTrail pairs from many kept-alive connections against the real server (built
 * dist, child process, SQLite on a fresh data directory), each call recorded before its answer.
 * With `--peer moto` the same signed requests, from the same load generator, go to a
 * `moto_server` (on PATH) in the same run, phase after phase, and both are printed side by side.
 * Prints figures only.
 *
 *   npm run bench:api -- [--seconds 5] [--rounds 2] [--connections 32] [--peer moto]
 *                        [--ops DescribeTrails,GetTrailStatus,LookupEvents,CreateDeleteTrail]
 *                        [--base TREE] [--cpu-prof DIR] [--dir D] [--keep]
 *
 * --base runs a second opentrail from another built tree (a checkout of an earlier commit after
 * `npm run build`) beside this one, as "base", to compare a change under the same machine load.
 * Requests are signed ahead (a signature holds for 15 minutes) and signed again before each
 * phase, so the load generator, which shares the cores with the server, spends its time on HTTP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../test/support/s3-servers.ts";
import { summarizeProfile } from "./support/cpu-profile.ts";
import { numberFlag } from "./support/ingest-post.ts";
import { readUsage, type ServerProcess, startServerProcess } from "./support/server-process.ts";
import { cloudTrailCall, type Prepared, sendPrepared, signRequest } from "./support/signed-call.ts";

const REGION = "us-east-1";
/**
 * The access key of the fixed trail's calls: the development credential (`test`, account
 * 123456789012, secret checked); each connection's CreateTrail/DeleteTrail pairs use an account
 * of their own (5 trails per region), whose 12-digit keys the development store takes with any secret.
 */
const ACCOUNT = "test";
const BUCKET = "opentrail-bench-api";
const TRAIL = "bench-trail";

const OPERATIONS = ["DescribeTrails", "GetTrailStatus", "LookupEvents", "CreateDeleteTrail"] as const;
type Operation = (typeof OPERATIONS)[number];

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    peer: { type: "string" },
    base: { type: "string" },
    ops: { type: "string", default: OPERATIONS.join(",") },
    "cpu-prof": { type: "string" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const seconds = numberFlag("seconds", flags.seconds);
const rounds = Math.max(1, Math.floor(numberFlag("rounds", flags.rounds)));
const connections = Math.max(1, Math.floor(numberFlag("connections", flags.connections)));
if (flags.peer !== undefined && flags.peer !== "moto") throw new Error("--peer takes only moto");
const ops = flags.ops.split(",").map((op) => {
  if (!(OPERATIONS as readonly string[]).includes(op)) throw new Error(`--ops: unknown ${op}`);
  return op as Operation;
});

/** Where the load goes: a URL and the process whose CPU time is charged to it. */
interface Target {
  name: string;
  url: URL;
  pid: number;
  agent: Agent;
}

function accountOfLane(lane: number): string {
  return String(200000000000 + lane);
}

function sign(
  target: URL,
  account: string,
  service: string,
  req: { method: string; path: string; headers: Record<string, string>; body: Buffer },
): Promise<Prepared> {
  return signRequest(target, { accessKeyId: account, region: REGION }, service, req);
}

function apiCall(target: URL, account: string, operation: string, input: object): Promise<Prepared> {
  return cloudTrailCall(target, { accessKeyId: account, region: REGION }, operation, input);
}

function send(target: Target, call: Prepared): Promise<{ status: number; text: string }> {
  return sendPrepared(target.url, target.agent, call);
}

async function expectOk(target: Target, call: Prepared, what: string): Promise<void> {
  const { status, text } = await send(target, call);
  if (status !== 200) throw new Error(`${target.name} ${what}: ${status} ${text.slice(0, 300)}`);
}

/** Each connection's requests for one phase: a cycle of prepared calls (one, or a create and a delete). */
async function prepare(target: Target, op: Operation): Promise<Prepared[][]> {
  const lanes: Prepared[][] = [];
  for (let lane = 0; lane < connections; lane++) {
    if (op === "CreateDeleteTrail") {
      const account = accountOfLane(lane);
      const name = `bench-pair-${lane}`;
      lanes.push([
        await apiCall(target.url, account, "CreateTrail", { Name: name, S3BucketName: bucketOf(account) }),
        await apiCall(target.url, account, "DeleteTrail", { Name: name }),
      ]);
    } else if (lane === 0) {
      const input =
        op === "DescribeTrails" ? {} : op === "GetTrailStatus" ? { Name: TRAIL } : { MaxResults: 10 };
      lanes.push([await apiCall(target.url, ACCOUNT, op, input)]);
    } else {
      lanes.push(lanes[0]!);
    }
  }
  return lanes;
}

function bucketOf(account: string): string {
  return `${BUCKET}-${account}`;
}

interface Phase {
  calls: number;
  ms: number;
  latencies: number[];
  cpuMs: number;
}

async function phase(target: Target, lanes: Prepared[][], forMs: number): Promise<Phase> {
  const latencies: number[] = [];
  const cpuBefore = readUsage(target.pid)?.cpuMs ?? Number.NaN;
  const started = performance.now();
  const until = started + forMs;
  await Promise.all(
    lanes.map(async (cycle) => {
      let i = 0;
      for (; performance.now() < until; i++) {
        const call = cycle[i % cycle.length]!;
        const t = performance.now();
        const { status, text } = await send(target, call);
        latencies.push(performance.now() - t);
        if (status !== 200) throw new Error(`${target.name}: ${status} ${text.slice(0, 300)}`);
      }
      // a pair ends with its delete, so the next phase starts without the trail
      if (i % cycle.length === 1) await send(target, cycle[1]!);
    }),
  );
  const ms = performance.now() - started;
  const cpuMs = (readUsage(target.pid)?.cpuMs ?? Number.NaN) - cpuBefore;
  return { calls: latencies.length, ms, latencies, cpuMs };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function startMoto(): Promise<{ url: URL; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const url = new URL(`http://127.0.0.1:${port}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error("moto_server exited before answering");
    const up = await fetch(new URL("/moto-api/", url)).then(
      () => true,
      () => false,
    );
    if (up) return { url, child };
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("moto_server did not answer within 30 s");
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The buckets and the fixed trail each target needs, made through its own API. */
async function setUp(target: Target, makeBucket: (bucket: string, account: string) => Promise<void>) {
  const accounts = [ACCOUNT, ...Array.from({ length: connections }, (_, lane) => accountOfLane(lane))];
  for (const account of accounts) await makeBucket(bucketOf(account), account);
  await expectOk(
    target,
    await apiCall(target.url, ACCOUNT, "CreateTrail", { Name: TRAIL, S3BucketName: bucketOf(ACCOUNT) }),
    "CreateTrail",
  );
  await expectOk(target, await apiCall(target.url, ACCOUNT, "StartLogging", { Name: TRAIL }), "StartLogging");
}

function line(name: string, p: Phase): string {
  const sorted = [...p.latencies].sort((a, b) => a - b);
  const rate = (p.calls * 1000) / p.ms;
  return (
    `  ${name.padEnd(9)} ${String(Math.round(rate)).padStart(7)} calls/s  ` +
    `p50 ${percentile(sorted, 50).toFixed(2).padStart(7)} ms  p99 ${percentile(sorted, 99).toFixed(2).padStart(7)} ms  ` +
    `server CPU ${((p.cpuMs * 1000) / p.calls).toFixed(0).padStart(5)} µs/call (${p.calls} calls)`
  );
}

function merge(phases: Phase[]): Phase {
  return {
    calls: phases.reduce((n, p) => n + p.calls, 0),
    ms: phases.reduce((n, p) => n + p.ms, 0),
    cpuMs: phases.reduce((n, p) => n + p.cpuMs, 0),
    latencies: phases.flatMap((p) => p.latencies),
  };
}

async function main(): Promise<void> {
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-api-"));
  const dataDir = join(dir, "data");
  const profileDir = flags["cpu-prof"];
  const server = await startServerProcess({
    dataDir,
    nodeArgs: profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir],
  });
  let moto: { url: URL; child: ChildProcess } | undefined;
  let base: ServerProcess | undefined;
  const targets: Target[] = [];
  try {
    const agent = () => new Agent({ keepAlive: true, maxSockets: connections });
    const opentrail: Target = {
      name: "opentrail",
      url: new URL(server.url),
      pid: server.pid,
      agent: agent(),
    };
    targets.push(opentrail);
    // the local bucket store: a bucket is a directory of the data directory
    const localBuckets = (data: string) => async (bucket: string) => {
      mkdirSync(join(data, "buckets", bucket), { recursive: true });
    };
    await setUp(opentrail, localBuckets(dataDir));
    if (flags.base !== undefined) {
      const baseData = join(dir, "base-data");
      base = await startServerProcess({
        dataDir: baseData,
        cliPath: join(flags.base, "dist", "cli", "main.js"),
      });
      const target: Target = { name: "base", url: new URL(base.url), pid: base.pid, agent: agent() };
      targets.push(target);
      await setUp(target, localBuckets(baseData));
    }
    if (flags.peer === "moto") {
      moto = await startMoto();
      const peer: Target = { name: "moto", url: moto.url, pid: moto.child.pid!, agent: agent() };
      targets.push(peer);
      await setUp(peer, async (bucket, account) => {
        const put = await sign(peer.url, account, "s3", {
          method: "PUT",
          path: `/${bucket}`,
          headers: {},
          body: Buffer.alloc(0),
        });
        await expectOk(peer, put, `CreateBucket ${bucket}`);
      });
    }
    console.log(
      `api bench: ${connections} connections, ${rounds} rounds of ${seconds} s per operation and server, ` +
        `servers: ${targets.map((t) => t.name).join(", ")}; load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")} before`,
    );
    for (const op of ops) {
      const results = new Map<string, Phase[]>(targets.map((t) => [t.name, []]));
      const unserved = new Map<string, string>();
      for (let round = 0; round < rounds; round++) {
        // alternate the order, so that neither server always runs on a machine the other just heated
        for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
          const lanes = await prepare(target, op);
          if (round === 0) {
            // a server that does not serve the operation (moto has no LookupEvents) is left out of it
            const probe = await send(target, lanes[0]![0]!);
            if (probe.status !== 200) {
              unserved.set(target.name, `answers ${probe.status}`);
              results.delete(target.name);
            }
            if (lanes[0]!.length === 2) await send(target, lanes[0]![1]!);
          }
          if (!results.has(target.name)) continue;
          if (round === 0) await phase(target, lanes, 500); // warm-up: JIT, connections, caches
          results.get(target.name)!.push(await phase(target, lanes, seconds * 1000));
        }
      }
      console.log(`${op === "CreateDeleteTrail" ? "CreateTrail/DeleteTrail (pairs; per call)" : op}:`);
      const merged = [...results].map(([name, phases]) => [name, merge(phases)] as const);
      for (const [name, p] of merged) console.log(line(name, p));
      for (const [name, why] of unserved) console.log(`  ${name.padEnd(9)} not measured: ${why}`);
      const rate = new Map(merged.map(([name, p]) => [name, p.calls / p.ms]));
      for (const other of ["base", "moto"]) {
        const r = rate.get(other);
        if (r !== undefined)
          console.log(`  opentrail / ${other}: ${(rate.get("opentrail")! / r).toFixed(1)}×`);
      }
    }
    console.log(
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} after`,
    );
  } finally {
    for (const t of targets) t.agent.destroy();
    await server.stop("SIGTERM");
    await base?.stop("SIGTERM");
    if (moto) {
      moto.child.kill("SIGTERM");
      await new Promise((r) => (moto!.child.exitCode === null ? moto!.child.once("exit", r) : r(null)));
    }
    if (!flags.keep && flags.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  if (profileDir !== undefined) console.log(summarizeProfile(profileDir));
}

await main();
