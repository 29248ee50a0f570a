import { beforeEach, describe, expect, it } from "vitest";
import type { DigestChain, DigestChainStore } from "../../src/ports/index.ts";

const ACCOUNT = "123456789012";
const T0 = Date.parse("2026-03-01T00:00:00.000Z");
const HOUR = 3_600_000;

/** An open chain of trail `name` in `region` that has written no digest yet. */
function sampleChain(name = "t", region = "us-east-1", overrides: Partial<DigestChain> = {}): DigestChain {
  return {
    trailArn: `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/${name}`,
    region,
    accountId: ACCOUNT,
    trailName: name,
    homeRegion: "us-east-1",
    bucket: "logs-bucket",
    prefix: "",
    periodStart: new Date(T0),
    previous: null,
    ...overrides,
  };
}

/** A chain one digest on: the digest it wrote is the next one's `previous`. */
function advanced(chain: DigestChain): DigestChain {
  return {
    ...chain,
    periodStart: new Date(chain.periodStart.getTime() + HOUR),
    previous: {
      bucket: chain.bucket,
      key: `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${chain.region}/2026/03/01/${chain.trailName}.json.gz`,
      signature: "5f".repeat(256),
      sha256: "ab".repeat(32),
    },
  };
}

const byKey = (chains: DigestChain[]) =>
  [...chains].sort((a, b) =>
    a.trailArn !== b.trailArn ? (a.trailArn < b.trailArn ? -1 : 1) : a.region < b.region ? -1 : 1,
  );

/** What every DigestChainStore must do; run it from each adapter's test file. */
export function digestChainStoreContract(name: string, make: () => Promise<DigestChainStore>): void {
  describe(`DigestChainStore contract: ${name}`, () => {
    let store: DigestChainStore;

    beforeEach(async () => {
      store = await make();
    });

    it("has no chains at first", async () => {
      expect(await store.chains()).toEqual([]);
    });

    it("gives back a saved chain, with Dates as Dates and no closedAt while open", async () => {
      await store.saveChain(
        sampleChain("t", "us-east-1", { prefix: "some/prefix", homeRegion: "eu-west-1" }),
      );
      const [chain] = await store.chains();
      expect(chain).toStrictEqual(
        sampleChain("t", "us-east-1", { prefix: "some/prefix", homeRegion: "eu-west-1" }),
      );
      expect(chain!.periodStart).toBeInstanceOf(Date);
      expect(chain !== undefined && "closedAt" in chain).toBe(false);
    });

    it("keeps the previous digest and the time the chain closed", async () => {
      const closed = { ...advanced(sampleChain()), closedAt: new Date(T0 + 2 * HOUR) };
      await store.saveChain(closed);
      expect(await store.chains()).toStrictEqual([closed]);
    });

    it("updates a chain in place, one per trail and region", async () => {
      const first = sampleChain();
      await store.saveChain(first);
      const second = advanced(first);
      await store.saveChain(second);
      expect(await store.chains()).toStrictEqual([second]);
      const third = advanced(second);
      await store.saveChain(third);
      expect(await store.chains()).toStrictEqual([third]);
      // the final digest closes the chain; its row stays
      const closed = { ...third, closedAt: new Date(T0 + 5 * HOUR) };
      await store.saveChain(closed);
      expect(await store.chains()).toStrictEqual([closed]);
    });

    it("lets a new chain replace a closed one, without its closedAt and previous", async () => {
      const closed = { ...advanced(sampleChain()), closedAt: new Date(T0 + HOUR) };
      await store.saveChain(closed);
      const reopened = sampleChain("t", "us-east-1", { bucket: "moved", periodStart: new Date(T0 + HOUR) });
      await store.saveChain(reopened);
      const [chain] = await store.chains();
      expect(chain).toStrictEqual(reopened);
      expect(chain !== undefined && "closedAt" in chain).toBe(false);
    });

    it("keeps trails and regions apart", async () => {
      const chains = [
        sampleChain("a", "us-east-1"),
        sampleChain("a", "eu-west-1"),
        sampleChain("b", "us-east-1"),
        sampleChain("b", "ap-south-1"),
      ];
      for (const c of chains) await store.saveChain(c);
      const moved = advanced(chains[1]!);
      await store.saveChain(moved);
      expect(byKey(await store.chains())).toStrictEqual(byKey([chains[0]!, moved, chains[2]!, chains[3]!]));
    });

    it("is not changed by mutating the chains passed in or handed out", async () => {
      const chain = advanced(sampleChain());
      await store.saveChain(chain);
      // the digest worker advances its chain object in place before saving it again
      chain.previous!.key = "mutated";
      chain.periodStart.setTime(0);
      const [got] = await store.chains();
      got!.previous = null;
      got!.bucket = "mutated";
      expect(await store.chains()).toStrictEqual([advanced(sampleChain())]);
    });
  });
}
