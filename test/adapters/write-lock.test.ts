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
       const cells = new Int32Array(workerData.shared);
       const marks = new Int32Array(workerData.marks);
       const ticket = Atomics.add(cells, 0, 1);
       parentPort.postMessage("held");
       Atomics.wait(marks, 1, 0, 200);
       Atomics.store(marks, 0, 1);
       Atomics.store(cells, 1, ticket + 1);
       Atomics.notify(cells, 1);`,
      { eval: true, workerData: { shared, marks } },
    );
    await new Promise((resolve) => worker.once("message", resolve));
    const seen = new WriteLock(shared).hold(() => Atomics.load(new Int32Array(marks), 0));
    expect(seen).toBe(1);
    await worker.terminate();
  });

  it("waits for its turn without stopping the event loop (holdAsync)", async () => {
    const shared = WriteLock.shared();
    const cells = new Int32Array(shared);
    const first = Atomics.add(cells, 0, 1);
    const order: string[] = [];
    const turn = new WriteLock(shared).holdAsync(() => order.push("turn"));
    // the loop turns while the turn is held elsewhere
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push("timer");
    Atomics.store(cells, 1, first + 1);
    Atomics.notify(cells, 1);
    await turn;
    expect(order).toEqual(["timer", "turn"]);
    // and it ended its turn
    expect(new WriteLock(shared, 50).hold(() => Atomics.load(cells, 1))).toBe(first + 2);
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

  it("serves turns in the order they were asked for, across threads", async () => {
    const shared = WriteLock.shared();
    const order = new SharedArrayBuffer(4 * 8);
    // Two threads ask while a third (this one, by hand) holds the first turn; they must be served
    // in the order of their tickets, which they note down.
    const cells = new Int32Array(shared);
    const first = Atomics.add(cells, 0, 1);
    const source = `const { workerData, parentPort } = require("node:worker_threads");
       const cells = new Int32Array(workerData.shared);
       const order = new Int32Array(workerData.order);
       const ticket = Atomics.add(cells, 0, 1);
       parentPort.postMessage(ticket);
       while (Atomics.load(cells, 1) !== ticket) Atomics.wait(cells, 1, Atomics.load(cells, 1));
       order[Atomics.add(order, 0, 1) + 1] = workerData.name;
       Atomics.store(cells, 1, ticket + 1);
       Atomics.notify(cells, 1);`;
    const started = [7, 8].map(
      (name) => new Worker(source, { eval: true, workerData: { shared, order, name } }),
    );
    const tickets = await Promise.all(
      started.map((w) => new Promise<number>((resolve) => w.once("message", resolve))),
    );
    Atomics.store(cells, 1, first + 1);
    Atomics.notify(cells, 1);
    await Promise.all(started.map((w) => new Promise((resolve) => w.once("exit", resolve))));
    const byTicket = [7, 8].sort((a, b) => tickets[[7, 8].indexOf(a)]! - tickets[[7, 8].indexOf(b)]!);
    expect([...new Int32Array(order).slice(1, 3)]).toEqual(byTicket);
  });

  it("never moves the turns back: a holder that was given up on ends without undoing the skip", () => {
    const shared = WriteLock.shared();
    const cells = new Int32Array(shared);
    const slow = new WriteLock(shared, 20);
    const waiter = new WriteLock(shared, 20);
    const seen = slow.hold(() => {
      // while the slow holder works, a waiter gives up on it and takes its own turn
      waiter.hold(() => undefined);
      return Atomics.load(cells, 1);
    });
    // the waiter's turn (1) ended at 2; the slow holder's end must not set it back to 1
    expect(seen).toBe(2);
    expect(Atomics.load(cells, 1)).toBe(2);
    expect(new WriteLock(shared, 20).hold(() => Atomics.load(cells, 1))).toBe(2);
  });

  it("counts turns across the wrap-around of its 32-bit counters", () => {
    const shared = WriteLock.shared();
    const cells = new Int32Array(shared);
    cells[0] = 2 ** 31 - 1;
    cells[1] = 2 ** 31 - 1;
    const lock = new WriteLock(shared, 1000);
    expect(lock.hold(() => "last positive")).toBe("last positive");
    expect(lock.hold(() => "first negative")).toBe("first negative");
    expect([cells[0], cells[1]]).toEqual([-(2 ** 31) + 1, -(2 ** 31) + 1]);
  });

  it("goes ahead after the wait limit when the holder never lets go", () => {
    const shared = WriteLock.shared();
    // a turn taken and never ended
    Atomics.add(new Int32Array(shared), 0, 1);
    const lock = new WriteLock(shared, 20);
    expect(lock.hold(() => "went ahead")).toBe("went ahead");
    expect(lock.hold(() => "and the next")).toBe("and the next");
  });
});
