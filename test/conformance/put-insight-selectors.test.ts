import type { InsightSelector } from "@aws-sdk/client-cloudtrail";
import { describe, expect, it } from "vitest";
import { arnOf, BUCKET, makeTrail, nameOrArnValidation, OTHER_REGION, unknownTrail } from "./fixtures.ts";
import {
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  type Target,
  wrongJsonType,
} from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

const CALL_RATE: InsightSelector[] = [{ InsightType: "ApiCallRateInsight" }];
const BOTH: InsightSelector[] = [
  { InsightType: "ApiCallRateInsight", EventCategories: ["Management", "Data"] },
  { InsightType: "ApiErrorRateInsight" },
];

const BAD_INSIGHT_SELECTORS: readonly (readonly [string, InsightSelector[], string])[] = [
  [
    "an unknown InsightType",
    [{ InsightType: "Bogus" as "ApiCallRateInsight" }],
    "Value Bogus for InsightType is invalid. Valid values are: ApiCallRateInsight, ApiErrorRateInsight",
  ],
  [
    "a selector without InsightType",
    [{}],
    "Value null for InsightType is invalid. Valid values are: ApiCallRateInsight, ApiErrorRateInsight",
  ],
  [
    "an InsightType given twice",
    [{ InsightType: "ApiErrorRateInsight" }, { InsightType: "ApiErrorRateInsight" }],
    "InsightType ApiErrorRateInsight is specified more than once.",
  ],
  [
    "empty EventCategories",
    [{ InsightType: "ApiCallRateInsight", EventCategories: [] }],
    "EventCategories must contain at least one of: Management, Data",
  ],
  [
    "an unknown event category",
    [{ InsightType: "ApiCallRateInsight", EventCategories: ["Network" as "Data"] }],
    "Value Network for EventCategories is invalid. Valid values are: Management, Data",
  ],
];

/** A trail whose event selectors log `what` (read-only management events, or data events only). */
async function trailLogging(t: Target, name: string, what: "reads" | "data") {
  await makeTrail(t, name);
  await t.api.putEventSelectors({
    TrailName: name,
    EventSelectors:
      what === "reads"
        ? [{ ReadWriteType: "ReadOnly" }]
        : [
            {
              IncludeManagementEvents: false,
              DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3"] }],
            },
          ],
  });
}

forEachTarget("PutInsightSelectors", (t) => {
  describe("serialization", () => {
    it("answers TrailARN and the selectors as stored", async () => {
      await makeTrail(t, "data-trail");
      await t.api.putEventSelectors({
        TrailName: "data-trail",
        EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3"] }] }],
      });
      await expectAnswer(t.api.putInsightSelectors({ TrailName: "data-trail", InsightSelectors: BOTH }), {
        TrailARN: arnOf("data-trail"),
        InsightSelectors: BOTH,
      });
    });

    wrongJsonType(
      t,
      "a list of the wrong JSON type",
      (api) =>
        api.putInsightSelectors({
          TrailName: "typed-trail",
          InsightSelectors: "ApiCallRateInsight" as unknown as InsightSelector[],
        }),
      "Unexpected field type",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(
      t,
      (api, TrailName) => api.putInsightSelectors({ TrailName, InsightSelectors: CALL_RATE }),
      ["InvalidParameterException", "You must specify either a trail name or an event data store."],
    );

    it("refuses a trail name together with an event data store", async () => {
      await makeTrail(t, "lake-trail");
      await expectError(
        t.api.putInsightSelectors({
          TrailName: "lake-trail",
          EventDataStore: "eds-1",
          InsightSelectors: CALL_RATE,
        }),
        "InvalidParameterCombinationException",
        "You cannot specify both a trail name and an event data store in the same request.",
      );
    });

    it("answers UnsupportedOperationException for event data stores and insight destinations", async () => {
      await makeTrail(t, "lake-trail");
      const unsupported = "Event data stores are not supported by this service.";
      await expectError(
        t.api.putInsightSelectors({ EventDataStore: "eds-1", InsightSelectors: CALL_RATE }),
        "UnsupportedOperationException",
        unsupported,
      );
      await expectError(
        t.api.putInsightSelectors({
          TrailName: "lake-trail",
          InsightsDestination: "eds-2",
          InsightSelectors: CALL_RATE,
        }),
        "UnsupportedOperationException",
        unsupported,
      );
    });

    it("refuses a missing InsightSelectors", async () => {
      await makeTrail(t, "bare-trail");
      await expectError(
        t.api.putInsightSelectors({ TrailName: "bare-trail" } as never),
        "InvalidInsightSelectorsException",
        "InsightSelectors must be specified.",
      );
    });

    it.each(BAD_INSIGHT_SELECTORS)("refuses %s", async (_label, InsightSelectors, message) => {
      await makeTrail(t, "insight-trail");
      await expectError(
        t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors }),
        "InvalidInsightSelectorsException",
        message,
      );
    });

    it("refuses API call rate insights on a trail that logs no write management events", async () => {
      await trailLogging(t, "reader-trail", "reads");
      await expectError(
        t.api.putInsightSelectors({ TrailName: "reader-trail", InsightSelectors: CALL_RATE }),
        "InvalidInsightSelectorsException",
        "To log ApiCallRateInsight on management events, the trail must log write management events.",
      );
      await expectAnswer(
        t.api.putInsightSelectors({
          TrailName: "reader-trail",
          InsightSelectors: [{ InsightType: "ApiErrorRateInsight" }],
        }),
        { TrailARN: arnOf("reader-trail"), InsightSelectors: [{ InsightType: "ApiErrorRateInsight" }] },
      );
    });

    it("refuses error rate insights on a trail that logs no management events", async () => {
      await trailLogging(t, "data-trail", "data");
      await expectError(
        t.api.putInsightSelectors({
          TrailName: "data-trail",
          InsightSelectors: [{ InsightType: "ApiErrorRateInsight" }],
        }),
        "InvalidInsightSelectorsException",
        "To log ApiErrorRateInsight on management events, the trail must log read or write management events.",
      );
    });

    it("refuses data-event insights on a trail that logs no data events", async () => {
      await makeTrail(t, "management-trail");
      await expectError(
        t.api.putInsightSelectors({
          TrailName: "management-trail",
          InsightSelectors: [{ InsightType: "ApiCallRateInsight", EventCategories: ["Data"] }],
        }),
        "InvalidInsightSelectorsException",
        "To log ApiCallRateInsight on data events, the trail must log read or write data events.",
      );
    });

    it("reads the prerequisites from advanced selectors too", async () => {
      await makeTrail(t, "advanced-trail");
      await t.api.putEventSelectors({
        TrailName: "advanced-trail",
        AdvancedEventSelectors: [
          {
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["Management"] },
              { Field: "readOnly", Equals: ["true"] },
            ],
          },
        ],
      });
      await expectError(
        t.api.putInsightSelectors({ TrailName: "advanced-trail", InsightSelectors: CALL_RATE }),
        "InvalidInsightSelectorsException",
        "To log ApiCallRateInsight on management events, the trail must log write management events.",
      );
    });

    it("answers S3BucketDoesNotExistException when the trail's bucket is gone", async () => {
      await makeTrail(t, "orphan-trail");
      await t.deleteBucket(BUCKET);
      await expectError(
        t.api.putInsightSelectors({ TrailName: "orphan-trail", InsightSelectors: CALL_RATE }),
        "S3BucketDoesNotExistException",
        `S3 bucket ${BUCKET} does not exist!`,
      );
      await expectAnswer(t.api.putInsightSelectors({ TrailName: "orphan-trail", InsightSelectors: [] }), {
        TrailARN: arnOf("orphan-trail"),
        InsightSelectors: [],
      });
    });
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, TrailName) =>
      api.putInsightSelectors({ TrailName, InsightSelectors: CALL_RATE }),
    );

    it("turns Insights on, replaces the selectors, and turns them off with []", async () => {
      await makeTrail(t, "insight-trail");
      await t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors: CALL_RATE });
      await expectAnswer(t.api.getInsightSelectors({ TrailName: "insight-trail" }), {
        TrailARN: arnOf("insight-trail"),
        InsightSelectors: CALL_RATE,
      });
      const errors = [
        { InsightType: "ApiErrorRateInsight" as const, EventCategories: ["Management" as const] },
      ];
      await t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors: errors });
      await expectAnswer(t.api.getInsightSelectors({ TrailName: "insight-trail" }), {
        TrailARN: arnOf("insight-trail"),
        InsightSelectors: errors,
      });
      await t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors: [] });
      expect((await t.api.getTrail({ Name: "insight-trail" })).Trail?.HasInsightSelectors).toBe(false);
    });

    it("leaves the event selectors alone", async () => {
      await trailLogging(t, "reader-trail", "reads");
      await t.api.putInsightSelectors({
        TrailName: "reader-trail",
        InsightSelectors: [{ InsightType: "ApiErrorRateInsight" }],
      });
      const { EventSelectors } = await t.api.getEventSelectors({ TrailName: "reader-trail" });
      expect(EventSelectors?.map((s) => s.ReadWriteType)).toEqual(["ReadOnly"]);
    });

    it("is seen on the shadows of a multi-Region trail", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await t
        .apiIn(OTHER_REGION)
        .putInsightSelectors({ TrailName: "global-trail", InsightSelectors: CALL_RATE });
      await expectAnswer(t.api.getInsightSelectors({ TrailName: arnOf("global-trail", OTHER_REGION) }), {
        TrailARN: arnOf("global-trail", OTHER_REGION),
        InsightSelectors: CALL_RATE,
      });
    });

    it("does not let another account change the selectors", async () => {
      await makeTrail(t, "private-trail");
      await expectError(
        t
          .apiAs(OTHER_ACCOUNT)
          .putInsightSelectors({ TrailName: arnOf("private-trail"), InsightSelectors: CALL_RATE }),
        "TrailNotFoundException",
        unknownTrail(arnOf("private-trail"), OTHER_ACCOUNT),
      );
      expect((await t.api.getTrail({ Name: "private-trail" })).Trail?.HasInsightSelectors).toBe(false);
    });
  });
});
