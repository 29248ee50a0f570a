import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { ingestPoster } from "../../bench/support/ingest-post.ts";
import { recordSource } from "../../bench/support/records.ts";
import { createIngestMemory } from "../../src/wire/ingest-memory.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * Issue 13, item 2: one bound on the bytes of POST /ingest bodies inflated and parsed at once,
 * over every request (and every ingest thread: the count is shared memory). Beyond it a batch
 * waits its turn, then is refused with 503 ThrottlingException; never a 500.
 * (test/ingest/memory-rss.test.ts measures what it does to the process's memory.)
 */

const MiB = 1024 * 1024;
const REGION = "us-east-1";

describe("the ingest memory count", () => {
  it("lets one batch through even alone over the bound, others in turn, first come first served", async () => {
    const memory = createIngestMemory(10 * MiB, 60_000);
    expect(await memory.take(12 * MiB)).toBe(true);
    const order: string[] = [];
    const a = memory.take(6 * MiB).then((ok) => order.push(`a:${ok}`));
    const b = memory.take(1 * MiB).then((ok) => order.push(`b:${ok}`));
    // b would fit beside a but does not jump the queue
    expect(memory.tryTake(1)).toBe(false);
    memory.release(12 * MiB);
    await Promise.all([a, b]);
    expect(order).toEqual(["a:true", "b:true"]);
    expect(memory.usage()).toEqual({ held: 7 * MiB, peak: 12 * MiB });
    memory.release(7 * MiB);
    expect(memory.usage().held).toBe(0);
  });

  it("gives up after the wait, and the next in line may then fit", async () => {
    const memory = createIngestMemory(10 * MiB, 0);
    expect(await memory.take(8 * MiB)).toBe(true);
    const [big, small] = await Promise.all([memory.take(4 * MiB), memory.take(2 * MiB)]);
    expect(big).toBe(false);
    expect(small).toBe(true);
  });
});

/** A valid batch of `count` records padded with white space to about `size` bytes, gzipped. */
function gzipBatch(seed: number, count: number, size: number): Buffer {
  const source = recordSource({ seed, accountId: "123456789012", region: REGION });
  const now = new Date();
  const records = Array.from({ length: count }, () => source.next(now));
  const json = JSON.stringify({ Records: records });
  return gzipSync(`${json.slice(0, -1)}${" ".repeat(Math.max(0, size - json.length))}}`);
}

describe("POST /ingest under the memory bound", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = (waitMs: number) =>
    startTestServer({
      maxIngestBytes: MiB,
      ingestMemoryBytes: 16 * MiB,
      ingestMemoryWaitMs: waitMs,
      ingestWorkers: 0,
    });

  it("takes concurrent batches that inflate past the bound in turn, holding at most the bound", async () => {
    server = await start(30_000);
    const poster = ingestPoster(server.url, { region: REGION, connections: 8 });
    const bodies = Array.from({ length: 6 }, (_, i) => gzipBatch(i + 1, 500, 7 * MiB));
    const answers = await Promise.all(bodies.map((b) => poster.post(b, { "content-encoding": "gzip" })));
    poster.close();
    expect(
      answers.map((a) => a.status),
      answers[0]!.text.slice(0, 300),
    ).toEqual([200, 200, 200, 200, 200, 200]);
    const usage = server.app.ingestMemory();
    // six bodies of 7 MiB: two at a time at most
    expect(usage.peak).toBeLessThanOrEqual(16 * MiB);
    expect(usage.peak).toBeGreaterThanOrEqual(7 * MiB);
    expect(usage.held).toBe(0);
  });

  it("refuses what cannot wait with 503 ThrottlingException, never a 500", async () => {
    server = await start(0);
    const poster = ingestPoster(server.url, { region: REGION, connections: 8 });
    const bodies = Array.from({ length: 6 }, (_, i) => gzipBatch(i + 10, 2000, 7 * MiB));
    const answers = await Promise.all(bodies.map((b) => poster.post(b, { "content-encoding": "gzip" })));
    poster.close();
    const throttled = answers.filter((a) => a.status !== 200);
    for (const a of throttled) {
      expect(a.status).toBe(503);
      expect(JSON.parse(a.text)).toStrictEqual({ __type: "ThrottlingException", message: "Rate exceeded" });
    }
    expect(throttled.length).toBeGreaterThan(0);
    expect(server.app.ingestMemory().held).toBe(0);
  });

  it("refuses a bomb whose gzip trailer states more than the limit before inflating it", async () => {
    server = await start(0);
    const poster = ingestPoster(server.url, { region: REGION, connections: 1 });
    // 9 MiB of white space: the trailer says so; the per-batch limit is 8 MiB
    const bomb = gzipBatch(20, 1, 9 * MiB);
    const answer = await poster.post(bomb, { "content-encoding": "gzip" });
    poster.close();
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text)).toStrictEqual({
      __type: "RequestEntityTooLargeException",
      message: `Inflated body is larger than ${8 * MiB} bytes`,
    });
    // nothing was held beyond the compressed body itself
    expect(server.app.ingestMemory().peak).toBeLessThan(MiB);
  });

  it("bounds a body whose gzip trailer understates its size as it inflates", async () => {
    server = await start(0);
    const poster = ingestPoster(server.url, { region: REGION, connections: 1 });
    const body = gzipBatch(30, 10, 6 * MiB);
    // a lying trailer: ISIZE 100 (the CRC no longer matches either, found only at the end)
    body.writeUInt32LE(100, body.length - 4);
    const answer = await poster.post(body, { "content-encoding": "gzip" });
    poster.close();
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toStrictEqual({
      __type: "SerializationException",
      message: "Body is not valid gzip",
    });
    const usage = server.app.ingestMemory();
    // it took the bound as it inflated, a mebibyte at a time, and gave it all back
    expect(usage.peak).toBeGreaterThanOrEqual(6 * MiB);
    expect(usage.held).toBe(0);
  });
});
