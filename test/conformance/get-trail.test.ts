import { describe, expect, it } from "vitest";
import {
  arnOf,
  describedTrail,
  makeTrail,
  nameOrArnValidation,
  OTHER_REGION,
  unknownTrail,
} from "./fixtures.ts";
import { ACCOUNT, expectAnswer, expectError, forEachTarget, metadataOf, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

forEachTarget("GetTrail", (t) => {
  describe("serialization", () => {
    it("answers Trail with the always-present members and none of the unset ones", async () => {
      await makeTrail(t, "plain-trail");
      await expectAnswer(t.api.getTrail({ Name: "plain-trail" }), { Trail: describedTrail("plain-trail") });
    });

    it("answers every optional member once it is set", async () => {
      await makeTrail(t, "full-trail", {
        S3KeyPrefix: "logs/prefix",
        SnsTopicName: "trail-topic",
        KmsKeyId: "alias/trail-key",
        EnableLogFileValidation: true,
        IsMultiRegionTrail: true,
      });
      await expectAnswer(t.api.getTrail({ Name: "full-trail" }), {
        Trail: describedTrail("full-trail", {
          S3KeyPrefix: "logs/prefix",
          SnsTopicName: "trail-topic",
          SnsTopicARN: `arn:aws:sns:us-east-1:${ACCOUNT}:trail-topic`,
          KmsKeyId: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/trail-key`,
          LogFileValidationEnabled: true,
          IsMultiRegionTrail: true,
        }),
      });
    });

    it.runIf(t.kind === "http")("answers 200 with a request id", async () => {
      await makeTrail(t, "plain-trail");
      const answer = await t.api.getTrail({ Name: "plain-trail" });
      expect(metadataOf(answer)?.httpStatusCode).toBe(200);
      expect(metadataOf(answer)?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });

    wrongJsonType(
      t,
      "a Name of the wrong JSON type",
      (api) => api.getTrail({ Name: 123 as unknown as string }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.getTrail({ Name }));
  });

  describe("functionality", () => {
    // GetTrail alone names an unknown bare name as given, not as an ARN (errors.md, moto#4410)
    resolutionTable(t, "read", (api, Name) => api.getTrail({ Name }), "as-given");

    it("answers the home configuration of a shadow, with the home region and ARN", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectAnswer(t.api.getTrail({ Name: arnOf("global-trail", OTHER_REGION) }), {
        Trail: describedTrail("global-trail", { IsMultiRegionTrail: true }, OTHER_REGION),
      });
    });

    it("shows HasCustomEventSelectors once event selectors were put", async () => {
      await makeTrail(t, "custom-trail");
      await t.api.putEventSelectors({
        TrailName: "custom-trail",
        EventSelectors: [{ ReadWriteType: "WriteOnly" }],
      });
      const { Trail } = await t.api.getTrail({ Name: "custom-trail" });
      expect(Trail?.HasCustomEventSelectors).toBe(true);
    });

    it("shows HasInsightSelectors while the trail has insight selectors", async () => {
      await makeTrail(t, "insight-trail");
      await t.api.putInsightSelectors({
        TrailName: "insight-trail",
        InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
      });
      expect((await t.api.getTrail({ Name: "insight-trail" })).Trail?.HasInsightSelectors).toBe(true);
      await t.api.putInsightSelectors({ TrailName: "insight-trail", InsightSelectors: [] });
      expect((await t.api.getTrail({ Name: "insight-trail" })).Trail?.HasInsightSelectors).toBe(false);
    });

    it("reflects an update", async () => {
      await makeTrail(t, "changing-trail");
      await t.createBucket("second-bucket");
      await t.api.updateTrail({ Name: "changing-trail", S3BucketName: "second-bucket", S3KeyPrefix: "p" });
      await expectAnswer(t.api.getTrail({ Name: "changing-trail" }), {
        Trail: describedTrail("changing-trail", { S3BucketName: "second-bucket", S3KeyPrefix: "p" }),
      });
    });

    it("answers TrailNotFoundException once the trail is deleted", async () => {
      await makeTrail(t, "gone-trail");
      await t.api.deleteTrail({ Name: "gone-trail" });
      await expectError(
        t.api.getTrail({ Name: "gone-trail" }),
        "TrailNotFoundException",
        unknownTrail("gone-trail"),
      );
    });
  });
});
