import type { Tag } from "@aws-sdk/client-cloudtrail";
import { describe, it } from "vitest";
import { arnOf, BAD_TAG_LISTS, makeTrail, tagResourceValidation, tagsOf } from "./fixtures.ts";
import {
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  type Target,
  wrongJsonType,
} from "./harness.ts";

const ARN = arnOf("tagged-trail");
const TEAM = { Key: "team", Value: "a" };
const STAGE = { Key: "stage", Value: "dev" };
const BARE = { Key: "bare" };

async function tagged(t: Target, TagsList: Tag[] = [TEAM, STAGE, BARE]) {
  await makeTrail(t, "tagged-trail", { TagsList });
}

async function expectTags(t: Target, TagsList: Tag[]) {
  await expectAnswer(t.api.listTags({ ResourceIdList: [ARN] }), {
    ResourceTagList: [{ ResourceId: ARN, TagsList }],
  });
}

forEachTarget("RemoveTags", (t) => {
  describe("serialization", () => {
    it("answers an empty object", async () => {
      await tagged(t);
      await expectAnswer(t.api.removeTags({ ResourceId: ARN, TagsList: [{ Key: "team" }] }), {});
    });

    wrongJsonType(
      t,
      "a ResourceId of the wrong JSON type",
      (api) => api.removeTags({ ResourceId: [ARN] as unknown as string, TagsList: [] }),
      "Unrecognized collection type class java.lang.String",
    );
  });

  describe("validation", () => {
    tagResourceValidation(t, (api, ResourceId) => api.removeTags({ ResourceId, TagsList: [{ Key: "k" }] }));

    it.each(BAD_TAG_LISTS)("refuses %s", async (_label, TagsList, message) => {
      await tagged(t);
      await expectError(
        t.api.removeTags({ ResourceId: ARN, TagsList }),
        "InvalidTagParameterException",
        message,
      );
      await expectTags(t, [TEAM, STAGE, BARE]);
    });
  });

  describe("functionality", () => {
    it("removes the listed keys and keeps the others in order", async () => {
      await tagged(t);
      await t.api.removeTags({ ResourceId: ARN, TagsList: [{ Key: "stage" }] });
      await expectTags(t, [TEAM, BARE]);
    });

    it("removes by key whatever value is sent along", async () => {
      await tagged(t);
      await t.api.removeTags({
        ResourceId: ARN,
        TagsList: [
          { Key: "team", Value: "not-a" },
          { Key: "bare", Value: "x" },
        ],
      });
      await expectTags(t, [STAGE]);
    });

    it("ignores keys the trail does not have", async () => {
      await tagged(t);
      await expectAnswer(t.api.removeTags({ ResourceId: ARN, TagsList: [{ Key: "absent" }] }), {});
      await expectTags(t, [TEAM, STAGE, BARE]);
    });

    it("removes every tag, leaving an empty list", async () => {
      await tagged(t, tagsOf(50));
      await t.api.removeTags({ ResourceId: ARN, TagsList: tagsOf(50) });
      await expectTags(t, []);
    });

    it("accepts an empty and a missing TagsList as no change", async () => {
      await tagged(t);
      await expectAnswer(t.api.removeTags({ ResourceId: ARN, TagsList: [] }), {});
      await expectAnswer(t.api.removeTags({ ResourceId: ARN } as never), {});
      await expectTags(t, [TEAM, STAGE, BARE]);
    });

    it("frees room under the 50-tag limit", async () => {
      await tagged(t, tagsOf(50));
      await t.api.removeTags({ ResourceId: ARN, TagsList: [{ Key: "key-0" }] });
      await t.api.addTags({ ResourceId: ARN, TagsList: [{ Key: "fresh" }] });
      await expectTags(t, [...tagsOf(50).slice(1), { Key: "fresh" }]);
    });

    it("leaves same-named trails of other accounts untouched", async () => {
      await tagged(t);
      await makeTrail(t, "tagged-trail", { TagsList: [TEAM] }, t.apiAs(OTHER_ACCOUNT));
      const otherArn = arnOf("tagged-trail", undefined, OTHER_ACCOUNT);
      await t.apiAs(OTHER_ACCOUNT).removeTags({ ResourceId: otherArn, TagsList: [{ Key: "team" }] });
      await expectTags(t, [TEAM, STAGE, BARE]);
    });
  });
});
