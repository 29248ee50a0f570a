import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

/** A throwaway S3-compatible server for one test file. */
export interface S3TestServer {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

// s3rver ships no type declarations; this is the part of it the helpers use.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
}) => S3rverInstance;

const REGION = "us-east-1";
// s3rver checks signatures against this fixed key pair; moto accepts any.
const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const MOTO_CREDENTIALS = { accessKeyId: "testing", secretAccessKey: "testing" };

const READY_TRIES = 150;
const READY_INTERVAL_MS = 100;
const START_ATTEMPTS = 3;
const STOP_GRACE_MS = 5_000;

/** s3rver in this process, on a free port of 127.0.0.1, storing into its own temp directory. */
export async function startS3rver(): Promise<S3TestServer> {
  const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), "opentrail-s3rver-"));
  let server: S3rverInstance | undefined;
  try {
    server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true });
    const { port } = await server.run();
    const running = server;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      region: REGION,
      credentials: S3RVER_CREDENTIALS,
      async stop() {
        try {
          await running.close();
        } finally {
          await rm(directory, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await server?.close().catch(() => {});
    await rm(directory, { recursive: true, force: true });
    throw e;
  }
}

/** A port nobody listens on right now (the OS picks it, then it is released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/**
 * moto's standalone server (`python3 -m moto.server`) in a child process. The port is picked
 * free and could be taken again before moto binds it, so a moto that exits early is started again
 * on another port; readiness asks a moto-only path so that another server that grabbed the port
 * is not mistaken for moto.
 */
export async function startMoto(): Promise<S3TestServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await startMotoOnce(await freePort());
    } catch (e) {
      lastError = e;
    }
  }
  throw new Error(`moto did not start after ${START_ATTEMPTS} attempts`, { cause: lastError });
}

/** A child process and what became of it. */
interface Child {
  process: ChildProcess;
  /** Set once the process has exited or could not be spawned. */
  ended: string | undefined;
  endedPromise: Promise<void>;
  stderr: string;
}

function spawnChild(command: string, args: string[]): Child {
  const proc = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  const child: Child = { process: proc, ended: undefined, endedPromise: Promise.resolve(), stderr: "" };
  child.endedPromise = new Promise<void>((resolve) => {
    proc.once("exit", (code, signal) => {
      child.ended = `exit ${code ?? signal}`;
      resolve();
    });
    proc.once("error", (e) => {
      child.ended = `spawn failed: ${e.message}`;
      resolve();
    });
  });
  proc.stderr?.setEncoding("utf8");
  proc.stderr?.on("data", (chunk: string) => {
    child.stderr = (child.stderr + chunk).slice(-4_000);
  });
  return child;
}

async function startMotoOnce(port: number): Promise<S3TestServer> {
  const child = spawnChild("python3", ["-m", "moto.server", "-p", String(port), "-H", "127.0.0.1"]);
  // A test process that dies without stopping its servers must not leave moto behind.
  const killOnExit = () => child.process.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await stopChild(child);
  };

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilMoto(endpoint, child);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoint, region: REGION, credentials: MOTO_CREDENTIALS, stop };
}

async function waitUntilMoto(endpoint: string, child: Child): Promise<void> {
  for (let i = 0; i < READY_TRIES; i++) {
    if (child.ended !== undefined) throw new Error(`moto ended (${child.ended}): ${child.stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.ok && body.startsWith("{") && child.ended === undefined) return;
    } catch {
      // not listening yet
    }
    await delay(READY_INTERVAL_MS);
  }
  throw new Error(`moto at ${endpoint} not ready after ${READY_TRIES} tries: ${child.stderr}`);
}

async function stopChild(child: Child): Promise<void> {
  if (child.ended !== undefined) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => child.process.kill("SIGKILL"), STOP_GRACE_MS);
  try {
    await child.endedPromise;
  } finally {
    clearTimeout(timer);
  }
}

/** An S3 client for a test server (path style, the server's credentials). */
export function s3Client(server: S3TestServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export async function createBucket(server: S3TestServer, bucket: string): Promise<void> {
  const client = s3Client(server);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}

/** The `s3` block of opentrail's Config for a test server. */
export function s3Settings(server: S3TestServer) {
  return {
    endpoint: server.endpoint,
    region: server.region,
    accessKeyId: server.credentials.accessKeyId,
    secretAccessKey: server.credentials.secretAccessKey,
    forcePathStyle: true,
  };
}
