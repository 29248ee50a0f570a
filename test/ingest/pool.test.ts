import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { WriteLock } from "../../src/adapters/sqlite/write-lock.ts";
import { type IngestBatch, ingestAnswer } from "../../src/wire/ingest.ts";
import { type IngestPool, startIngestPool, useBuiltIngestThread } from "../../src/workers/ingest-pool.ts";

/*
 * The pool around the ingest threads, with stand-in thread scripts: what it answers when a thread
 * dies at start or mid-batch, and that a thread that cannot start is not restarted in a tight loop.
 * (The real thread runs in test/ingest/ingest-threads.test.ts and the crash test.)
 */

const dir = mkdtempSync(join(tmpdir(), "opentrail-pool-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function threadScript(name: string, source: string): URL {
  const path = join(dir, `${name}.mjs`);
  writeFileSync(path, `import { parentPort } from "node:worker_threads";\n${source}`);
  return pathToFileURL(path);
}

function batch(n: number): IngestBatch {
  return {
    requestId: `req-${n}`,
    accountId: "123456789012",
    region: "us-east-1",
    now: 0,
    encoding: "",
    body: new Uint8Array(),
    reservedBytes: 0,
  };
}

function logLines() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "error" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

const data = {
  stores: { kind: "sqlite", path: "unused", writeLock: WriteLock.shared() },
  logLevel: "silent",
  maxInflatedBytes: 1024,
  memory: new SharedArrayBuffer(24),
} as const;
/** What the request thread answers for a batch the pool took. */
const answer = async (pool: IngestPool, n: number) => ingestAnswer(`req-${n}`, await pool.process(batch(n)));
const statusOf = (r: { status: number; body: string }) => [
  r.status,
  (JSON.parse(r.body) as { __type: string }).__type,
];

describe("the ingest thread pool", () => {
  it("answers through a working thread", async () => {
    useBuiltIngestThread(
      threadScript(
        "works",
        `parentPort.on("message", (m) => {
           if (m.type === "batch") parentPort.postMessage({ type: "done", id: m.id, outcome: { kind: "stored", eventIds: [m.batch.requestId], duplicates: [] } });
           if (m.type === "close") parentPort.close();
         });
         parentPort.postMessage({ type: "ready" });`,
      ),
      2,
    );
    const { log } = logLines();
    const pool = startIngestPool(2, data, log);
    const answers = await Promise.all([1, 2, 3, 4].map((n) => answer(pool, n)));
    expect(answers.map((a) => JSON.parse(a.body))).toEqual(
      [1, 2, 3, 4].map((n) => ({ eventIds: [`req-${n}`], duplicates: [] })),
    );
    await pool.close();
  });

  it("answers InternalFailure for the batches of a thread that dies, and starts another", async () => {
    useBuiltIngestThread(
      threadScript(
        "dies-on-batch",
        `parentPort.on("message", (m) => {
           if (m.type === "batch") throw new Error("boom");
           if (m.type === "close") parentPort.close();
         });
         parentPort.postMessage({ type: "ready" });`,
      ),
      1,
    );
    const { log, lines } = logLines();
    const pool = startIngestPool(1, data, log);
    expect(statusOf(await answer(pool, 1))).toEqual([500, "InternalFailure"]);
    // a thread that had started is replaced at once
    let second = await answer(pool, 2);
    while (second.status === 503) {
      await sleep(5);
      second = await answer(pool, 2);
    }
    expect(statusOf(second)).toEqual([500, "InternalFailure"]);
    expect(lines.some((l) => l.msg === "ingest thread exited; starting another")).toBe(true);
    await pool.close();
  });

  it("answers ServiceUnavailable, not InternalFailure, for the batch of a thread that runs out of memory, and starts another", async () => {
    useBuiltIngestThread(
      threadScript(
        "runs-out-of-memory",
        `let n = 0;
         parentPort.on("message", (m) => {
           if (m.type === "batch" && n++ === 0) {
             const hoard = [];
             for (;;) hoard.push(new Array(1e5).fill({ n }));
           }
           if (m.type === "batch") parentPort.postMessage({ type: "done", id: m.id, outcome: { kind: "stored", eventIds: [m.batch.requestId], duplicates: [] } });
           if (m.type === "close") parentPort.close();
         });
         parentPort.postMessage({ type: "ready" });`,
      ),
      1,
    );
    const { log, lines } = logLines();
    const pool = startIngestPool(1, data, log, { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 });
    const first = await answer(pool, 1);
    expect(statusOf(first)).toEqual([503, "ServiceUnavailable"]);
    expect(JSON.parse(first.body).message).toBe(
      "The ingest thread taking this batch ran out of memory and was replaced; retry later",
    );
    expect(
      lines.some((l) => (l.err as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY"),
    ).toBe(true);
    // the replacement (a fresh thread, so its first batch runs out of memory again) is started at once
    let second = await answer(pool, 2);
    while (second.status === 503 && JSON.parse(second.body).message.startsWith("Ingest is not available")) {
      await sleep(5);
      second = await answer(pool, 2);
    }
    expect(statusOf(second)).toEqual([503, "ServiceUnavailable"]);
    await pool.close();
  });

  it("answers ServiceUnavailable while no thread could start, and does not restart it in a tight loop", async () => {
    useBuiltIngestThread(threadScript("cannot-start", "process.exit(3);"), 1);
    const { log, lines } = logLines();
    const pool = startIngestPool(1, data, log);
    const first = await answer(pool, 1);
    expect([500, 503]).toContain(first.status);
    await sleep(300);
    expect(statusOf(await answer(pool, 2))).toEqual([503, "ServiceUnavailable"]);
    // started once, restarted at most once within the first half second
    expect(
      lines.filter((l) => l.msg === "ingest thread exited; starting another").length,
    ).toBeLessThanOrEqual(2);
    await pool.close();
  });
});
