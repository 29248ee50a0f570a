import { describe, expect, it } from "vitest";
import { batchingRecorder } from "../../src/proxy/batch.ts";
import type { CallToRecord } from "../../src/recording/recorder.ts";

/** The proxy's records: asked for in one turn, stored in one append; each caller waits for its own. */

const call = (n: number) => ({ n }) as unknown as CallToRecord;

describe("batchingRecorder", () => {
  it("stores the calls of one turn in one append and answers each after it", async () => {
    const appends: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const batching = batchingRecorder({
      async recordAll(calls) {
        appends.push(calls.map((c) => (c as unknown as { n: number }).n));
        await gate;
        return [];
      },
    });
    const settled: number[] = [];
    const first = [1, 2, 3].map((n) => batching.record(call(n)).then(() => settled.push(n)));
    await new Promise((r) => setImmediate(r));
    expect(appends).toEqual([[1, 2, 3]]);
    expect(settled).toEqual([]);
    const later = batching.record(call(4)).then(() => settled.push(4));
    release();
    await Promise.all([...first, later]);
    expect(appends).toEqual([[1, 2, 3], [4]]);
    expect(settled.sort()).toEqual([1, 2, 3, 4]);
  });

  it("fails every call of a batch whose append failed", async () => {
    const batching = batchingRecorder({
      async recordAll() {
        throw new Error("disk full");
      },
    });
    const results = await Promise.allSettled([batching.record(call(1)), batching.record(call(2))]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });
});
