import { describe, expect, it } from "vitest";
import { arnOf, makeTrail, OTHER_REGION, tagResourceValidation, WRONG_REGION } from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget, OTHER_ACCOUNT, REGION, wrongJsonType } from "./harness.ts";

const TEAM = { Key: "team", Value: "a" };
const BARE = { Key: "bare" };

forEachTarget("ListTags", (t) => {
  describe("serialization", () => {
    it("answers one entry per ARN, [] for an untagged trail and no Value for a tag without one", async () => {
      await makeTrail(t, "tagged-trail", { TagsList: [TEAM, BARE] });
      await makeTrail(t, "plain-trail");
      await expectAnswer(t.api.listTags({ ResourceIdList: [arnOf("tagged-trail"), arnOf("plain-trail")] }), {
        ResourceTagList: [
          { ResourceId: arnOf("tagged-trail"), TagsList: [TEAM, BARE] },
          { ResourceId: arnOf("plain-trail"), TagsList: [] },
        ],
      });
    });

    it("answers an empty ResourceTagList for an empty or missing ResourceIdList", async () => {
      await expectAnswer(t.api.listTags({ ResourceIdList: [] }), { ResourceTagList: [] });
      await expectAnswer(t.api.listTags({} as never), { ResourceTagList: [] });
    });

    wrongJsonType(
      t,
      "a ResourceIdList of the wrong JSON type",
      (api) => api.listTags({ ResourceIdList: arnOf("x") as unknown as string[] }),
      "Unexpected field type",
    );
  });

  describe("validation", () => {
    // a list cannot carry a missing entry on the wire; an empty string is refused the same way
    tagResourceValidation(t, (api, id) => api.listTags({ ResourceIdList: [id ?? ""] }));

    it("answers InvalidTokenException for any NextToken", async () => {
      await makeTrail(t, "plain-trail");
      await expectError(
        t.api.listTags({ ResourceIdList: [arnOf("plain-trail")], NextToken: "next" }),
        "InvalidTokenException",
        "Invalid token.",
      );
    });

    it("answers InvalidParameterException for more than 20 ARNs", async () => {
      await expectError(
        t.api.listTags({ ResourceIdList: Array.from({ length: 21 }, () => arnOf("plain-trail")) }),
        "InvalidParameterException",
        "ResourceIdList can contain at most 20 resource ARNs; it has 21.",
      );
    });

    it("checks every ARN's syntax before it looks any up", async () => {
      await expectError(
        t.api.listTags({ ResourceIdList: [arnOf("no-such-trail"), arnOf("west-trail", OTHER_REGION)] }),
        "CloudTrailARNInvalidException",
        WRONG_REGION(REGION),
      );
    });

    it("fails as a whole when one ARN names no trail", async () => {
      await makeTrail(t, "plain-trail");
      await expectError(
        t.api.listTags({ ResourceIdList: [arnOf("plain-trail"), arnOf("no-such-trail")] }),
        "ResourceNotFoundException",
        `Resource not found: ${arnOf("no-such-trail")}`,
      );
    });
  });

  describe("functionality", () => {
    it("answers 20 ARNs in request order, repeats included", async () => {
      await makeTrail(t, "first-trail", { TagsList: [TEAM] });
      await makeTrail(t, "second-trail", { TagsList: [BARE] });
      const ids = Array.from({ length: 20 }, (_, i) => arnOf(i % 2 === 0 ? "second-trail" : "first-trail"));
      const { ResourceTagList } = await t.api.listTags({ ResourceIdList: ids });
      expect(ResourceTagList?.map((r) => r.ResourceId)).toEqual(ids);
      expect(ResourceTagList?.[0]?.TagsList).toEqual([BARE]);
    });

    it("answers the tags of trails of the current region only", async () => {
      await makeTrail(t, "west-trail", { TagsList: [TEAM] }, t.apiIn(OTHER_REGION));
      const arn = arnOf("west-trail", OTHER_REGION);
      await expectAnswer(t.apiIn(OTHER_REGION).listTags({ ResourceIdList: [arn] }), {
        ResourceTagList: [{ ResourceId: arn, TagsList: [TEAM] }],
      });
    });

    it("never shows another account's tags", async () => {
      await makeTrail(t, "tagged-trail", { TagsList: [TEAM] });
      await makeTrail(t, "tagged-trail", {}, t.apiAs(OTHER_ACCOUNT));
      await expectAnswer(
        t.apiAs(OTHER_ACCOUNT).listTags({ ResourceIdList: [arnOf("tagged-trail", REGION, OTHER_ACCOUNT)] }),
        { ResourceTagList: [{ ResourceId: arnOf("tagged-trail", REGION, OTHER_ACCOUNT), TagsList: [] }] },
      );
    });
  });
});
