import { describe, expect, it } from "vitest";
import {
  arnOf,
  DEFAULT_EVENT_SELECTORS,
  describedTrail,
  makeTrail,
  nameOrArnValidation,
  OTHER_REGION,
  unknownTrail,
} from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget, OTHER_ACCOUNT, REGION, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

forEachTarget("DeleteTrail", (t) => {
  describe("serialization", () => {
    it("answers an empty object", async () => {
      await makeTrail(t, "doomed-trail");
      await expectAnswer(t.api.deleteTrail({ Name: "doomed-trail" }), {});
    });

    wrongJsonType(
      t,
      "a Name of the wrong JSON type",
      (api) => api.deleteTrail({ Name: true as unknown as string }),
      "TRUE_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.deleteTrail({ Name }));
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, Name) => api.deleteTrail({ Name }));

    it("removes the trail: a second delete answers TrailNotFoundException", async () => {
      await makeTrail(t, "doomed-trail");
      await t.api.deleteTrail({ Name: arnOf("doomed-trail") });
      await expectError(
        t.api.deleteTrail({ Name: "doomed-trail" }),
        "TrailNotFoundException",
        unknownTrail(arnOf("doomed-trail")),
      );
      await expectAnswer(t.api.listTrails({}), { Trails: [] });
    });

    it("removes the shadows of a multi-Region trail", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true });
      await t.api.deleteTrail({ Name: "global-trail" });
      for (const region of t.regions) {
        await expectAnswer(t.apiIn(region).describeTrails({}), { trailList: [] });
      }
    });

    it("deletes a logging trail", async () => {
      await makeTrail(t, "busy-trail");
      await t.api.startLogging({ Name: "busy-trail" });
      await expectAnswer(t.api.deleteTrail({ Name: "busy-trail" }), {});
    });

    it("forgets tags, selectors and logging state: a new trail of the same name starts afresh", async () => {
      await makeTrail(t, "reborn-trail", { TagsList: [{ Key: "team", Value: "a" }] });
      await t.api.putEventSelectors({
        TrailName: "reborn-trail",
        EventSelectors: [{ ReadWriteType: "ReadOnly" }],
      });
      await t.api.putInsightSelectors({ TrailName: "reborn-trail", InsightSelectors: [] });
      await t.api.startLogging({ Name: "reborn-trail" });
      await t.api.deleteTrail({ Name: "reborn-trail" });

      await makeTrail(t, "reborn-trail");
      await expectAnswer(t.api.getTrail({ Name: "reborn-trail" }), { Trail: describedTrail("reborn-trail") });
      await expectAnswer(t.api.listTags({ ResourceIdList: [arnOf("reborn-trail")] }), {
        ResourceTagList: [{ ResourceId: arnOf("reborn-trail"), TagsList: [] }],
      });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "reborn-trail" }), {
        TrailARN: arnOf("reborn-trail"),
        EventSelectors: DEFAULT_EVENT_SELECTORS,
      });
      const status = await t.api.getTrailStatus({ Name: "reborn-trail" });
      expect(status.IsLogging).toBe(false);
      expect(status.StartLoggingTime).toBeUndefined();
    });

    it("leaves same-named trails of other regions and accounts alone", async () => {
      await makeTrail(t, "twin-trail");
      await makeTrail(t, "twin-trail", {}, t.apiIn(OTHER_REGION));
      await makeTrail(t, "twin-trail", {}, t.apiAs(OTHER_ACCOUNT));
      await t.api.deleteTrail({ Name: "twin-trail" });
      await expectAnswer(t.api.listTrails({}), {
        Trails: [
          { Name: "twin-trail", HomeRegion: OTHER_REGION, TrailARN: arnOf("twin-trail", OTHER_REGION) },
        ],
      });
      await expectAnswer(t.apiAs(OTHER_ACCOUNT).listTrails({}), {
        Trails: [
          { Name: "twin-trail", HomeRegion: REGION, TrailARN: arnOf("twin-trail", REGION, OTHER_ACCOUNT) },
        ],
      });
    });
  });
});
