import { describe, it } from "vitest";
import { arnOf, DEFAULT_EVENT_SELECTORS, makeTrail, nameOrArnValidation, OTHER_REGION } from "./fixtures.ts";
import { expectAnswer, forEachTarget, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

forEachTarget("GetEventSelectors", (t) => {
  describe("serialization", () => {
    it("answers the default basic selector of a new trail, normalised", async () => {
      await makeTrail(t, "new-trail");
      await expectAnswer(t.api.getEventSelectors({ TrailName: "new-trail" }), {
        TrailARN: arnOf("new-trail"),
        EventSelectors: DEFAULT_EVENT_SELECTORS,
      });
    });

    it("answers basic selectors with their data resources", async () => {
      await makeTrail(t, "data-trail");
      await t.api.putEventSelectors({
        TrailName: "data-trail",
        EventSelectors: [
          { DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::bucket-1/logs/"] }] },
        ],
      });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "data-trail" }), {
        TrailARN: arnOf("data-trail"),
        EventSelectors: [
          {
            ReadWriteType: "All",
            IncludeManagementEvents: true,
            DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::bucket-1/logs/"] }],
            ExcludeManagementEventSources: [],
          },
        ],
      });
    });

    it("answers only AdvancedEventSelectors for a trail in advanced mode, [] included", async () => {
      await makeTrail(t, "advanced-trail");
      await t.api.putEventSelectors({ TrailName: "advanced-trail", AdvancedEventSelectors: [] });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "advanced-trail" }), {
        TrailARN: arnOf("advanced-trail"),
        AdvancedEventSelectors: [],
      });
    });

    wrongJsonType(
      t,
      "a TrailName of the wrong JSON type",
      (api) => api.getEventSelectors({ TrailName: 7 as unknown as string }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, TrailName) => api.getEventSelectors({ TrailName }));
  });

  describe("functionality", () => {
    resolutionTable(t, "read", (api, TrailName) => api.getEventSelectors({ TrailName }));

    it("answers the home selectors on a shadow, with the home ARN", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectAnswer(t.api.getEventSelectors({ TrailName: arnOf("global-trail", OTHER_REGION) }), {
        TrailARN: arnOf("global-trail", OTHER_REGION),
        EventSelectors: DEFAULT_EVENT_SELECTORS,
      });
    });
  });
});
