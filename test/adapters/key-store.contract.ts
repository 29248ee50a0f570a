import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateRsaKeyPem } from "../../src/adapters/sqlite/key-store.ts";
import { signDigest, verifyDigest } from "../../src/domain/digest.ts";
import type { DigestPublicKey, KeyStore } from "../../src/ports/index.ts";

export interface KeyStoreSetup {
  /** Default 30 days when absent. */
  rotationMs?: number;
  generate: () => Promise<string>;
}

/** A key generator that counts its calls; real RSA-2048 keys. */
export function countingGenerator(): { generate: () => Promise<string>; readonly calls: number } {
  let calls = 0;
  return {
    generate: () => {
      calls += 1;
      return generateRsaKeyPem();
    },
    get calls() {
      return calls;
    },
  };
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date("2024-03-05T12:00:00.750Z");
const T0_SECOND = new Date("2024-03-05T12:00:00Z");

const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
const ids = (keys: DigestPublicKey[]) => keys.map((k) => k.id);

/** What every KeyStore must do, whatever it keeps keys in. */
export function keyStoreContract(name: string, make: (setup: KeyStoreSetup) => Promise<KeyStore>): void {
  describe(name, () => {
    it("makes an RSA-2048 key on first use, valid for 30 days from the second it was asked for", async () => {
      const gen = countingGenerator();
      const keys = await make({ generate: gen.generate });
      const key = await keys.activeKey("us-east-1", T0);
      expect(gen.calls).toBe(1);
      expect(key.region).toBe("us-east-1");
      expect(key.publicKeyDer.subarray(0, 9).toString("hex")).toBe("3082010a0282010100");
      expect(key.fingerprint).toBe(createHash("md5").update(key.publicKeyDer).digest("hex"));
      expect(key.validFrom).toEqual(T0_SECOND);
      expect(key.validTo).toEqual(at(T0_SECOND, 30 * DAY));
      expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const signature = signDigest(key.privateKeyPem, "data");
      expect(verifyDigest(key.publicKeyDer, "data", signature)).toBe(true);
    });

    it("gives the same key while it is valid, without making another", async () => {
      const gen = countingGenerator();
      const keys = await make({ generate: gen.generate });
      const first = await keys.activeKey("us-east-1", T0);
      const again = await keys.activeKey("us-east-1", at(T0, 29 * DAY));
      expect(again).toEqual(first);
      expect(gen.calls).toBe(1);
    });

    it("keeps one key per region", async () => {
      const gen = countingGenerator();
      const keys = await make({ generate: gen.generate });
      const east = await keys.activeKey("us-east-1", T0);
      const west = await keys.activeKey("eu-west-1", T0);
      expect(west.fingerprint).not.toBe(east.fingerprint);
      expect(west.region).toBe("eu-west-1");
      expect(ids(await keys.publicKeys("us-east-1", T0, T0))).toEqual([east.id]);
      expect(ids(await keys.publicKeys("eu-west-1", T0, T0))).toEqual([west.id]);
      expect(await keys.publicKeys("ap-south-1", T0, T0)).toEqual([]);
      expect(gen.calls).toBe(2);
    });

    it("makes one key for many concurrent callers of a region", async () => {
      const gen = countingGenerator();
      const keys = await make({ generate: gen.generate });
      const got = await Promise.all([
        ...Array.from({ length: 8 }, (_, i) => keys.activeKey("us-east-1", at(T0, i * 1000))),
        ...Array.from({ length: 4 }, () => keys.activeKey("eu-west-1", T0)),
      ]);
      expect(new Set(got.slice(0, 8).map((k) => k.id)).size).toBe(1);
      expect(new Set(got.slice(8).map((k) => k.id)).size).toBe(1);
      expect(gen.calls).toBe(2);
      expect(await keys.publicKeys("us-east-1", at(T0, -DAY), at(T0, DAY))).toHaveLength(1);
    });

    it("gives a concurrent caller whose time the new key does not cover a key of its own", async () => {
      const gen = countingGenerator();
      const keys = await make({ rotationMs: 60_000, generate: gen.generate });
      const [now, later] = await Promise.all([
        keys.activeKey("us-east-1", T0),
        keys.activeKey("us-east-1", at(T0, 10 * 60_000)),
      ]);
      expect(later.id).not.toBe(now.id);
      expect(now.validFrom.getTime()).toBeLessThanOrEqual(T0.getTime());
      expect(later.validFrom.getTime()).toBeLessThanOrEqual(T0.getTime() + 10 * 60_000);
      expect(later.validTo.getTime()).toBeGreaterThan(T0.getTime() + 10 * 60_000);
      expect(gen.calls).toBe(2);
    });

    it("rotates when the validity ends, after the configured period", async () => {
      const gen = countingGenerator();
      const keys = await make({ rotationMs: 3_600_000, generate: gen.generate });
      const first = await keys.activeKey("us-east-1", T0);
      expect(first.validTo).toEqual(at(T0_SECOND, 3_600_000));
      expect((await keys.activeKey("us-east-1", at(first.validTo, -1))).id).toBe(first.id);
      const second = await keys.activeKey("us-east-1", first.validTo);
      expect(second.id).not.toBe(first.id);
      expect(second.validFrom).toEqual(first.validTo);
      expect(second.validTo).toEqual(at(first.validTo, 3_600_000));
      expect(gen.calls).toBe(2);
      // the old public key stays listed and findable
      expect(ids(await keys.publicKeys("us-east-1", T0, second.validFrom))).toEqual([first.id, second.id]);
      const old = await keys.keyByFingerprint(first.fingerprint);
      expect(old?.id).toBe(first.id);
      expect(old?.publicKeyDer).toEqual(first.publicKeyDer);
    });

    it("rotates with a gap when nobody asked for a key while the last one expired", async () => {
      const gen = countingGenerator();
      const keys = await make({ rotationMs: 60_000, generate: gen.generate });
      const first = await keys.activeKey("us-east-1", T0);
      const much = at(T0, 5 * DAY);
      const second = await keys.activeKey("us-east-1", much);
      expect(second.validFrom).toEqual(new Date(Math.floor(much.getTime() / 1000) * 1000));
      // nothing was signed in between, so no key covers that time
      expect(await keys.publicKeys("us-east-1", at(T0, DAY), at(T0, 2 * DAY))).toEqual([]);
      expect(ids(await keys.publicKeys("us-east-1", T0, much))).toEqual([first.id, second.id]);
    });

    it("lists keys whose validity overlaps the range, bounds included, oldest first", async () => {
      const keys = await make({ rotationMs: 60_000, generate: generateRsaKeyPem });
      const a = await keys.activeKey("us-east-1", T0_SECOND);
      const b = await keys.activeKey("us-east-1", a.validTo);
      const c = await keys.activeKey("us-east-1", b.validTo);
      const list = (start: Date, end: Date) => keys.publicKeys("us-east-1", start, end).then(ids);
      expect(await list(at(T0_SECOND, -DAY), at(T0_SECOND, -1))).toEqual([]);
      expect(await list(at(T0_SECOND, -DAY), T0_SECOND)).toEqual([a.id]);
      expect(await list(at(T0_SECOND, 30_000), at(T0_SECOND, 30_000))).toEqual([a.id]);
      // a.validTo == b.validFrom: both overlap that instant
      expect(await list(a.validTo, a.validTo)).toEqual([a.id, b.id]);
      expect(await list(at(a.validTo, 1), at(b.validTo, -1))).toEqual([b.id]);
      expect(await list(at(T0_SECOND, -DAY), at(T0_SECOND, DAY))).toEqual([a.id, b.id, c.id]);
      expect(await list(at(c.validTo, 1), at(c.validTo, DAY))).toEqual([]);
    });

    it("never hands out a private key except as the active key", async () => {
      const keys = await make({ generate: generateRsaKeyPem });
      const key = await keys.activeKey("us-east-1", T0);
      const [listed] = await keys.publicKeys("us-east-1", T0, T0);
      expect(listed).toEqual({
        id: key.id,
        region: "us-east-1",
        publicKeyDer: key.publicKeyDer,
        fingerprint: key.fingerprint,
        validFrom: key.validFrom,
        validTo: key.validTo,
      });
      expect(listed).not.toHaveProperty("privateKeyPem");
      expect(await keys.keyByFingerprint(key.fingerprint)).not.toHaveProperty("privateKeyPem");
    });

    it("finds a key by fingerprint in any region, and nothing for an unknown one", async () => {
      const keys = await make({ generate: generateRsaKeyPem });
      const west = await keys.activeKey("eu-west-1", T0);
      expect((await keys.keyByFingerprint(west.fingerprint))?.region).toBe("eu-west-1");
      expect(await keys.keyByFingerprint("0".repeat(32))).toBeUndefined();
    });

    it("reports a failed generation to its callers and tries again on the next call", async () => {
      let fail = true;
      const keys = await make({
        generate: async () => {
          if (fail) throw new Error("no entropy today");
          return generateRsaKeyPem();
        },
      });
      const tries = [keys.activeKey("us-east-1", T0), keys.activeKey("us-east-1", T0)];
      for (const t of tries) await expect(t).rejects.toThrow("no entropy today");
      fail = false;
      expect((await keys.activeKey("us-east-1", T0)).region).toBe("us-east-1");
    });
  });
}
