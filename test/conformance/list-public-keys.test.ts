import { createHash, createPublicKey } from "node:crypto";
import type { PublicKey } from "@aws-sdk/client-cloudtrail";
import { describe, expect, it } from "vitest";
import { OTHER_REGION } from "./fixtures.ts";
import {
  expectError,
  forEachTarget,
  metadataOf,
  OTHER_ACCOUNT,
  stripped,
  type Target,
  wrongJsonType,
} from "./harness.ts";

const TIME_RANGE = "Start time must be earlier than end time.";
const INVALID_TOKEN = "Invalid token.";
const DAY = 24 * 60 * 60 * 1000;
const LONG_AGO = new Date("2000-01-01T00:00:00Z");

const later = (ms: number) => new Date(Date.now() + ms);
const fingerprints = (list: PublicKey[] | undefined) => (list ?? []).map((k) => k.Fingerprint);

/** The region's key valid now: the one a default call lists. */
async function currentKey(t: Target, region?: string): Promise<PublicKey> {
  const { PublicKeyList = [] } = await (region ? t.apiIn(region) : t.api).listPublicKeys({});
  expect(PublicKeyList).toHaveLength(1);
  return PublicKeyList[0]!;
}

forEachTarget("ListPublicKeys", (t) => {
  describe("serialization", () => {
    it("answers the key valid now: DER PKCS#1 bytes, their MD5 fingerprint, a 30-day validity", async () => {
      const before = Math.floor(Date.now() / 1000) * 1000;
      const answer = await t.api.listPublicKeys({});
      expect(Object.keys(stripped(answer))).toEqual(["PublicKeyList"]);
      const [key] = answer.PublicKeyList ?? [];
      expect(Object.keys(key ?? {}).sort()).toEqual([
        "Fingerprint",
        "ValidityEndTime",
        "ValidityStartTime",
        "Value",
      ]);
      const { Value, Fingerprint, ValidityStartTime, ValidityEndTime } = key!;
      expect(Value).toBeInstanceOf(Uint8Array);
      const der = Buffer.from(Value!);
      expect(der.subarray(0, 9).toString("hex")).toBe("3082010a0282010100");
      expect(der.toString("base64").startsWith("MIIBCgKCAQEA")).toBe(true);
      expect(Fingerprint).toBe(createHash("md5").update(der).digest("hex"));
      const loaded = createPublicKey({ key: der, format: "der", type: "pkcs1" });
      expect(loaded.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
      expect(ValidityStartTime).toBeInstanceOf(Date);
      expect(ValidityStartTime!.getTime() % 1000).toBe(0);
      expect(ValidityStartTime!.getTime()).toBeLessThanOrEqual(Math.max(before, Date.now()));
      expect(ValidityEndTime!.getTime() - ValidityStartTime!.getTime()).toBe(30 * DAY);
      expect(ValidityEndTime!.getTime()).toBeGreaterThan(Date.now());
    });

    it.runIf(t.kind === "http")("answers 200 with a request id", async () => {
      const answer = await t.api.listPublicKeys({});
      expect(metadataOf(answer)?.httpStatusCode).toBe(200);
      expect(metadataOf(answer)?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("answers the same over the wire and in process", async () => {
      const range = { StartTime: LONG_AGO, EndTime: later(DAY) };
      expect(stripped(await t.api.listPublicKeys(range))).toStrictEqual(
        stripped(await t.peer.listPublicKeys(range)),
      );
    });

    wrongJsonType(
      t,
      "a NextToken of the wrong JSON type",
      (api) => api.listPublicKeys({ NextToken: 1 as unknown as string }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    it("refuses StartTime after EndTime, and takes them equal", async () => {
      const at = new Date("2024-03-05T12:00:00Z");
      await expectError(
        t.api.listPublicKeys({ StartTime: new Date(at.getTime() + 1000), EndTime: at }),
        "InvalidTimeRangeException",
        TIME_RANGE,
      );
      expect((await t.api.listPublicKeys({ StartTime: at, EndTime: at })).PublicKeyList).toEqual([]);
    });

    it("measures a missing bound from now", async () => {
      await expectError(
        t.api.listPublicKeys({ StartTime: later(DAY) }),
        "InvalidTimeRangeException",
        TIME_RANGE,
      );
      await expectError(t.api.listPublicKeys({ EndTime: LONG_AGO }), "InvalidTimeRangeException", TIME_RANGE);
      expect(await t.api.listPublicKeys({ StartTime: LONG_AGO }).then((a) => a.PublicKeyList)).toHaveLength(
        1,
      );
      expect(await t.api.listPublicKeys({ EndTime: later(DAY) }).then((a) => a.PublicKeyList)).toHaveLength(
        1,
      );
    });

    it("refuses every NextToken: none is ever handed out", async () => {
      for (const NextToken of ["x", "", "eyJwYWdlIjoxfQ"]) {
        await expectError(t.api.listPublicKeys({ NextToken }), "InvalidTokenException", INVALID_TOKEN);
      }
    });
  });

  describe("functionality", () => {
    it("keeps answering the same key while it is valid, to every account of the region", async () => {
      const key = await currentKey(t);
      expect(await currentKey(t)).toEqual(key);
      const other = await t.apiAs(OTHER_ACCOUNT).listPublicKeys({});
      expect(fingerprints(other.PublicKeyList)).toEqual([key.Fingerprint]);
    });

    it("lists the keys whose validity overlaps the range", async () => {
      const key = await currentKey(t);
      const from = key.ValidityStartTime!;
      const to = key.ValidityEndTime!;
      const list = (StartTime: Date, EndTime: Date) =>
        t.api.listPublicKeys({ StartTime, EndTime }).then((a) => fingerprints(a.PublicKeyList));
      expect(await list(LONG_AGO, later(365 * DAY))).toEqual([key.Fingerprint]);
      expect(await list(new Date(from.getTime() + 1000), new Date(to.getTime() - 1000))).toEqual([
        key.Fingerprint,
      ]);
      expect(await list(LONG_AGO, from)).toEqual([key.Fingerprint]);
      expect(await list(to, new Date(to.getTime() + DAY))).toEqual([key.Fingerprint]);
      expect(await list(LONG_AGO, new Date(from.getTime() - 1000))).toEqual([]);
      expect(await list(new Date(to.getTime() + 1000), new Date(to.getTime() + DAY))).toEqual([]);
    });

    it("answers each region's own key only", async () => {
      const here = await currentKey(t);
      const there = await currentKey(t, OTHER_REGION);
      expect(there.Fingerprint).not.toBe(here.Fingerprint);
      const wide = { StartTime: LONG_AGO, EndTime: later(365 * DAY) };
      expect(fingerprints((await t.api.listPublicKeys(wide)).PublicKeyList)).toEqual([here.Fingerprint]);
      expect(fingerprints((await t.apiIn(OTHER_REGION).listPublicKeys(wide)).PublicKeyList)).toEqual([
        there.Fingerprint,
      ]);
    });

    it("keeps the key across a restart", async () => {
      const key = await currentKey(t);
      await t.restart();
      expect(await currentKey(t)).toEqual(key);
    });
  });
});
