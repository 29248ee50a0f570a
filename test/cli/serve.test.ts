import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { startServerProcess } from "../../bench/support/server-process.ts";
import { builtCli } from "../support/built-cli.ts";

/** `opentrail serve` as an operator starts it: what it says when it cannot, and how it stops. */

const REPO = new URL("../../", import.meta.url).pathname;
let cli: string;
const dirs: string[] = [];
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "opentrail-serve-"));
  dirs.push(d);
  return d;
};

/** The built CLI's exit code, stdout and stderr, in a clean environment. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
  return promisify(execFile)(process.execPath, [cli, ...args], { env }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

beforeAll(async () => {
  cli = await builtCli();
}, 120_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("opentrail serve refuses in one line", () => {
  it("a port in use", async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const r = await run(["serve", "--port", String(port), "--data-dir", freshDir()]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `opentrail: port ${port} on 127.0.0.1 is already in use (another opentrail, or another program); choose another with --port\n`,
      );
    } finally {
      taken.close();
    }
  });

  it("a log level pino does not have, and a delivery interval out of range", async () => {
    const loud = await run(["serve", "--log-level", "loud", "--data-dir", freshDir()]);
    expect([loud.code, loud.stderr]).toEqual([
      2,
      'opentrail: the log level must be one of fatal, error, warn, info, debug, trace, silent, not "loud"\n',
    ]);
    const zero = await run(["serve", "--delivery-interval", "0", "--data-dir", freshDir()]);
    expect([zero.code, zero.stderr]).toEqual([
      2,
      'opentrail: the delivery interval must be a number of seconds from 0.001 to 3600 (fractions allowed), not "0"\n',
    ]);
  });

  it("a data directory another server has; a lock left by a process that is gone is taken over", async () => {
    const dataDir = freshDir();
    const first = await startServerProcess({ dataDir });
    try {
      expect(readFileSync(join(dataDir, "opentrail.lock"), "utf8")).toBe(`${first.pid}\n`);
      const second = await run(["serve", "--port", "0", "--data-dir", dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(
        `opentrail: could not start: the data directory ${dataDir} is in use by another opentrail (pid ${first.pid}); stop it, or give this one another --data-dir (if no such process is an opentrail, delete ${join(dataDir, "opentrail.lock")})\n`,
      );
    } finally {
      await first.stop("SIGTERM");
    }
    expect(() => readFileSync(join(dataDir, "opentrail.lock"))).toThrow();
    // a pid no process has (above Linux's largest)
    writeFileSync(join(dataDir, "opentrail.lock"), "4194305\n");
    const again = await startServerProcess({ dataDir });
    expect(readFileSync(join(dataDir, "opentrail.lock"), "utf8")).toBe(`${again.pid}\n`);
    await again.stop("SIGTERM");
  }, 60_000);
});

it("opentrail --version prints the package's version", async () => {
  const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  const r = await run(["--version"]);
  expect([r.code, r.stdout]).toEqual([0, `${version}\n`]);
});

it("npm start does not rebuild a fresh build, and a SIGTERM to npm stops the server", async () => {
  const dataDir = freshDir();
  // the build is fresh (builtCli); the stamp says when it was made
  writeFileSync(join(REPO, "dist", ".build-stamp"), "");
  const npm = spawn(
    "npm",
    ["start", "--silent", "--", "--port", "0", "--data-dir", dataDir, "--log-level", "warn"],
    {
      cwd: REPO,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  // whatever happens to the test, nothing it started outlives it
  onTestFinished(() => {
    const lock = join(dataDir, "opentrail.lock");
    if (existsSync(lock)) {
      try {
        process.kill(Number(readFileSync(lock, "utf8")), "SIGKILL");
      } catch {
        // gone already
      }
    }
    if (npm.exitCode === null && npm.signalCode === null) npm.kill("SIGKILL");
  });
  let out = "";
  let err = "";
  npm.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  // "close": after the exit and the last of its output
  const exited = new Promise<number | null>((resolve) => npm.once("close", (code) => resolve(code)));
  // the start line is on stderr, so that stdout holds only the log
  await new Promise<void>((resolve, reject) => {
    npm.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
      if (err.includes("opentrail listening on")) resolve();
    });
    void exited.then(() => reject(new Error(`npm start exited before listening:\n${out}\n${err}`)));
  });
  // nothing was built: the server's process is the one holding the lock
  expect(out).not.toContain("tsc");
  const pid = Number(readFileSync(join(dataDir, "opentrail.lock"), "utf8"));
  npm.kill("SIGTERM");
  await exited;
  // npm exits once its child has: the server is gone with it, not left running on its own
  expect(() => process.kill(pid, 0)).toThrow();
  expect(err).toContain("SIGTERM, shutting down");
}, 60_000);

it("the server's stderr has no notice of the SDK about Node versions, though it makes SDK clients", async () => {
  // an S3 object store: an SDK client from the start; the environment lacks the SDK's switch
  const child = spawn(
    process.execPath,
    [cli, "serve", "--port", "0", "--data-dir", freshDir(), "--s3-endpoint", "http://127.0.0.1:9"],
    { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] },
  );
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  // the start line is on stderr, the log on stdout
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
      if (err.includes("opentrail listening on")) resolve();
    });
    void exited.then(() => reject(new Error(`serve exited before listening:\n${err}`)));
  });
  // a call that reaches the SDK client too
  const res = await fetch(`${/opentrail listening on (http:\/\/\S+)/.exec(err)![1]}/health`);
  await res.body?.cancel();
  child.kill("SIGTERM");
  await exited;
  expect(err + out).not.toContain("NodeVersionSupportWarning");
  expect(err).toContain("SIGTERM, shutting down");
}, 60_000);
