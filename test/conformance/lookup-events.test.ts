import { describe, it } from "vitest";
import { OTHER_REGION } from "./fixtures.ts";
import { expectError, forEachTarget, OTHER_ACCOUNT, wrongJsonType } from "./harness.ts";

// Event history has not landed yet: the operation answers honestly that it is unavailable.
const UNAVAILABLE = "LookupEvents is not available in this version of opentrail yet.";

forEachTarget("LookupEvents", (t) => {
  describe("serialization", () => {
    // member types are checked on the wire before the operation is asked
    wrongJsonType(
      t,
      "a MaxResults of the wrong JSON type",
      (api) => api.lookupEvents({ MaxResults: "ten" as unknown as number }),
      "STRING_VALUE cannot be converted to Integer",
    );
  });

  describe("validation", () => {
    it("answers UnsupportedOperationException even for input it would refuse", async () => {
      await expectError(
        t.api.lookupEvents({ MaxResults: 0, StartTime: new Date(2_000_000_000_000), EndTime: new Date(0) }),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
    });
  });

  describe("functionality", () => {
    it("answers UnsupportedOperationException for now, in every region and account", async () => {
      await expectError(t.api.lookupEvents({}), "UnsupportedOperationException", UNAVAILABLE);
      await expectError(
        t.apiIn(OTHER_REGION).lookupEvents({
          LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateTrail" }],
          MaxResults: 5,
        }),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
      await expectError(
        t.apiAs(OTHER_ACCOUNT).lookupEvents({}),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
    });
  });
});
