/**
 * Start-up: how long `opentrail serve`, started from a built tree, takes to answer its first
 * call. Each round starts the server on an empty data directory ("first start": the database is
 * created and migrated, signing keys made) and then again on the same directory ("restart"), and
 * sends a signed DescribeTrails from the moment the process is spawned, again every 2 ms while
 * the port refuses connections. The call is answered after its record commits, so the time is
 * that of a recorded call. Prints the time to the "listening" line and to the first answer.
 *
 *   npm run bench:startup -- [--rounds 7] [--base TREE]
 *
 * --base TREE starts a second build (another checkout after `npm run build`) in turns with this
 * one, as "base", to compare a change under the same machine load.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../test/support/s3-servers.ts";
import { numberFlag } from "./support/ingest-post.ts";
import { assertBuilt, CLI_PATH } from "./support/server-process.ts";
import { cloudTrailCall, type Prepared, sendPrepared } from "./support/signed-call.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    base: { type: "string" },
  },
});

const rounds = Math.floor(numberFlag("rounds", flags.rounds));
const RETRY_MS = 2;
const GIVE_UP_MS = 30_000;

interface Start {
  listeningMs: number;
  answeredMs: number;
  attempts: number;
}

/** Spawns the server at `cliPath` on `dataDir` and times its first answered DescribeTrails. */
async function startOnce(cliPath: string, dataDir: string): Promise<Start> {
  // free a moment ago: the call is signed for its Host before the server starts
  const port = await freePort();
  const url = new URL(`http://127.0.0.1:${port}/`);
  const call: Prepared = await cloudTrailCall(
    url,
    { accessKeyId: "test", region: "us-east-1" },
    "DescribeTrails",
    {},
  );
  // a new connection each attempt: one refused is gone
  const agent = new Agent({ keepAlive: false });
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OPENTRAIL_")));
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [cliPath, "serve", "--port", String(port), "--data-dir", dataDir, "--log-level", "warn"],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  let listeningMs = Number.NaN;
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    if (Number.isNaN(listeningMs) && /opentrail listening on /.test(stderr))
      listeningMs = performance.now() - t0;
  });
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    let attempts = 0;
    for (;;) {
      attempts++;
      if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${stderr}`);
      if (performance.now() - t0 > GIVE_UP_MS)
        throw new Error(`no answer within ${GIVE_UP_MS} ms:\n${stderr}`);
      try {
        const answer = await sendPrepared(url, agent, call);
        if (answer.status !== 200)
          throw new Error(`DescribeTrails answered ${answer.status}: ${answer.text}`);
        return { listeningMs, answeredMs: performance.now() - t0, attempts };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ECONNREFUSED") throw e;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await exited;
  }
}

const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const ms = (n: number) => `${n.toFixed(0)} ms`;

async function main(): Promise<void> {
  assertBuilt();
  const builds = [{ name: "this", cli: CLI_PATH }];
  if (flags.base !== undefined)
    builds.push({ name: "base", cli: join(resolve(flags.base), "dist", "cli", "main.js") });
  const results = new Map<string, { first: Start[]; again: Start[] }>(
    builds.map((b) => [b.name, { first: [], again: [] }]),
  );
  const loadBefore = loadavg()[0]!;
  console.log(`start-up, ${rounds} rounds; load average ${loadBefore.toFixed(2)} before`);
  for (let round = 1; round <= rounds; round++) {
    // alternate which build goes first, so neither always meets a warmer page cache
    const order = round % 2 === 1 ? builds : [...builds].reverse();
    for (const build of order) {
      const dir = mkdtempSync(join(tmpdir(), "opentrail-startup-"));
      try {
        const first = await startOnce(build.cli, dir);
        const again = await startOnce(build.cli, dir);
        results.get(build.name)!.first.push(first);
        results.get(build.name)!.again.push(again);
        console.log(
          `  round ${round} ${build.name.padEnd(4)}: first start listening ${ms(first.listeningMs)}, ` +
            `answered ${ms(first.answeredMs)}; restart listening ${ms(again.listeningMs)}, answered ${ms(again.answeredMs)}`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  console.log(`load average ${loadavg()[0]!.toFixed(2)} after`);
  for (const build of builds) {
    const r = results.get(build.name)!;
    const line = (label: string, list: Start[]) => {
      const answered = list.map((s) => s.answeredMs);
      return (
        `${label}: first call answered median ${ms(median(answered))} (min ${ms(Math.min(...answered))}, ` +
        `max ${ms(Math.max(...answered))}), listening line median ${ms(median(list.map((s) => s.listeningMs)))}`
      );
    };
    console.log(`${build.name}:`);
    console.log(`  ${line("empty data directory", r.first)}`);
    console.log(`  ${line("restart on it       ", r.again)}`);
  }
}

await main();
