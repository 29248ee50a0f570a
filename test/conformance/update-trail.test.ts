import { describe, expect, it } from "vitest";
import {
  alreadyExists,
  arnOf,
  BAD_BUCKET_NAMES,
  BAD_DESTINATION_SETTINGS,
  BUCKET,
  DEFAULT_EVENT_SELECTORS,
  describedTrail,
  homeRegionOnly,
  KMS_KEY_FORMS,
  makeTrail,
  nameOrArnValidation,
  OTHER_REGION,
  THIRD_REGION,
  tooManyTrails,
  trailResponse,
  unknownTrail,
} from "./fixtures.ts";
import { ACCOUNT, expectAnswer, expectError, forEachTarget, REGION, wrongJsonType } from "./harness.ts";
import { resolutionTable } from "./resolution.ts";

const SNS_SET = {
  SnsTopicName: "trail-topic",
  SnsTopicARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trail-topic`,
};

forEachTarget("UpdateTrail", (t) => {
  describe("serialization", () => {
    it("answers the resulting trail in the CreateTrail form", async () => {
      await makeTrail(t, "updated-trail");
      await expectAnswer(
        t.api.updateTrail({
          Name: "updated-trail",
          S3KeyPrefix: "new/prefix",
          SnsTopicName: "trail-topic",
          EnableLogFileValidation: true,
          KmsKeyId: "alias/trail-key",
        }),
        trailResponse("updated-trail", {
          S3KeyPrefix: "new/prefix",
          ...SNS_SET,
          LogFileValidationEnabled: true,
          KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/trail-key`,
        }),
      );
    });

    it("answers the unchanged trail when nothing but the name is sent", async () => {
      await makeTrail(t, "same-trail", { S3KeyPrefix: "kept" });
      await expectAnswer(
        t.api.updateTrail({ Name: "same-trail" }),
        trailResponse("same-trail", { S3KeyPrefix: "kept" }),
      );
    });

    it.each(KMS_KEY_FORMS)("keeps KmsKeyId %j as %j", async (given, kept) => {
      await makeTrail(t, "kms-trail");
      const answer = await t.api.updateTrail({ Name: "kms-trail", KmsKeyId: given });
      expect(answer.KmsKeyId).toBe(kept);
    });

    wrongJsonType(
      t,
      "a string where a boolean belongs",
      (api) =>
        api.updateTrail({ Name: "typed-trail", EnableLogFileValidation: "true" as unknown as boolean }),
      "Unexpected token received from parser",
    );
  });

  describe("validation", () => {
    nameOrArnValidation(t, (api, Name) => api.updateTrail({ Name }));

    it.each(BAD_BUCKET_NAMES)("refuses the bucket name %j", async (bucket, message) => {
      await makeTrail(t, "bucket-trail");
      await expectError(
        t.api.updateTrail({ Name: "bucket-trail", S3BucketName: bucket }),
        "InvalidS3BucketNameException",
        message,
      );
    });

    it.each(BAD_DESTINATION_SETTINGS)("refuses %s", async (_label, settings, code, message) => {
      await makeTrail(t, "settings-trail");
      await expectError(t.api.updateTrail({ Name: "settings-trail", ...settings }), code, message);
      await expectAnswer(t.api.getTrail({ Name: "settings-trail" }), {
        Trail: describedTrail("settings-trail"),
      });
    });

    it("refuses turning off global service events on a multi-Region trail", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true });
      await expectError(
        t.api.updateTrail({ Name: "global-trail", IncludeGlobalServiceEvents: false }),
        "InvalidParameterCombinationException",
        "Multi-Region trail must include global service events.",
      );
    });

    it("refuses turning multi-Region a trail that leaves out global service events", async () => {
      await makeTrail(t, "local-trail", { IncludeGlobalServiceEvents: false });
      await expectError(
        t.api.updateTrail({ Name: "local-trail", IsMultiRegionTrail: true }),
        "InvalidParameterCombinationException",
        "Multi-Region trail must include global service events.",
      );
      const answer = await t.api.updateTrail({
        Name: "local-trail",
        IsMultiRegionTrail: true,
        IncludeGlobalServiceEvents: true,
      });
      expect(answer.IsMultiRegionTrail).toBe(true);
    });

    it("answers S3BucketDoesNotExistException for a new bucket that does not exist", async () => {
      await makeTrail(t, "moving-trail");
      await expectError(
        t.api.updateTrail({ Name: "moving-trail", S3BucketName: "missing-bucket" }),
        "S3BucketDoesNotExistException",
        "S3 bucket missing-bucket does not exist!",
      );
    });

    it("does not probe the bucket when S3BucketName is not sent", async () => {
      await makeTrail(t, "orphan-trail");
      await t.deleteBucket(BUCKET);
      const answer = await t.api.updateTrail({ Name: "orphan-trail", S3KeyPrefix: "still" });
      expect(answer.S3KeyPrefix).toBe("still");
    });

    it("checks member syntax before it looks the trail up", async () => {
      await expectError(
        t.api.updateTrail({ Name: "no-such-trail", S3BucketName: "Bad_Bucket" }),
        "InvalidS3BucketNameException",
        "Bucket name should not contain uppercase characters",
      );
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.updateTrail({ Name: arnOf("global-trail", OTHER_REGION), KmsKeyId: "bad" }),
        "InvalidKmsKeyIdException",
        "KMS key ID bad is invalid.",
      );
      await expectError(
        t.api.updateTrail({ Name: "ab", S3BucketName: "Bad_Bucket" }),
        "InvalidTrailNameException",
        /^Trail name too short/,
      );
    });

    it("looks the trail up before it probes the bucket", async () => {
      await expectError(
        t.api.updateTrail({ Name: "no-such-trail", S3BucketName: "missing-bucket" }),
        "TrailNotFoundException",
        unknownTrail(arnOf("no-such-trail")),
      );
    });
  });

  describe("functionality", () => {
    resolutionTable(t, "write", (api, Name) => api.updateTrail({ Name }));

    it("changes only the members that were sent", async () => {
      await makeTrail(t, "partial-trail", {
        S3KeyPrefix: "p",
        SnsTopicName: "trail-topic",
        KmsKeyId: "alias/k",
      });
      await t.createBucket("second-bucket");
      await t.api.updateTrail({ Name: "partial-trail", S3BucketName: "second-bucket" });
      await expectAnswer(t.api.getTrail({ Name: "partial-trail" }), {
        Trail: describedTrail("partial-trail", {
          S3BucketName: "second-bucket",
          S3KeyPrefix: "p",
          ...SNS_SET,
          KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/k`,
        }),
      });
    });

    it("clears S3KeyPrefix, SnsTopicName and KmsKeyId with empty strings", async () => {
      await makeTrail(t, "clearing-trail", {
        S3KeyPrefix: "p",
        SnsTopicName: "trail-topic",
        KmsKeyId: "alias/k",
      });
      await expectAnswer(
        t.api.updateTrail({ Name: "clearing-trail", S3KeyPrefix: "", SnsTopicName: "", KmsKeyId: "" }),
        trailResponse("clearing-trail"),
      );
      await expectAnswer(t.api.getTrail({ Name: "clearing-trail" }), {
        Trail: describedTrail("clearing-trail"),
      });
    });

    it("accepts clearing the CloudWatch Logs pair with two empty strings", async () => {
      await makeTrail(t, "no-logs-trail");
      await expectAnswer(
        t.api.updateTrail({
          Name: "no-logs-trail",
          CloudWatchLogsLogGroupArn: "",
          CloudWatchLogsRoleArn: "",
        }),
        trailResponse("no-logs-trail"),
      );
    });

    it("turns validation, global events and the organization flag on and off", async () => {
      await makeTrail(t, "flag-trail");
      await t.api.updateTrail({
        Name: "flag-trail",
        EnableLogFileValidation: true,
        IncludeGlobalServiceEvents: false,
        IsOrganizationTrail: false,
      });
      await expectAnswer(t.api.getTrail({ Name: "flag-trail" }), {
        Trail: describedTrail("flag-trail", {
          LogFileValidationEnabled: true,
          IncludeGlobalServiceEvents: false,
        }),
      });
      await t.api.updateTrail({
        Name: "flag-trail",
        EnableLogFileValidation: false,
        IncludeGlobalServiceEvents: true,
      });
      await expectAnswer(t.api.getTrail({ Name: "flag-trail" }), { Trail: describedTrail("flag-trail") });
    });

    it("adds shadows in every region when turned multi-Region, and removes them when turned back", async () => {
      await makeTrail(t, "growing-trail");
      await t.api.updateTrail({ Name: "growing-trail", IsMultiRegionTrail: true });
      const shadow = describedTrail("growing-trail", { IsMultiRegionTrail: true });
      for (const region of t.regions) {
        await expectAnswer(t.apiIn(region).describeTrails({}), { trailList: [shadow] });
      }
      await t.api.updateTrail({ Name: "growing-trail", IsMultiRegionTrail: false });
      await expectAnswer(t.apiIn(OTHER_REGION).describeTrails({}), { trailList: [] });
      await expectError(
        t.apiIn(OTHER_REGION).getTrail({ Name: arnOf("growing-trail") }),
        "TrailNotFoundException",
        unknownTrail(arnOf("growing-trail")),
      );
    });

    it("refuses turning multi-Region when another region has a trail of that name", async () => {
      await makeTrail(t, "twin-trail");
      await makeTrail(t, "twin-trail", {}, t.apiIn(THIRD_REGION));
      await expectError(
        t.api.updateTrail({ Name: "twin-trail", IsMultiRegionTrail: true }),
        "TrailAlreadyExistsException",
        alreadyExists("twin-trail"),
      );
    });

    it("refuses turning multi-Region when another region is full, naming it", async () => {
      await makeTrail(t, "growing-trail");
      for (let i = 0; i < 5; i++) await makeTrail(t, `west-${i}`, {}, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.updateTrail({ Name: "growing-trail", IsMultiRegionTrail: true }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(OTHER_REGION),
      );
      expect((await t.api.getTrail({ Name: "growing-trail" })).Trail?.IsMultiRegionTrail).toBe(false);
    });

    it("lets a trail of a full home region turn multi-Region (it counts there already)", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`);
      const answer = await t.api.updateTrail({ Name: "trail-0", IsMultiRegionTrail: true });
      expect(answer.IsMultiRegionTrail).toBe(true);
    });

    it("does not change logging state, selectors or tags", async () => {
      await makeTrail(t, "busy-trail", { TagsList: [{ Key: "team", Value: "a" }] });
      await t.api.startLogging({ Name: "busy-trail" });
      await t.api.updateTrail({ Name: "busy-trail", S3KeyPrefix: "moved", IsMultiRegionTrail: true });
      expect((await t.api.getTrailStatus({ Name: "busy-trail" })).IsLogging).toBe(true);
      await expectAnswer(t.api.getEventSelectors({ TrailName: "busy-trail" }), {
        TrailARN: arnOf("busy-trail"),
        EventSelectors: DEFAULT_EVENT_SELECTORS,
      });
      await expectAnswer(t.api.listTags({ ResourceIdList: [arnOf("busy-trail")] }), {
        ResourceTagList: [{ ResourceId: arnOf("busy-trail"), TagsList: [{ Key: "team", Value: "a" }] }],
      });
    });

    it("cannot rename: the ARN names the trail to update", async () => {
      await makeTrail(t, "fixed-name");
      const answer = await t.api.updateTrail({ Name: arnOf("fixed-name"), S3KeyPrefix: "p" });
      expect(answer.Name).toBe("fixed-name");
    });

    it("refuses a shadow even for a change that would be valid", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.updateTrail({ Name: arnOf("global-trail", OTHER_REGION), IsMultiRegionTrail: false }),
        "InvalidHomeRegionException",
        homeRegionOnly(OTHER_REGION),
      );
    });
  });
});
