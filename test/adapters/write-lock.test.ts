import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { WriteLock } from "../../src/adapters/sqlite/write-lock.ts";

describe("WriteLock", () => {
  it("waits for another thread's turn and runs right after it", async () => {
    const shared = WriteLock.shared();
    const marks = new SharedArrayBuffer(8);
    // The other thread takes the lock, holds it a while, marks that it is done, and lets go.
    const worker = new Worker(
      `const { workerData, parentPort } = require("node:worker_threads");
       const cell = new Int32Array(workerData.shared, 0, 1);
       const marks = new Int32Array(workerData.marks);
       Atomics.store(cell, 0, 1);
       parentPort.postMessage("held");
       Atomics.wait(marks, 1, 0, 200);
       Atomics.store(marks, 0, 1);
       Atomics.store(cell, 0, 0);
       Atomics.notify(cell, 0, 1);`,
      { eval: true, workerData: { shared, marks } },
    );
    await new Promise((resolve) => worker.once("message", resolve));
    const seen = new WriteLock(shared).hold(() => Atomics.load(new Int32Array(marks), 0));
    expect(seen).toBe(1);
    await worker.terminate();
  });

  it("lets go when the work throws", () => {
    const lock = new WriteLock(WriteLock.shared(), 100);
    expect(() =>
      lock.hold(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(lock.hold(() => "again")).toBe("again");
  });

  it("goes ahead after the wait limit when the holder never lets go", () => {
    const shared = WriteLock.shared();
    Atomics.store(new Int32Array(shared), 0, 1);
    expect(new WriteLock(shared, 20).hold(() => "went ahead")).toBe("went ahead");
    // it did not take the lock, so it does not release the holder's
    expect(Atomics.load(new Int32Array(shared), 0)).toBe(1);
  });
});
