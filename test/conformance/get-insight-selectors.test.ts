import type { InsightSelector } from "@aws-sdk/client-cloudtrail";
import { describe, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { arnOf, makeTrail, nameOrArnValidation, OTHER_REGION } from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

const CALL_RATE: InsightSelector[] = [{ InsightType: "ApiCallRateInsight" }];

function notEnabled(name: string): string {
  return `Trail ${name} does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.`;
}

/** Resolution succeeded when the answer is the selectors or InsightNotEnabledException. */
async function resolves(api: CloudTrailApi, TrailName?: string): Promise<unknown> {
  try {
    return await api.getInsightSelectors({ TrailName });
  } catch (e) {
    if ((e as Error).name === "InsightNotEnabledException") return "resolved";
    throw e;
  }
}

forEachTarget("GetInsightSelectors", (t) => {
  describe("serialization", () => {
    it("answers TrailARN and the selectors as stored, EventCategories only where given", async () => {
      await makeTrail(t, "insight-trail");
      const selectors: InsightSelector[] = [
        { InsightType: "ApiCallRateInsight" },
        { InsightType: "ApiErrorRateInsight", EventCategories: ["Management"] },
      ];
      await t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors: selectors });
      await expectAnswer(t.api.getInsightSelectors({ TrailName: "insight-trail" }), {
        TrailARN: arnOf("insight-trail"),
        InsightSelectors: selectors,
      });
    });

    wrongJsonType(
      t,
      "a TrailName of the wrong JSON type",
      (api) => api.getInsightSelectors({ TrailName: 3 as unknown as string }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, TrailName) => api.getInsightSelectors({ TrailName }), [
      "InvalidParameterException",
      "You must specify either a trail name or an event data store.",
    ]);

    it("refuses a trail name together with an event data store", async () => {
      await expectError(
        t.api.getInsightSelectors({ TrailName: "lake-trail", EventDataStore: "eds-1" }),
        "InvalidParameterCombinationException",
        "You cannot specify both a trail name and an event data store in the same request.",
      );
    });

    it("answers UnsupportedOperationException for an event data store", async () => {
      await expectError(
        t.api.getInsightSelectors({ EventDataStore: "eds-1" }),
        "UnsupportedOperationException",
        "Event data stores are not supported by this service.",
      );
    });
  });

  describe("functionality", () => {
    resolutionTable(t, "read", resolves);

    it("answers InsightNotEnabledException for a trail that never had insight selectors", async () => {
      await makeTrail(t, "plain-trail");
      await expectError(
        t.api.getInsightSelectors({ TrailName: "plain-trail" }),
        "InsightNotEnabledException",
        notEnabled("plain-trail"),
      );
    });

    it("answers InsightNotEnabledException once the selectors were set to []", async () => {
      await makeTrail(t, "disabled-trail");
      await t.api.putInsightSelectors({ TrailName: "disabled-trail", InsightSelectors: CALL_RATE });
      await t.api.putInsightSelectors({ TrailName: "disabled-trail", InsightSelectors: [] });
      await expectError(
        t.api.getInsightSelectors({ TrailName: arnOf("disabled-trail") }),
        "InsightNotEnabledException",
        notEnabled("disabled-trail"),
      );
    });

    it("answers the home selectors on a shadow, naming the trail in InsightNotEnabledException", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      const shadow = arnOf("global-trail", OTHER_REGION);
      await expectError(
        t.api.getInsightSelectors({ TrailName: shadow }),
        "InsightNotEnabledException",
        notEnabled("global-trail"),
      );
      await t
        .apiIn(OTHER_REGION)
        .putInsightSelectors({ TrailName: "global-trail", InsightSelectors: CALL_RATE });
      await expectAnswer(t.api.getInsightSelectors({ TrailName: shadow }), {
        TrailARN: shadow,
        InsightSelectors: CALL_RATE,
      });
    });
  });
});
