import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `opentrail serve` from the built dist, as a child process: what a crash test can SIGKILL and a
 * benchmark can measure without sharing its event loop with the load it drives.
 */

/** The package root, found from this file whether it runs from source or from a build output. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above bench/support");
    dir = parent;
  }
  return dir;
}

export const CLI_PATH = join(packageRoot(), "dist", "cli", "main.js");

export interface ServerProcessOptions {
  dataDir: string;
  /** 0 picks a free port; a restart passes the previous port so that clients retry into it. */
  port?: number;
  logLevel?: string;
  /** Flags for node itself, e.g. `--cpu-prof`. */
  nodeArgs?: readonly string[];
  /** How long `serve` may take to print its address. */
  startTimeoutMs?: number;
  /** More `serve` flags, e.g. `["--ingest-workers", "2"]`. */
  serveArgs?: readonly string[];
  /** The built CLI to run, when not this tree's (a bench comparing against another build). */
  cliPath?: string;
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** What the server wrote so far (its start line on stderr, its log on stdout), for failure messages. */
  stderr(): string;
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resident memory and CPU time so far (Linux /proc); undefined elsewhere or after exit. */
  usage(): ProcessUsage | undefined;
}

export interface ProcessUsage {
  rssBytes: number;
  /** User and system CPU time of all the process's threads. */
  cpuMs: number;
  /** The same for the main thread alone: JavaScript, and SQLite when it runs on that thread. */
  mainThreadCpuMs: number;
}

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux build that matters here. */
const CLOCK_TICKS = 100;

/** utime + stime of a /proc stat file, in ms. */
function cpuMsOf(statPath: string): number {
  const stat = readFileSync(statPath, "utf8");
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident memory and CPU time of any process so far (Linux /proc); undefined elsewhere or after exit. */
export function readUsage(pid: number): ProcessUsage | undefined {
  try {
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    const cpuMs = cpuMsOf(`/proc/${pid}/stat`);
    // The main thread's id is the process id.
    const mainThreadCpuMs = cpuMsOf(`/proc/${pid}/task/${pid}/stat`);
    if (!rss || !Number.isFinite(cpuMs) || !Number.isFinite(mainThreadCpuMs)) return undefined;
    return { rssBytes: Number(rss[1]) * 1024, cpuMs, mainThreadCpuMs };
  } catch {
    return undefined;
  }
}

/** The environment without OPENTRAIL_* settings, so the flags given here are the whole config. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OPENTRAIL_")));
}

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (the test command builds)`);
  }
}

const LISTENING = /^opentrail listening on (http:\/\/\S+)$/m;

export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  if (opts.cliPath === undefined) assertBuilt();
  const args = [
    ...(opts.nodeArgs ?? []),
    opts.cliPath ?? CLI_PATH,
    "serve",
    "--port",
    String(opts.port ?? 0),
    "--data-dir",
    opts.dataDir,
    "--log-level",
    opts.logLevel ?? "warn",
    ...(opts.serveArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let listening: ((url: string) => void) | undefined;
  const take = (chunk: string) => {
    // Bounded: only the tail is worth showing in a failure.
    err = (err + chunk).slice(-20_000);
    const m = LISTENING.exec(err);
    if (m) listening?.(m[1]!);
  };
  child.stderr.setEncoding("utf8").on("data", take);
  child.stdout.setEncoding("utf8").on("data", take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`opentrail serve did not start within ${timeoutMs} ms; stderr:\n${err}`));
    }, timeoutMs);
    listening = (found) => {
      listening = undefined;
      clearTimeout(timer);
      resolve(found);
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`opentrail serve exited (code ${code}, signal ${signal}) before listening:\n${err}`));
    });
  });
  const pid = child.pid!;
  return {
    url,
    port: Number(new URL(url).port),
    pid,
    child,
    stderr: () => err,
    exited,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    usage: () => readUsage(pid),
  };
}
