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

forEachTarget("StopLogging", (t) => {
  describe("serialization", () => {
    it("answers an empty object", async () => {
      await makeTrail(t, "busy-trail");
      await t.api.startLogging({ Name: "busy-trail" });
      await expectAnswer(t.api.stopLogging({ Name: "busy-trail" }), {});
    });

    wrongJsonType(
      t,
      "a Name of the wrong JSON type",
      (api) => api.stopLogging({ Name: 1.5 as unknown as string }),
      "DECIMAL_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.stopLogging({ Name }));
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, Name) => api.stopLogging({ Name }));

    it("turns logging off and keeps StartLoggingTime", async () => {
      await makeTrail(t, "busy-trail");
      await t.api.startLogging({ Name: "busy-trail" });
      const started = (await t.api.getTrailStatus({ Name: "busy-trail" })).StartLoggingTime;
      await t.api.stopLogging({ Name: arnOf("busy-trail") });
      const status = await t.api.getTrailStatus({ Name: "busy-trail" });
      expect(status.IsLogging).toBe(false);
      expect(status.StartLoggingTime).toEqual(started);
      expect(status.StopLoggingTime!.getTime()).toBeGreaterThanOrEqual(started!.getTime());
    });

    it("is idempotent: stopping a trail that never logged records no stop", async () => {
      await makeTrail(t, "quiet-trail");
      await expectAnswer(t.api.stopLogging({ Name: "quiet-trail" }), {});
      const status = await t.api.getTrailStatus({ Name: "quiet-trail" });
      expect({ logging: status.IsLogging, stopped: status.StopLoggingTime }).toEqual({
        logging: false,
        stopped: undefined,
      });
    });

    it("keeps the first StopLoggingTime on a second stop", async () => {
      await makeTrail(t, "busy-trail");
      await t.api.startLogging({ Name: "busy-trail" });
      await t.api.stopLogging({ Name: "busy-trail" });
      const first = (await t.api.getTrailStatus({ Name: "busy-trail" })).StopLoggingTime;
      await t.api.stopLogging({ Name: "busy-trail" });
      expect((await t.api.getTrailStatus({ Name: "busy-trail" })).StopLoggingTime).toEqual(first);
    });

    it("stops a multi-Region trail in every region", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true });
      await t.api.startLogging({ Name: "global-trail" });
      await t.api.stopLogging({ Name: "global-trail" });
      for (const region of t.regions) {
        const status = await t.apiIn(region).getTrailStatus({ Name: arnOf("global-trail") });
        expect(status.IsLogging).toBe(false);
      }
    });

    it("cannot be called on a shadow, which keeps logging", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await t.apiIn(OTHER_REGION).startLogging({ Name: "global-trail" });
      await expectError(
        t.api.stopLogging({ Name: arnOf("global-trail", OTHER_REGION) }),
        "InvalidHomeRegionException",
        homeRegionOnly(OTHER_REGION),
      );
      expect((await t.api.getTrailStatus({ Name: arnOf("global-trail", OTHER_REGION) })).IsLogging).toBe(
        true,
      );
    });

    it("does not let another account stop the trail", async () => {
      await makeTrail(t, "private-trail");
      await t.api.startLogging({ Name: "private-trail" });
      await expectError(
        t.apiAs(OTHER_ACCOUNT).stopLogging({ Name: arnOf("private-trail") }),
        "TrailNotFoundException",
        unknownTrail(arnOf("private-trail"), OTHER_ACCOUNT),
      );
      expect((await t.api.getTrailStatus({ Name: "private-trail" })).IsLogging).toBe(true);
    });
  });
});
