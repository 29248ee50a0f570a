import { describe, it } from "vitest";
import { OTHER_REGION } from "./fixtures.ts";
import { expectError, forEachTarget, OTHER_ACCOUNT, wrongJsonType } from "./harness.ts";

// Digest signing keys have not landed yet: the operation answers honestly that it is unavailable.
const UNAVAILABLE = "ListPublicKeys is not available in this version of opentrail yet.";

forEachTarget("ListPublicKeys", (t) => {
  describe("serialization", () => {
    // member types are checked on the wire before the operation is asked
    wrongJsonType(
      t,
      "a NextToken of the wrong JSON type",
      (api) => api.listPublicKeys({ NextToken: 1 as unknown as string }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    it("answers UnsupportedOperationException even for input it would refuse", async () => {
      await expectError(
        t.api.listPublicKeys({
          StartTime: new Date(2_000_000_000_000),
          EndTime: new Date(0),
          NextToken: "x",
        }),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
    });
  });

  describe("functionality", () => {
    it("answers UnsupportedOperationException for now, in every region and account", async () => {
      await expectError(t.api.listPublicKeys({}), "UnsupportedOperationException", UNAVAILABLE);
      await expectError(
        t.apiIn(OTHER_REGION).listPublicKeys({}),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
      await expectError(
        t.apiAs(OTHER_ACCOUNT).listPublicKeys({}),
        "UnsupportedOperationException",
        UNAVAILABLE,
      );
    });
  });
});
