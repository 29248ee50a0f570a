import { describe, expect, it } from "vitest";
import { arnOf, makeTrail, nameOrArnValidation, OTHER_REGION } from "./fixtures.ts";
import { expectAnswer, forEachTarget, stripped, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

/** The deprecated string members: always present, "" while unknown. */
const NEVER = {
  LatestDeliveryAttemptTime: "",
  LatestNotificationAttemptTime: "",
  LatestNotificationAttemptSucceeded: "",
  LatestDeliveryAttemptSucceeded: "",
  TimeLoggingStarted: "",
  TimeLoggingStopped: "",
};

/** `YYYY-MM-DDTHH:MM:SSZ`, the form of the deprecated time strings. */
function isoSeconds(d: Date | undefined): string {
  return `${d?.toISOString().slice(0, 19)}Z`;
}

forEachTarget("GetTrailStatus", (t) => {
  describe("serialization", () => {
    it("answers IsLogging and the deprecated strings for a trail that never logged", async () => {
      await makeTrail(t, "quiet-trail");
      await expectAnswer(t.api.getTrailStatus({ Name: "quiet-trail" }), { IsLogging: false, ...NEVER });
    });

    it("answers StartLoggingTime as a timestamp and TimeLoggingStarted as its ISO string", async () => {
      await makeTrail(t, "busy-trail");
      await t.api.startLogging({ Name: "busy-trail" });
      const status = await t.api.getTrailStatus({ Name: "busy-trail" });
      expect(status.StartLoggingTime).toBeInstanceOf(Date);
      await expectAnswer(Promise.resolve(status), {
        ...NEVER,
        IsLogging: true,
        StartLoggingTime: status.StartLoggingTime,
        TimeLoggingStarted: isoSeconds(status.StartLoggingTime),
      });
    });

    it("answers both times once logging stopped", async () => {
      await makeTrail(t, "stopped-trail");
      await t.api.startLogging({ Name: "stopped-trail" });
      await t.api.stopLogging({ Name: "stopped-trail" });
      const status = await t.api.getTrailStatus({ Name: "stopped-trail" });
      expect(status.StopLoggingTime).toBeInstanceOf(Date);
      await expectAnswer(Promise.resolve(status), {
        ...NEVER,
        IsLogging: false,
        StartLoggingTime: status.StartLoggingTime,
        StopLoggingTime: status.StopLoggingTime,
        TimeLoggingStarted: isoSeconds(status.StartLoggingTime),
        TimeLoggingStopped: isoSeconds(status.StopLoggingTime),
      });
    });

    it("answers what the other target answers, timestamps to the millisecond", async () => {
      await makeTrail(t, "stopped-trail");
      await t.api.startLogging({ Name: "stopped-trail" });
      await t.api.stopLogging({ Name: "stopped-trail" });
      const mine = stripped(await t.api.getTrailStatus({ Name: "stopped-trail" }));
      expect(mine).toStrictEqual(stripped(await t.peer.getTrailStatus({ Name: "stopped-trail" })));
    });

    wrongJsonType(
      t,
      "a Name of the wrong JSON type",
      (api) => api.getTrailStatus({ Name: ["a"] as unknown as string }),
      "Unrecognized collection type class java.lang.String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.getTrailStatus({ Name }));
  });

  describe("functionality", () => {
    resolutionTable(t, "read", (api, Name) => api.getTrailStatus({ Name }));

    it("puts StartLoggingTime between the moments before and after StartLogging", async () => {
      await makeTrail(t, "timed-trail");
      const before = Date.now();
      await t.api.startLogging({ Name: "timed-trail" });
      const after = Date.now();
      const started = (await t.api.getTrailStatus({ Name: "timed-trail" })).StartLoggingTime?.getTime() ?? 0;
      expect(started).toBeGreaterThanOrEqual(before);
      expect(started).toBeLessThanOrEqual(after);
    });

    it("shows the home trail's logging state on its shadows", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await t.apiIn(OTHER_REGION).startLogging({ Name: "global-trail" });
      const shadow = await t.api.getTrailStatus({ Name: arnOf("global-trail", OTHER_REGION) });
      expect(shadow.IsLogging).toBe(true);
      expect(shadow.StartLoggingTime).toBeInstanceOf(Date);
    });
  });
});
