import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createGzip, gzipSync } from "node:zlib";
import { CloudTrailClient, ListTrailsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestPoster } from "../../bench/support/ingest-post.ts";
import { recordSource } from "../../bench/support/records.ts";
import { type ServerProcess, startServerProcess } from "../../bench/support/server-process.ts";

/*
 * Issue 13, item 2, as a figure: the built server (two ingest threads, the default memory bound)
 * takes 12 concurrent gzip bombs (half a megabyte that inflates to 512 MiB, over the per-batch
 * limit), then 10 concurrent gzip bodies that each inflate to 64 MiB of valid JSON. It prints the process's
 * resident memory: at the start, its peak (VmHWM) after each load, and a few seconds after the
 * load. Only the answers are asserted (never a 5xx but 503 ThrottlingException, always an AWS
 * error shape), not the figures: they depend on the machine.
 *
 * Runs the built server (`npm run build` first; the test command does).
 */

const MiB = 1024 * 1024;
const REGION = "us-east-1";
const ACCOUNT = "123456789012";

function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

const mib = (bytes: number) => `${Math.round(bytes / MiB)} MiB`;

/** A valid batch of a few records padded with white space to `size` bytes, gzipped quickly. */
function largeBatch(seed: number, size: number): Buffer {
  const source = recordSource({ seed, accountId: ACCOUNT, region: REGION });
  const now = new Date();
  const json = JSON.stringify({ Records: Array.from({ length: 200 }, () => source.next(now)) });
  return gzipSync(`${json.slice(0, -1)}${" ".repeat(size - json.length)}}`, { level: 1 });
}

/** `size` bytes of white space inside a JSON object, gzipped hard, made without holding them. */
async function bomb(size: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on("data", (c: Buffer) => out.push(c));
  const done = new Promise((resolve) => gzip.once("end", resolve));
  const spaces = Buffer.alloc(MiB, " ");
  gzip.write('{"Records":[');
  for (let i = 0; i < size / MiB; i++) {
    if (!gzip.write(spaces)) await new Promise((resolve) => gzip.once("drain", resolve));
  }
  gzip.end("]}");
  await done;
  return Buffer.concat(out);
}

interface Answer {
  status: number;
  text: string;
}

function tally(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of answers) {
    const type = a.status === 200 ? "" : ` ${(JSON.parse(a.text) as { __type: string }).__type}`;
    counts[`${a.status}${type}`] = (counts[`${a.status}${type}`] ?? 0) + 1;
  }
  return counts;
}

function expectAwsAnswers(answers: Answer[]): void {
  for (const a of answers) {
    expect(a.status === 200 || a.status === 413 || a.status === 503, a.text).toBe(true);
    if (a.status === 503) {
      expect(JSON.parse(a.text)).toStrictEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
    }
    if (a.status === 413) expect(JSON.parse(a.text).__type).toBe("RequestEntityTooLargeException");
  }
}

describe("ingest memory under gzip load (prints peak RSS)", () => {
  let dataDir: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-rss-"));
    server = await startServerProcess({ dataDir, serveArgs: ["--ingest-workers", "2"] });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("inflates concurrent large bodies and bombs within the bound, and gives the memory back", async () => {
    const large = Array.from({ length: 10 }, (_, i) => largeBatch(i + 1, 64 * MiB));
    const bombBody = await bomb(512 * MiB);
    const poster = ingestPoster(server.url, { region: REGION, connections: 12 });
    const gzip = { "content-encoding": "gzip" };
    const start = memoryOf(server.pid);

    const bombs = await Promise.all(Array.from({ length: 12 }, () => poster.post(bombBody, gzip)));
    const afterBombs = memoryOf(server.pid);
    const bodies = await Promise.all(large.map((b) => poster.post(b, gzip)));
    const afterLarge = memoryOf(server.pid);
    poster.close();
    await sleep(3000);
    const settled = memoryOf(server.pid);

    console.log(
      [
        `ingest memory: RSS at start ${mib(start.rss)}`,
        `12 concurrent bombs (${Math.round(bombBody.length / 1024)} KiB → 512 MiB; ${JSON.stringify(tally(bombs))}): peak ${mib(afterBombs.peak)}`,
        `then 10 concurrent gzip bodies of 64 MiB valid JSON (${JSON.stringify(tally(bodies))}): peak ${mib(afterLarge.peak)}`,
        `RSS 3 s after the load ${mib(settled.rss)}`,
      ].join("\n  "),
    );
    expectAwsAnswers(bombs);
    expectAwsAnswers(bodies);
    expect(bodies.some((a) => a.status === 200)).toBe(true);
    const client = new CloudTrailClient({
      endpoint: server.url,
      region: REGION,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    expect((await client.send(new ListTrailsCommand({}))).Trails).toEqual([]);
    client.destroy();
  }, 120_000);
});
