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
  // A name per target: the flush that follows the reset's DeleteTrail may still record a delivery
  // attempt under the trail's ARN, which a trail created again under that name would show.
  const named = (base: string) => `${base}-${t.kind}`;

  describe("serialization", () => {
    it("answers IsLogging and the deprecated strings for a trail that never logged", async () => {
      await makeTrail(t, named("quiet-trail"));
      await expectAnswer(t.api.getTrailStatus({ Name: named("quiet-trail") }), {
        IsLogging: false,
        ...NEVER,
      });
    });

    it("answers StartLoggingTime as a timestamp and TimeLoggingStarted as its ISO string", async () => {
      await makeTrail(t, named("busy-trail"));
      await t.api.startLogging({ Name: named("busy-trail") });
      const status = await t.api.getTrailStatus({ Name: named("busy-trail") });
      expect(status.StartLoggingTime).toBeInstanceOf(Date);
      await expectAnswer(Promise.resolve(status), {
        ...NEVER,
        IsLogging: true,
        StartLoggingTime: status.StartLoggingTime,
        TimeLoggingStarted: isoSeconds(status.StartLoggingTime),
      });
    });

    it("answers both times once logging stopped, and keeps the stop after a later StartLogging", async () => {
      const name = named("stopped-trail");
      await makeTrail(t, name);
      await t.api.startLogging({ Name: name });
      await t.api.stopLogging({ Name: name });
      const stopped = await t.api.getTrailStatus({ Name: name });
      expect(stopped.StopLoggingTime).toBeInstanceOf(Date);
      const stoppedShape = {
        ...NEVER,
        StartLoggingTime: stopped.StartLoggingTime,
        StopLoggingTime: stopped.StopLoggingTime,
        TimeLoggingStarted: isoSeconds(stopped.StartLoggingTime),
        TimeLoggingStopped: isoSeconds(stopped.StopLoggingTime),
      };
      await expectAnswer(Promise.resolve(stopped), { ...stoppedShape, IsLogging: false });
      await t.api.startLogging({ Name: name });
      const restarted = await t.api.getTrailStatus({ Name: name });
      await expectAnswer(Promise.resolve(restarted), {
        ...stoppedShape,
        IsLogging: true,
        StartLoggingTime: restarted.StartLoggingTime,
        TimeLoggingStarted: isoSeconds(restarted.StartLoggingTime),
      });
    });

    it("has no member set to undefined before the first delivery, in process as over HTTP", async () => {
      await makeTrail(t, named("fresh-trail"));
      await t.api.startLogging({ Name: named("fresh-trail") });
      const status = await t.api.getTrailStatus({ Name: named("fresh-trail") });
      const members = Object.entries(status).filter(([k, v]) => k !== "$metadata" && v !== undefined);
      expect(members.length).toBe(Object.keys(status).filter((k) => k !== "$metadata").length);
      expect(members.map(([k]) => k).sort()).toEqual(
        [...Object.keys(NEVER), "IsLogging", "StartLoggingTime"].sort(),
      );
    });

    it("answers what the other target answers, timestamps to the millisecond", async () => {
      await makeTrail(t, named("stopped-trail"));
      await t.api.startLogging({ Name: named("stopped-trail") });
      await t.api.stopLogging({ Name: named("stopped-trail") });
      const mine = stripped(await t.api.getTrailStatus({ Name: named("stopped-trail") }));
      expect(mine).toStrictEqual(stripped(await t.peer.getTrailStatus({ Name: named("stopped-trail") })));
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
