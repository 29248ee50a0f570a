import { describe, expect, it } from "vitest";
import { arnOf, makeTrail, nameOrArnValidation, OTHER_REGION, unknownTrail } from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget, OTHER_ACCOUNT, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";
import {
  BAD_ADVANCED_SELECTORS,
  BAD_BASIC_SELECTORS,
  EDGE_ADVANCED_SELECTORS,
  EDGE_BASIC_SELECTORS,
} from "./selector-cases.ts";

const WRITES_ONLY = [{ ReadWriteType: "WriteOnly" as const }];
const NORMALISED_WRITES_ONLY = [
  {
    ReadWriteType: "WriteOnly",
    IncludeManagementEvents: true,
    DataResources: [],
    ExcludeManagementEventSources: [],
  },
];
const ADVANCED = [
  {
    Name: "writes",
    FieldSelectors: [
      { Field: "eventCategory", Equals: ["Management"] },
      { Field: "readOnly", Equals: ["false"] },
    ],
  },
];

forEachTarget("PutEventSelectors", (t) => {
  describe("serialization", () => {
    it("answers TrailARN and the basic selectors with every default filled in", async () => {
      await makeTrail(t, "basic-trail");
      await expectAnswer(t.api.putEventSelectors({ TrailName: "basic-trail", EventSelectors: WRITES_ONLY }), {
        TrailARN: arnOf("basic-trail"),
        EventSelectors: NORMALISED_WRITES_ONLY,
      });
    });

    it("answers TrailARN and the advanced selectors as given", async () => {
      await makeTrail(t, "advanced-trail");
      await expectAnswer(
        t.api.putEventSelectors({ TrailName: "advanced-trail", AdvancedEventSelectors: ADVANCED }),
        {
          TrailARN: arnOf("advanced-trail"),
          AdvancedEventSelectors: ADVANCED,
        },
      );
    });

    wrongJsonType(
      t,
      "a boolean of the wrong JSON type",
      (api) =>
        api.putEventSelectors({
          TrailName: "typed-trail",
          EventSelectors: [{ IncludeManagementEvents: 1 as unknown as boolean }],
        }),
      "NUMBER_VALUE cannot be converted to Boolean",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, TrailName) =>
      api.putEventSelectors({ TrailName, EventSelectors: WRITES_ONLY }),
    );

    it("refuses both kinds of selectors at once", async () => {
      await makeTrail(t, "both-trail");
      await expectError(
        t.api.putEventSelectors({
          TrailName: "both-trail",
          EventSelectors: WRITES_ONLY,
          AdvancedEventSelectors: ADVANCED,
        }),
        "InvalidEventSelectorsException",
        "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both.",
      );
    });

    it("refuses neither kind of selectors", async () => {
      await makeTrail(t, "neither-trail");
      await expectError(
        t.api.putEventSelectors({ TrailName: "neither-trail" }),
        "InvalidEventSelectorsException",
        "You must specify either EventSelectors or AdvancedEventSelectors.",
      );
    });

    it.each(BAD_BASIC_SELECTORS)("refuses %s", async (_label, EventSelectors, message) => {
      await makeTrail(t, "basic-trail");
      await expectError(
        t.api.putEventSelectors({ TrailName: "basic-trail", EventSelectors }),
        "InvalidEventSelectorsException",
        message,
      );
    });

    it.each(BAD_ADVANCED_SELECTORS)("refuses %s", async (_label, AdvancedEventSelectors, message) => {
      await makeTrail(t, "advanced-trail");
      await expectError(
        t.api.putEventSelectors({ TrailName: "advanced-trail", AdvancedEventSelectors }),
        "InvalidEventSelectorsException",
        message,
      );
    });

    it("checks the selectors before it looks the trail up", async () => {
      await expectError(
        t.api.putEventSelectors({ TrailName: "no-such-trail", EventSelectors: [] }),
        "InvalidEventSelectorsException",
        "The number of event selectors must be between 1 and 5; 0 were specified.",
      );
    });

    it("leaves the selectors unchanged when it refuses", async () => {
      await makeTrail(t, "kept-trail");
      await t.api.putEventSelectors({ TrailName: "kept-trail", EventSelectors: WRITES_ONLY });
      await expectError(
        t.api.putEventSelectors({
          TrailName: "kept-trail",
          EventSelectors: [{ ReadWriteType: "x" as "All" }],
        }),
        "InvalidEventSelectorsException",
        /^Value x for ReadWriteType is invalid/,
      );
      await expectAnswer(t.api.getEventSelectors({ TrailName: "kept-trail" }), {
        TrailARN: arnOf("kept-trail"),
        EventSelectors: NORMALISED_WRITES_ONLY,
      });
    });
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, TrailName) =>
      api.putEventSelectors({ TrailName, EventSelectors: WRITES_ONLY }),
    );

    it("accepts basic selectors at the limits and answers what GetEventSelectors answers", async () => {
      await makeTrail(t, "edge-trail");
      const put = await t.api.putEventSelectors({
        TrailName: "edge-trail",
        EventSelectors: EDGE_BASIC_SELECTORS,
      });
      expect(put.EventSelectors).toHaveLength(5);
      await expectAnswer(t.api.getEventSelectors({ TrailName: "edge-trail" }), {
        TrailARN: put.TrailARN,
        EventSelectors: put.EventSelectors,
      });
    });

    it("accepts advanced selectors at the limits and keeps them as given", async () => {
      await makeTrail(t, "edge-trail");
      await t.api.putEventSelectors({
        TrailName: "edge-trail",
        AdvancedEventSelectors: EDGE_ADVANCED_SELECTORS,
      });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "edge-trail" }), {
        TrailARN: arnOf("edge-trail"),
        AdvancedEventSelectors: EDGE_ADVANCED_SELECTORS,
      });
    });

    it("accepts an empty advanced list: the trail then selects nothing", async () => {
      await makeTrail(t, "silent-trail");
      await expectAnswer(t.api.putEventSelectors({ TrailName: "silent-trail", AdvancedEventSelectors: [] }), {
        TrailARN: arnOf("silent-trail"),
        AdvancedEventSelectors: [],
      });
    });

    it("replaces the previous configuration, discarding the other kind", async () => {
      await makeTrail(t, "switching-trail");
      await t.api.putEventSelectors({ TrailName: "switching-trail", EventSelectors: EDGE_BASIC_SELECTORS });
      await t.api.putEventSelectors({ TrailName: "switching-trail", AdvancedEventSelectors: ADVANCED });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "switching-trail" }), {
        TrailARN: arnOf("switching-trail"),
        AdvancedEventSelectors: ADVANCED,
      });
      await t.api.putEventSelectors({ TrailName: "switching-trail", EventSelectors: WRITES_ONLY });
      await expectAnswer(t.api.getEventSelectors({ TrailName: "switching-trail" }), {
        TrailARN: arnOf("switching-trail"),
        EventSelectors: NORMALISED_WRITES_ONLY,
      });
    });

    it("sets HasCustomEventSelectors, for either kind", async () => {
      await makeTrail(t, "basic-trail");
      await makeTrail(t, "advanced-trail");
      await t.api.putEventSelectors({ TrailName: "basic-trail", EventSelectors: WRITES_ONLY });
      await t.api.putEventSelectors({ TrailName: "advanced-trail", AdvancedEventSelectors: [] });
      const { trailList } = await t.api.describeTrails({});
      expect(trailList?.map((x) => x.HasCustomEventSelectors)).toEqual([true, true]);
    });

    it("is seen on the shadows of a multi-Region trail", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await t
        .apiIn(OTHER_REGION)
        .putEventSelectors({ TrailName: "global-trail", AdvancedEventSelectors: ADVANCED });
      await expectAnswer(t.api.getEventSelectors({ TrailName: arnOf("global-trail", OTHER_REGION) }), {
        TrailARN: arnOf("global-trail", OTHER_REGION),
        AdvancedEventSelectors: ADVANCED,
      });
    });

    it("does not let another account change the selectors", async () => {
      await makeTrail(t, "private-trail");
      await expectError(
        t
          .apiAs(OTHER_ACCOUNT)
          .putEventSelectors({ TrailName: arnOf("private-trail"), AdvancedEventSelectors: [] }),
        "TrailNotFoundException",
        unknownTrail(arnOf("private-trail"), OTHER_ACCOUNT),
      );
      const { EventSelectors } = await t.api.getEventSelectors({ TrailName: "private-trail" });
      expect(EventSelectors?.[0]?.ReadWriteType).toBe("All");
    });
  });
});
