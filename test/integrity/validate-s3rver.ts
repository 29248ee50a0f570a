import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3TestServer } from "../support/s3-servers.ts";

/**
 * s3rver in a process of its own. Its ListObjectsV2 continuation tokens are DES-encrypted, which
 * OpenSSL 3 only offers with its legacy provider: in a plain Node 20 process every truncated
 * listing is a 500. A child of its own can have the provider, and does not share the event loop
 * of the process that measures the tools reading from it.
 */
export async function startS3rverProcess(): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), "opentrail-s3rver-"));
  const entry = createRequire(import.meta.url).resolve("s3rver");
  const script = `
    const S3rver = require(${JSON.stringify(entry)});
    new S3rver({ address: "127.0.0.1", port: 0, directory: process.argv[1], silent: true })
      .run()
      .then(({ port }) => process.stdout.write(port + "\\n"), (e) => { console.error(e); process.exit(1); });
    process.on("SIGTERM", () => process.exit(0));
  `;
  const child = spawn(process.execPath, ["--openssl-legacy-provider", "-e", script, directory], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr = (stderr + c).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    await rm(directory, { recursive: true, force: true });
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        out += c;
        const line = /^(\d+)\n/.exec(out);
        if (line) resolve(Number(line[1]));
      });
      child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr}`)));
    });
    return {
      endpoint: `http://127.0.0.1:${port}`,
      region: "us-east-1",
      // s3rver checks signatures against this fixed key pair
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
