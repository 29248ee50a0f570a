/**
 * The recording proxy's cost, side by side in one run: the same signed DynamoDB GetItem calls
 * sent straight to an upstream that answers at once and through opentrail (built dist, child
 * process, SQLite on a fresh data directory), which verifies each signature, forwards it and
 * stores its record before answering. Prints figures only.
 *
 *   npm run bench:proxy -- [--seconds 5] [--rounds 3] [--concurrency 32] [--cpu-prof DIR] [--dir D] [--keep]
 *
 * Latency is measured one call at a time (p50/p99 of each side and the difference of the p50s);
 * throughput with --concurrency calls in flight. Rounds alternate direct and proxied phases so
 * that both see the same machine load.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../src/wire/sigv4.ts";
import { summarizeProfile } from "./support/cpu-profile.ts";
import { numberFlag } from "./support/ingest-post.ts";
import { startServerProcess } from "./support/server-process.ts";

const REGION = "us-east-1";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "32" },
    "cpu-prof": { type: "string" },
    dir: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const seconds = numberFlag("seconds", flags.seconds);
const rounds = Math.max(1, Math.floor(numberFlag("rounds", flags.rounds)));
const concurrency = Math.max(1, Math.floor(numberFlag("concurrency", flags.concurrency)));

/** An upstream that answers every request at once with a DynamoDB-shaped answer, in its own process. */
const UPSTREAM = `
const http = require("node:http");
const body = Buffer.from('{"Item":{"Artist":{"S":"No One You Know"}}}');
let n = 0;
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "BENCH" + (n++).toString(36).padStart(47, "0"), "content-length": body.length });
    res.end(body);
  });
}).listen(0, "127.0.0.1", function () { process.stdout.write(this.address().port + "\\n"); });
`;

async function startUpstream(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", UPSTREAM], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once("exit", () => reject(new Error("the upstream exited")));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

interface Call {
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
}

/** One GetItem signed once: its signature stays valid for the run (15 minutes of skew). */
async function signedGetItem(endpoint: string): Promise<Call> {
  const url = new URL("/", endpoint);
  const body = Buffer.from(JSON.stringify({ TableName: "Music", Key: { Artist: { S: "No One You Know" } } }));
  const signer = new SignatureV4({
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    region: REGION,
    service: "dynamodb",
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    headers: {
      host: url.host,
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "DynamoDB_20120810.GetItem",
      "content-length": String(body.length),
    },
    body,
  });
  return { url, headers: signed.headers as Record<string, string>, body };
}

function send(call: Call, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(call.url, { method: "POST", agent, headers: call.headers }, (res) => {
      res.resume();
      res.on("end", () =>
        res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`status ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end(call.body);
  });
}

interface Phase {
  calls: number;
  ms: number;
  latencies: number[];
}

async function phase(call: Call, inFlight: number, forMs: number): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + forMs;
  async function loop(): Promise<void> {
    while (performance.now() < until) {
      const t = performance.now();
      await send(call, agent);
      latencies.push(performance.now() - t);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, loop));
  const ms = performance.now() - started;
  agent.destroy();
  return { calls: latencies.length, ms, latencies };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function merge(phases: Phase[]): Phase {
  return {
    calls: phases.reduce((n, p) => n + p.calls, 0),
    ms: phases.reduce((n, p) => n + p.ms, 0),
    latencies: phases.flatMap((p) => p.latencies),
  };
}

async function main(): Promise<void> {
  const dir = flags.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-proxy-"));
  const upstream = await startUpstream();
  const server = await startServerProcess({
    dataDir: join(dir, "data"),
    serveArgs: ["--upstream", upstream.url, "--ingest-workers", "0"],
    nodeArgs: flags["cpu-prof"] === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", flags["cpu-prof"]],
  });
  try {
    const direct = await signedGetItem(upstream.url);
    const proxied = await signedGetItem(server.url);
    console.log(
      `load average ${loadavg()[0]!.toFixed(2)} before; ${rounds} rounds of ${seconds} s per phase`,
    );
    // warm both paths (JIT, connections, the model table's first placements)
    await phase(direct, concurrency, 1000);
    await phase(proxied, concurrency, 1000);
    const results = {
      directSerial: [] as Phase[],
      proxiedSerial: [] as Phase[],
      directLoad: [] as Phase[],
      proxiedLoad: [] as Phase[],
    };
    let cpuMs = 0;
    for (let r = 0; r < rounds; r++) {
      results.directSerial.push(await phase(direct, 1, seconds * 500));
      results.proxiedSerial.push(await phase(proxied, 1, seconds * 500));
      results.directLoad.push(await phase(direct, concurrency, seconds * 1000));
      const cpuBefore = server.usage()?.cpuMs ?? Number.NaN;
      const loaded = await phase(proxied, concurrency, seconds * 1000);
      cpuMs += (server.usage()?.cpuMs ?? Number.NaN) - cpuBefore;
      results.proxiedLoad.push(loaded);
    }
    const ds = merge(results.directSerial);
    const ps = merge(results.proxiedSerial);
    const dl = merge(results.directLoad);
    const pl = merge(results.proxiedLoad);
    const rate = (p: Phase) => Math.round((p.calls * 1000) / p.ms);
    const ms = (n: number) => `${n.toFixed(3)} ms`;
    console.log(
      `one call at a time: direct p50 ${ms(percentile(ds.latencies, 50))} p99 ${ms(percentile(ds.latencies, 99))}; through opentrail p50 ${ms(percentile(ps.latencies, 50))} p99 ${ms(percentile(ps.latencies, 99))}`,
    );
    console.log(`added latency p50: ${ms(percentile(ps.latencies, 50) - percentile(ds.latencies, 50))}`);
    console.log(
      `${concurrency} in flight: direct ${rate(dl)} calls/s; through opentrail ${rate(pl)} calls/s, each recorded (p50 ${ms(percentile(pl.latencies, 50))}, p99 ${ms(percentile(pl.latencies, 99))})`,
    );
    console.log(
      `server CPU per proxied call under load: ${((cpuMs * 1000) / pl.calls).toFixed(0)} µs (all threads)`,
    );
    const usage = server.usage();
    if (usage) console.log(`server RSS at the end: ${(usage.rssBytes / 1024 / 1024).toFixed(0)} MB`);
  } finally {
    await server.stop();
    upstream.child.kill("SIGTERM");
    if (!flags.keep) rmSync(dir, { recursive: true, force: true });
  }
  if (flags["cpu-prof"] !== undefined) console.log(summarizeProfile(flags["cpu-prof"]));
}

await main();
