import { describe, expect, it } from "vitest";
import type { Leases } from "../../src/ports/index.ts";

const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const at = (ms: number) => new Date(T0 + ms);
const TTL = 30_000;

/** What every Leases adapter does; `open` gives leases on an empty store (nobody holds anything). */
export function leasesContract(name: string, open: () => Promise<Leases>): void {
  describe(`${name} (Leases contract)`, () => {
    it("gives a free lease to the first asker and keeps it from the others until it expires", async () => {
      const leases = await open();
      expect(await leases.tryAcquire("lane:1", "node-a", at(0), TTL)).toBe(true);
      expect(await leases.tryAcquire("lane:1", "node-b", at(1), TTL)).toBe(false);
      // a lease is per name
      expect(await leases.tryAcquire("lane:2", "node-b", at(1), TTL)).toBe(true);
      // the holder asking again renews it
      expect(await leases.tryAcquire("lane:1", "node-a", at(10_000), TTL)).toBe(true);
      expect(await leases.tryAcquire("lane:1", "node-b", at(TTL + 1), TTL)).toBe(false);
      // node-a dies: once its lease expires, node-b takes it over
      expect(await leases.tryAcquire("lane:1", "node-b", at(10_000 + TTL), TTL)).toBe(true);
      expect(await leases.renew("lane:1", "node-a", at(10_000 + TTL), TTL)).toBe(false);
      expect(await leases.tryAcquire("lane:1", "node-a", at(10_001 + TTL), TTL)).toBe(false);
    });

    it("renews only the holder's lease, and a released lease is free at once", async () => {
      const leases = await open();
      expect(await leases.tryAcquire("chain:1", "node-a", at(0), TTL)).toBe(true);
      expect(await leases.renew("chain:1", "node-a", at(TTL - 1), TTL)).toBe(true);
      expect(await leases.tryAcquire("chain:1", "node-b", at(TTL + 1), TTL)).toBe(false);
      expect(await leases.renew("chain:1", "node-b", at(TTL + 1), TTL)).toBe(false);
      // releasing someone else's lease does nothing
      await leases.release("chain:1", "node-b");
      expect(await leases.tryAcquire("chain:1", "node-b", at(TTL + 2), TTL)).toBe(false);
      await leases.release("chain:1", "node-a");
      expect(await leases.tryAcquire("chain:1", "node-b", at(TTL + 3), TTL)).toBe(true);
    });

    it("gives a free lease to exactly one of many asking at once", async () => {
      const leases = await open();
      const asked = await Promise.all(
        Array.from({ length: 8 }, (_, i) => leases.tryAcquire("job:retention", `node-${i}`, at(0), TTL)),
      );
      expect(asked.filter(Boolean)).toHaveLength(1);
    });
  });
}
