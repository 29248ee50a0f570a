import type { Tag } from "@aws-sdk/client-cloudtrail";
import { describe, it } from "vitest";
import {
  arnOf,
  BAD_TAG_LISTS,
  EDGE_TAGS,
  makeTrail,
  OTHER_REGION,
  TAGS_LIMIT,
  tagResourceValidation,
  tagsOf,
} from "./fixtures.ts";
import {
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  type Target,
  wrongJsonType,
} from "./harness.ts";

const ARN = arnOf("tagged-trail");

async function tagged(t: Target, TagsList: Tag[] = []) {
  await makeTrail(t, "tagged-trail", { TagsList });
}

async function expectTags(t: Target, TagsList: Tag[]) {
  await expectAnswer(t.api.listTags({ ResourceIdList: [ARN] }), {
    ResourceTagList: [{ ResourceId: ARN, TagsList }],
  });
}

forEachTarget("AddTags", (t) => {
  describe("serialization", () => {
    it("answers an empty object", async () => {
      await tagged(t);
      await expectAnswer(t.api.addTags({ ResourceId: ARN, TagsList: [{ Key: "team", Value: "a" }] }), {});
    });

    wrongJsonType(
      t,
      "a tag value of the wrong JSON type",
      (api) => api.addTags({ ResourceId: ARN, TagsList: [{ Key: "n", Value: 5 as unknown as string }] }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    tagResourceValidation(t, (api, ResourceId) => api.addTags({ ResourceId, TagsList: [{ Key: "k" }] }));

    it.each(BAD_TAG_LISTS)("refuses %s", async (_label, TagsList, message) => {
      await tagged(t);
      await expectError(
        t.api.addTags({ ResourceId: ARN, TagsList }),
        "InvalidTagParameterException",
        message,
      );
      await expectTags(t, []);
    });

    it("refuses going past 50 tags and changes nothing", async () => {
      await tagged(t, tagsOf(45));
      await expectError(
        t.api.addTags({ ResourceId: ARN, TagsList: [...tagsOf(3), ...tagsOf(6, "new")] }),
        "TagsLimitExceededException",
        TAGS_LIMIT,
      );
      await expectTags(t, tagsOf(45));
    });

    it("checks the tags before the resource", async () => {
      await expectError(
        t.api.addTags({ ResourceId: "not-an-arn", TagsList: [{ Key: "" }] }),
        "InvalidTagParameterException",
        "Tag key cannot be empty.",
      );
    });
  });

  describe("functionality", () => {
    it("adds tags, keys without a value and empty values included", async () => {
      await tagged(t);
      await t.api.addTags({ ResourceId: ARN, TagsList: EDGE_TAGS });
      await expectTags(t, EDGE_TAGS);
    });

    it("replaces the value of a key it already has, and appends new keys", async () => {
      await tagged(t, [
        { Key: "team", Value: "a" },
        { Key: "stage", Value: "dev" },
      ]);
      await t.api.addTags({
        ResourceId: ARN,
        TagsList: [
          { Key: "cost", Value: "42" },
          { Key: "team", Value: "b" },
        ],
      });
      await expectTags(t, [
        { Key: "team", Value: "b" },
        { Key: "stage", Value: "dev" },
        { Key: "cost", Value: "42" },
      ]);
    });

    it("drops the value of a key sent again without one", async () => {
      await tagged(t, [{ Key: "team", Value: "a" }]);
      await t.api.addTags({ ResourceId: ARN, TagsList: [{ Key: "team" }] });
      await expectTags(t, [{ Key: "team" }]);
    });

    it("reaches exactly 50 tags, and replaces values at 50", async () => {
      await tagged(t, tagsOf(45));
      await t.api.addTags({ ResourceId: ARN, TagsList: tagsOf(5, "more") });
      await t.api.addTags({ ResourceId: ARN, TagsList: [{ Key: "key-0", Value: "changed" }] });
      await expectTags(t, [{ Key: "key-0", Value: "changed" }, ...tagsOf(45).slice(1), ...tagsOf(5, "more")]);
    });

    it("accepts an empty TagsList and a missing one as no change", async () => {
      await tagged(t, [{ Key: "team", Value: "a" }]);
      await expectAnswer(t.api.addTags({ ResourceId: ARN, TagsList: [] }), {});
      await expectAnswer(t.api.addTags({ ResourceId: ARN } as never), {});
      await expectTags(t, [{ Key: "team", Value: "a" }]);
    });

    it("tags a multi-Region trail from its home region only", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      const arn = arnOf("global-trail", OTHER_REGION);
      await t.apiIn(OTHER_REGION).addTags({ ResourceId: arn, TagsList: [{ Key: "scope", Value: "all" }] });
      await expectAnswer(t.apiIn(OTHER_REGION).listTags({ ResourceIdList: [arn] }), {
        ResourceTagList: [{ ResourceId: arn, TagsList: [{ Key: "scope", Value: "all" }] }],
      });
    });

    it("leaves same-named trails of other accounts untouched", async () => {
      await tagged(t);
      await makeTrail(t, "tagged-trail", {}, t.apiAs(OTHER_ACCOUNT));
      const otherArn = arnOf("tagged-trail", undefined, OTHER_ACCOUNT);
      await t
        .apiAs(OTHER_ACCOUNT)
        .addTags({ ResourceId: otherArn, TagsList: [{ Key: "owner", Value: "b" }] });
      await expectTags(t, []);
    });
  });
});
