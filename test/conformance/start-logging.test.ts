import { describe, expect, it } from "vitest";
import {
  arnOf,
  homeRegionOnly,
  makeTrail,
  nameOrArnValidation,
  OTHER_REGION,
  unknownTrail,
} from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget, OTHER_ACCOUNT, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

forEachTarget("StartLogging", (t) => {
  describe("serialization", () => {
    it("answers an empty object", async () => {
      await makeTrail(t, "new-trail");
      await expectAnswer(t.api.startLogging({ Name: "new-trail" }), {});
    });

    wrongJsonType(
      t,
      "a Name of the wrong JSON type",
      (api) => api.startLogging({ Name: { name: "x" } as unknown as string }),
      "Start of structure or map found where not expected",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.startLogging({ Name }));
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, Name) => api.startLogging({ Name }));

    it("turns logging on", async () => {
      await makeTrail(t, "new-trail");
      await t.api.startLogging({ Name: arnOf("new-trail") });
      const status = await t.api.getTrailStatus({ Name: "new-trail" });
      expect(status.IsLogging).toBe(true);
      expect(status.StopLoggingTime).toBeUndefined();
    });

    it("is idempotent: a second call keeps the first StartLoggingTime", async () => {
      await makeTrail(t, "new-trail");
      await t.api.startLogging({ Name: "new-trail" });
      const first = (await t.api.getTrailStatus({ Name: "new-trail" })).StartLoggingTime;
      await expectAnswer(t.api.startLogging({ Name: "new-trail" }), {});
      expect((await t.api.getTrailStatus({ Name: "new-trail" })).StartLoggingTime).toEqual(first);
    });

    it("records a new StartLoggingTime after a stop, not before the stop", async () => {
      await makeTrail(t, "cycled-trail");
      await t.api.startLogging({ Name: "cycled-trail" });
      await t.api.stopLogging({ Name: "cycled-trail" });
      await t.api.startLogging({ Name: "cycled-trail" });
      const status = await t.api.getTrailStatus({ Name: "cycled-trail" });
      expect(status.IsLogging).toBe(true);
      expect(status.StartLoggingTime!.getTime()).toBeGreaterThanOrEqual(status.StopLoggingTime!.getTime());
    });

    it("starts a multi-Region trail in every region", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true });
      await t.api.startLogging({ Name: "global-trail" });
      for (const region of t.regions) {
        const status = await t.apiIn(region).getTrailStatus({ Name: arnOf("global-trail") });
        expect(status.IsLogging).toBe(true);
      }
    });

    it("cannot be called on a shadow, which keeps logging off", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.startLogging({ Name: arnOf("global-trail", OTHER_REGION) }),
        "InvalidHomeRegionException",
        homeRegionOnly(OTHER_REGION),
      );
      expect((await t.apiIn(OTHER_REGION).getTrailStatus({ Name: "global-trail" })).IsLogging).toBe(false);
    });

    it("does not let another account start the trail", async () => {
      await makeTrail(t, "private-trail");
      await expectError(
        t.apiAs(OTHER_ACCOUNT).startLogging({ Name: arnOf("private-trail") }),
        "TrailNotFoundException",
        unknownTrail(arnOf("private-trail"), OTHER_ACCOUNT),
      );
      expect((await t.api.getTrailStatus({ Name: "private-trail" })).IsLogging).toBe(false);
    });
  });
});
