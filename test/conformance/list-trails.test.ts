import { describe, expect, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { arnOf, makeTrail, OTHER_REGION, THIRD_REGION } from "./fixtures.ts";
import {
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  REGION,
  type Target,
  wrongJsonType,
} from "./harness.ts";

const PAGE_SIZE = 50;

function entry(name: string, region = REGION, account?: string) {
  return { TrailARN: arnOf(name, region, account), Name: name, HomeRegion: region };
}

/** `perRegion` trails in each of the first `regions` served regions; their entries in listing order. */
async function fill(t: Target, regions: number, perRegion: number) {
  const chosen = t.regions.slice(0, regions);
  for (const region of chosen) {
    for (let i = 0; i < perRegion; i++) await makeTrail(t, `trail-${i}`, {}, t.apiIn(region));
  }
  return [...chosen]
    .sort()
    .flatMap((region) => Array.from({ length: perRegion }, (_, i) => entry(`trail-${i}`, region)));
}

async function allPages(api: CloudTrailApi) {
  const pages = [];
  let NextToken: string | undefined;
  do {
    const page = await api.listTrails({ NextToken });
    pages.push(page);
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
  return pages;
}

forEachTarget("ListTrails", (t) => {
  describe("serialization", () => {
    it("answers an empty Trails list and no NextToken when there are no trails", async () => {
      await expectAnswer(t.api.listTrails({}), { Trails: [] });
    });

    it("answers TrailARN, Name and HomeRegion for each trail", async () => {
      await makeTrail(t, "listed-trail", { S3KeyPrefix: "p", EnableLogFileValidation: true });
      await expectAnswer(t.api.listTrails({}), { Trails: [entry("listed-trail")] });
    });

    wrongJsonType(
      t,
      "a NextToken of the wrong JSON type",
      (api) => api.listTrails({ NextToken: false as unknown as string }),
      "FALSE_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    it.each([
      ["garbage", "not a token"],
      ["empty", ""],
      [
        "well-encoded but foreign",
        Buffer.from(JSON.stringify({ v: 2, after: ["a", "b"] })).toString("base64url"),
      ],
      ["plain JSON", JSON.stringify({ v: 1, after: ["us-east-1", "x"] })],
    ])("answers InvalidNextTokenException for a %s token", async (_label, NextToken) => {
      await expectError(t.api.listTrails({ NextToken }), "InvalidNextTokenException", "Invalid NextToken.");
    });
  });

  describe("functionality", () => {
    it("lists the trails of every region, by home region then name, the same from any region", async () => {
      await makeTrail(t, "zulu");
      await makeTrail(t, "alpha");
      await makeTrail(t, "west", {}, t.apiIn(OTHER_REGION));
      await makeTrail(t, "europe", {}, t.apiIn(THIRD_REGION));
      const expected = {
        Trails: [entry("europe", THIRD_REGION), entry("alpha"), entry("zulu"), entry("west", OTHER_REGION)],
      };
      await expectAnswer(t.api.listTrails({}), expected);
      await expectAnswer(t.apiIn(OTHER_REGION).listTrails({}), expected);
    });

    it("lists a multi-Region trail once, with its home region", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectAnswer(t.api.listTrails({}), { Trails: [entry("global-trail", OTHER_REGION)] });
    });

    it("answers 50 trails without NextToken", async () => {
      const expected = await fill(t, 10, 5);
      await expectAnswer(t.api.listTrails({}), { Trails: expected });
    });

    it("pages past 50 trails with NextToken, each trail exactly once, in order", async () => {
      const expected = await fill(t, 11, 5);
      const pages = await allPages(t.api);
      expect(pages.map((p) => p.Trails?.length)).toEqual([PAGE_SIZE, expected.length - PAGE_SIZE]);
      expect(pages[0]?.NextToken).toEqual(expect.any(String));
      expect(pages.flatMap((p) => p.Trails)).toEqual(expected);
    });

    it("continues after the last trail of the page even when that trail is deleted meanwhile", async () => {
      const expected = await fill(t, 11, 5);
      const first = await t.api.listTrails({});
      const last = first.Trails?.at(-1);
      await t.apiIn(last?.HomeRegion ?? REGION).deleteTrail({ Name: last?.TrailARN });
      const second = await t.api.listTrails({ NextToken: first.NextToken });
      expect(second.Trails).toEqual(expected.slice(PAGE_SIZE));
    });

    it("pages two accounts apart: each sees only its own trails", async () => {
      await fill(t, 11, 5);
      const other = t.apiAs(OTHER_ACCOUNT);
      await makeTrail(t, "zz-other", {}, other);
      await expectAnswer(other.listTrails({}), { Trails: [entry("zz-other", REGION, OTHER_ACCOUNT)] });
      const first = await t.api.listTrails({});
      const leaked = await other.listTrails({ NextToken: first.NextToken });
      expect(leaked.Trails?.every((x) => x.TrailARN?.includes(`:${OTHER_ACCOUNT}:`))).toBe(true);
    });

    it("forgets deleted trails", async () => {
      await makeTrail(t, "kept-trail");
      await makeTrail(t, "gone-trail");
      await t.api.deleteTrail({ Name: "gone-trail" });
      await expectAnswer(t.api.listTrails({}), { Trails: [entry("kept-trail")] });
    });
  });
});
