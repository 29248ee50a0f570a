import { describe, expect, it } from "vitest";
import {
  arnOf,
  BAD_TRAIL_ARNS,
  BAD_TRAIL_NAMES,
  describedTrail,
  makeTrail,
  OTHER_REGION,
  THIRD_REGION,
} from "./fixtures.ts";
import {
  ACCOUNT,
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  REGION,
  stripped,
  type Target,
  wrongJsonType,
} from "./harness.ts";

/** us-east-1 homes alpha and zulu; us-west-2 homes multi-Region "bravo" and single-Region "west". */
async function landscape(t: Target) {
  await makeTrail(t, "zulu");
  await makeTrail(t, "alpha");
  await makeTrail(t, "bravo", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
  await makeTrail(t, "west", {}, t.apiIn(OTHER_REGION));
}

const ALPHA = describedTrail("alpha");
const ZULU = describedTrail("zulu");
const BRAVO = describedTrail("bravo", { IsMultiRegionTrail: true }, OTHER_REGION);

forEachTarget("DescribeTrails", (t) => {
  describe("serialization", () => {
    it("answers trailList, empty when there are no trails", async () => {
      await expectAnswer(t.api.describeTrails({}), { trailList: [] });
    });

    it("answers every trail in the full Trail form", async () => {
      await makeTrail(t, "full-trail", {
        S3KeyPrefix: "p",
        SnsTopicName: "topic",
        EnableLogFileValidation: true,
        KmsKeyId: "alias/k",
      });
      await expectAnswer(
        t.api.describeTrails({ trailNameList: ["full-trail"], includeShadowTrails: false }),
        {
          trailList: [
            describedTrail("full-trail", {
              S3KeyPrefix: "p",
              SnsTopicName: "topic",
              SnsTopicARN: `arn:aws:sns:${REGION}:${ACCOUNT}:topic`,
              LogFileValidationEnabled: true,
              KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/k`,
            }),
          ],
        },
      );
    });

    it("answers exactly what the other target answers", async () => {
      await makeTrail(t, "zulu", { S3KeyPrefix: "p", TagsList: [{ Key: "k" }] });
      await makeTrail(t, "bravo", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      expect(stripped(await t.api.describeTrails({}))).toStrictEqual(
        stripped(await t.peer.describeTrails({})),
      );
    });

    wrongJsonType(
      t,
      "a non-boolean includeShadowTrails",
      (api) => api.describeTrails({ includeShadowTrails: "no" as unknown as boolean }),
      "Unexpected token received from parser",
    );
  });

  describe("validation", () => {
    it.each(BAD_TRAIL_NAMES)("refuses the name entry %j", async (value, message) => {
      await makeTrail(t, "real-trail");
      await expectError(
        t.api.describeTrails({ trailNameList: ["real-trail", value] }),
        "InvalidTrailNameException",
        message,
      );
    });

    it.each(BAD_TRAIL_ARNS)("refuses the ARN entry %j", async (value) => {
      await expectError(
        t.api.describeTrails({ trailNameList: [value] }),
        "CloudTrailARNInvalidException",
        `Invalid trail ARN: ${value}`,
      );
    });
  });

  describe("functionality", () => {
    it("answers the region's trails, then shadows, each by name", async () => {
      await landscape(t);
      await expectAnswer(t.api.describeTrails({}), { trailList: [ALPHA, ZULU, BRAVO] });
      await expectAnswer(t.api.describeTrails({ includeShadowTrails: true }), {
        trailList: [ALPHA, ZULU, BRAVO],
      });
    });

    it("leaves shadows out with includeShadowTrails=false", async () => {
      await landscape(t);
      await expectAnswer(t.api.describeTrails({ includeShadowTrails: false }), { trailList: [ALPHA, ZULU] });
      await expectAnswer(t.apiIn(OTHER_REGION).describeTrails({ includeShadowTrails: false }), {
        trailList: [BRAVO, describedTrail("west", {}, OTHER_REGION)],
      });
    });

    it("treats an empty trailNameList as absent", async () => {
      await landscape(t);
      await expectAnswer(t.api.describeTrails({ trailNameList: [] }), { trailList: [ALPHA, ZULU, BRAVO] });
      await expectAnswer(t.api.describeTrails({ trailNameList: [], includeShadowTrails: false }), {
        trailList: [ALPHA, ZULU],
      });
    });

    it("shows a multi-Region trail in every region with its home region", async () => {
      await landscape(t);
      await expectAnswer(t.apiIn(THIRD_REGION).describeTrails({}), { trailList: [BRAVO] });
    });

    it("matches names only among trails homed in the region, ARNs also among shadows", async () => {
      await landscape(t);
      await expectAnswer(t.api.describeTrails({ trailNameList: ["bravo", "west", "alpha"] }), {
        trailList: [ALPHA],
      });
      await expectAnswer(t.api.describeTrails({ trailNameList: [arnOf("bravo", OTHER_REGION)] }), {
        trailList: [BRAVO],
      });
    });

    it("returns a shadow named by ARN even with includeShadowTrails=false", async () => {
      await landscape(t);
      await expectAnswer(
        t.api.describeTrails({ trailNameList: [arnOf("bravo", OTHER_REGION)], includeShadowTrails: false }),
        { trailList: [BRAVO] },
      );
    });

    it("skips entries that match nothing, without an error", async () => {
      await landscape(t);
      await expectAnswer(
        t.api.describeTrails({
          trailNameList: ["no-such-trail", arnOf("no-such-trail"), arnOf("west", OTHER_REGION), "zulu"],
        }),
        { trailList: [ZULU] },
      );
    });

    it("answers each trail once, home trails first, whatever the order asked", async () => {
      await landscape(t);
      await expectAnswer(
        t.api.describeTrails({
          trailNameList: [arnOf("bravo", OTHER_REGION), "zulu", arnOf("zulu"), "alpha", "zulu"],
        }),
        { trailList: [ALPHA, ZULU, BRAVO] },
      );
    });

    it("never shows another account's trails or shadows", async () => {
      await landscape(t);
      const other = t.apiAs(OTHER_ACCOUNT);
      await expectAnswer(other.describeTrails({}), { trailList: [] });
      await expectAnswer(
        other.describeTrails({ trailNameList: [arnOf("alpha"), arnOf("bravo", OTHER_REGION)] }),
        {
          trailList: [],
        },
      );
      await makeTrail(t, "alpha", {}, other);
      await expectAnswer(other.describeTrails({ trailNameList: ["alpha"] }), {
        trailList: [describedTrail("alpha", {}, undefined, OTHER_ACCOUNT)],
      });
    });
  });
});
