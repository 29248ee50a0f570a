import { describe, expect, it } from "vitest";
import {
  alreadyExists,
  arnOf,
  BAD_BUCKET_NAMES,
  BAD_DESTINATION_SETTINGS,
  BAD_TAG_LISTS,
  BAD_TRAIL_NAMES,
  BUCKET,
  DEFAULT_EVENT_SELECTORS,
  describedTrail,
  EDGE_TAGS,
  GOOD_TRAIL_NAMES,
  KMS_KEY_FORMS,
  makeTrail,
  OTHER_REGION,
  TAGS_LIMIT,
  THIRD_REGION,
  tagsOf,
  tooManyTrails,
  trailResponse,
} from "./fixtures.ts";
import {
  ACCOUNT,
  expectAnswer,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  REGION,
  wrongJsonType,
} from "./harness.ts";

forEachTarget("CreateTrail", (t) => {
  describe("serialization", () => {
    it("answers the trail with its defaults, without HomeRegion or the selector flags", async () => {
      await t.createBucket(BUCKET);
      await expectAnswer(
        t.api.createTrail({ Name: "plain-trail", S3BucketName: BUCKET }),
        trailResponse("plain-trail"),
      );
    });

    it("echoes every optional member that was set", async () => {
      await t.createBucket(BUCKET);
      await expectAnswer(
        t.api.createTrail({
          Name: "full-trail",
          S3BucketName: BUCKET,
          S3KeyPrefix: "logs/prefix",
          SnsTopicName: "trail-topic",
          IncludeGlobalServiceEvents: true,
          IsMultiRegionTrail: true,
          EnableLogFileValidation: true,
          KmsKeyId: "alias/trail-key",
          IsOrganizationTrail: false,
        }),
        trailResponse("full-trail", {
          S3KeyPrefix: "logs/prefix",
          SnsTopicName: "trail-topic",
          SnsTopicARN: `arn:aws:sns:${REGION}:${ACCOUNT}:trail-topic`,
          IsMultiRegionTrail: true,
          LogFileValidationEnabled: true,
          KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/trail-key`,
        }),
      );
    });

    it("takes an SNS topic ARN and answers both the topic name and the ARN", async () => {
      const topicArn = `arn:aws:sns:${OTHER_REGION}:${ACCOUNT}:elsewhere-topic`;
      const answer = await makeTrail(t, "sns-trail", { SnsTopicName: topicArn });
      expect({ name: answer.SnsTopicName, arn: answer.SnsTopicARN }).toEqual({
        name: "elsewhere-topic",
        arn: topicArn,
      });
    });

    it.each(KMS_KEY_FORMS)("keeps KmsKeyId %j as %j", async (given, kept) => {
      const answer = await makeTrail(t, "kms-trail", { KmsKeyId: given });
      expect(answer.KmsKeyId).toBe(kept);
    });

    it("treats an empty S3KeyPrefix, SnsTopicName and KmsKeyId as not set", async () => {
      await t.createBucket(BUCKET);
      await expectAnswer(
        t.api.createTrail({
          Name: "empty-trail",
          S3BucketName: BUCKET,
          S3KeyPrefix: "",
          SnsTopicName: "",
          KmsKeyId: "",
        }),
        trailResponse("empty-trail"),
      );
    });

    wrongJsonType(
      t,
      "a string where a boolean belongs",
      (api) =>
        api.createTrail({
          Name: "typed-trail",
          S3BucketName: BUCKET,
          IsMultiRegionTrail: "yes" as unknown as boolean,
        }),
      "Unexpected token received from parser",
    );

    wrongJsonType(
      t,
      "a number where a string belongs",
      (api) => api.createTrail({ Name: 42 as unknown as string, S3BucketName: BUCKET }),
      "NUMBER_VALUE cannot be converted to String",
    );
  });

  describe("validation", () => {
    it("refuses a missing Name as blank", async () => {
      await expectError(
        t.api.createTrail({ S3BucketName: BUCKET } as never),
        "InvalidTrailNameException",
        "Trail name cannot be blank!",
      );
    });

    it.each(BAD_TRAIL_NAMES)("refuses the name %j", async (name, message) => {
      await t.createBucket(BUCKET);
      await expectError(
        t.api.createTrail({ Name: name, S3BucketName: BUCKET }),
        "InvalidTrailNameException",
        message,
      );
    });

    it("refuses an ARN as the name of a new trail", async () => {
      await t.createBucket(BUCKET);
      await expectError(
        t.api.createTrail({ Name: arnOf("arn-trail"), S3BucketName: BUCKET }),
        "InvalidTrailNameException",
        "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
      );
    });

    it.each(GOOD_TRAIL_NAMES)("accepts the name %j", async (name) => {
      const answer = await makeTrail(t, name);
      expect(answer.Name).toBe(name);
    });

    it("refuses a missing S3BucketName", async () => {
      await expectError(
        t.api.createTrail({ Name: "no-bucket" } as never),
        "InvalidS3BucketNameException",
        "Bucket name cannot be null",
      );
    });

    it.each(BAD_BUCKET_NAMES)("refuses the bucket name %j", async (bucket, message) => {
      await expectError(
        t.api.createTrail({ Name: "bad-bucket", S3BucketName: bucket }),
        "InvalidS3BucketNameException",
        message,
      );
    });

    it("accepts bucket names at the length limits", async () => {
      await makeTrail(t, "short-bucket", { S3BucketName: "b-1" });
      await makeTrail(t, "long-bucket", { S3BucketName: `a.${"b".repeat(61)}` });
    });

    it("accepts an S3KeyPrefix of 200 characters", async () => {
      const answer = await makeTrail(t, "prefix-trail", { S3KeyPrefix: "p".repeat(200) });
      expect(answer.S3KeyPrefix).toHaveLength(200);
    });

    it.each(BAD_DESTINATION_SETTINGS)("refuses %s", async (_label, settings, code, message) => {
      await t.createBucket(BUCKET);
      await expectError(
        t.api.createTrail({ Name: "bad-settings", S3BucketName: BUCKET, ...settings }),
        code,
        message,
      );
    });

    it.each(BAD_TAG_LISTS)("refuses %s in TagsList", async (_label, TagsList, message) => {
      await t.createBucket(BUCKET);
      await expectError(
        t.api.createTrail({ Name: "bad-tags", S3BucketName: BUCKET, TagsList }),
        "InvalidTagParameterException",
        message,
      );
    });

    it("refuses more than 50 tags", async () => {
      await t.createBucket(BUCKET);
      await expectError(
        t.api.createTrail({ Name: "many-tags", S3BucketName: BUCKET, TagsList: tagsOf(51) }),
        "TagsLimitExceededException",
        TAGS_LIMIT,
      );
    });

    it("answers S3BucketDoesNotExistException for a bucket that does not exist", async () => {
      await expectError(
        t.api.createTrail({ Name: "lost-trail", S3BucketName: "missing-bucket" }),
        "S3BucketDoesNotExistException",
        "S3 bucket missing-bucket does not exist!",
      );
      await expectError(t.api.getTrail({ Name: "lost-trail" }), "TrailNotFoundException", /^Unknown trail/);
    });

    it("checks the name before the bucket and the bucket name before its existence", async () => {
      await expectError(
        t.api.createTrail({ Name: "ab", S3BucketName: "Bad_Bucket" }),
        "InvalidTrailNameException",
        /^Trail name too short/,
      );
      await expectError(
        t.api.createTrail({ Name: "abc", S3BucketName: "Bad_Bucket" }),
        "InvalidS3BucketNameException",
        "Bucket name should not contain uppercase characters",
      );
    });

    it("checks syntax before the name is found taken, and that before the quota and the bucket", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `full-${i}`);
      await expectError(
        t.api.createTrail({ Name: "full-0", S3BucketName: BUCKET, KmsKeyId: "bad" }),
        "InvalidKmsKeyIdException",
        "KMS key ID bad is invalid.",
      );
      await expectError(
        t.api.createTrail({ Name: "full-0", S3BucketName: "missing-bucket" }),
        "TrailAlreadyExistsException",
        alreadyExists("full-0"),
      );
      await expectError(
        t.api.createTrail({ Name: "full-5", S3BucketName: "missing-bucket" }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(REGION),
      );
    });
  });

  describe("functionality", () => {
    it("creates the trail in the current region with logging off and the default selectors", async () => {
      await makeTrail(t, "new-trail", {}, t.apiIn(OTHER_REGION));
      const west = t.apiIn(OTHER_REGION);
      await expectAnswer(west.getTrail({ Name: "new-trail" }), {
        Trail: describedTrail("new-trail", {}, OTHER_REGION),
      });
      expect((await west.getTrailStatus({ Name: "new-trail" })).IsLogging).toBe(false);
      await expectAnswer(west.getEventSelectors({ TrailName: "new-trail" }), {
        TrailARN: arnOf("new-trail", OTHER_REGION),
        EventSelectors: DEFAULT_EVENT_SELECTORS,
      });
      await expectError(
        west.getInsightSelectors({ TrailName: "new-trail" }),
        "InsightNotEnabledException",
        "Trail new-trail does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.",
      );
      await expectAnswer(t.api.describeTrails({ includeShadowTrails: true }), { trailList: [] });
    });

    it("stores TagsList, tags without a value included", async () => {
      await makeTrail(t, "tagged-trail", { TagsList: EDGE_TAGS });
      await expectAnswer(t.api.listTags({ ResourceIdList: [arnOf("tagged-trail")] }), {
        ResourceTagList: [{ ResourceId: arnOf("tagged-trail"), TagsList: EDGE_TAGS }],
      });
    });

    it("accepts exactly 50 tags", async () => {
      await makeTrail(t, "fifty-tags", { TagsList: tagsOf(50) });
      const { ResourceTagList } = await t.api.listTags({ ResourceIdList: [arnOf("fifty-tags")] });
      expect(ResourceTagList?.[0]?.TagsList).toHaveLength(50);
    });

    it("answers TrailAlreadyExistsException for a name taken in the region", async () => {
      await makeTrail(t, "taken-trail");
      await expectError(
        t.api.createTrail({ Name: "taken-trail", S3BucketName: BUCKET, IsMultiRegionTrail: true }),
        "TrailAlreadyExistsException",
        alreadyExists("taken-trail"),
      );
    });

    it("compares names case-sensitively", async () => {
      await makeTrail(t, "Case-Trail");
      await makeTrail(t, "case-trail");
      const { trailList } = await t.api.describeTrails({});
      expect(trailList?.map((x) => x.Name)).toEqual(["Case-Trail", "case-trail"]);
    });

    it("lets single-Region trails of different regions share a name", async () => {
      await makeTrail(t, "twin-trail");
      await makeTrail(t, "twin-trail", {}, t.apiIn(OTHER_REGION));
      const { Trails } = await t.api.listTrails({});
      expect(Trails?.map((x) => x.TrailARN)).toEqual([
        arnOf("twin-trail"),
        arnOf("twin-trail", OTHER_REGION),
      ]);
    });

    it("refuses the name of a shadow visible in the region", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.createTrail({ Name: "global-trail", S3BucketName: BUCKET }),
        "TrailAlreadyExistsException",
        alreadyExists("global-trail"),
      );
    });

    it("refuses a multi-Region trail whose name any region already uses", async () => {
      await makeTrail(t, "west-trail", {}, t.apiIn(OTHER_REGION));
      await expectError(
        t.api.createTrail({ Name: "west-trail", S3BucketName: BUCKET, IsMultiRegionTrail: true }),
        "TrailAlreadyExistsException",
        alreadyExists("west-trail"),
      );
    });

    it("puts a multi-Region trail in every served region, homed where it was created", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true });
      const expected = describedTrail("global-trail", { IsMultiRegionTrail: true });
      expect(t.regions.length).toBeGreaterThan(2);
      for (const region of t.regions) {
        await expectAnswer(t.apiIn(region).describeTrails({}), { trailList: [expected] });
      }
    });

    it("allows 5 trails per region and answers MaximumNumberOfTrailsExceededException for the sixth", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`);
      await expectError(
        t.api.createTrail({ Name: "trail-5", S3BucketName: BUCKET }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(REGION),
      );
      await makeTrail(t, "trail-5", {}, t.apiIn(OTHER_REGION));
    });

    it("counts shadows of multi-Region trails homed elsewhere", async () => {
      await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
      for (let i = 0; i < 4; i++) await makeTrail(t, `trail-${i}`);
      await expectError(
        t.api.createTrail({ Name: "trail-4", S3BucketName: BUCKET }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(REGION),
      );
    });

    it("refuses a multi-Region trail when any region is full, naming that region", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`, {}, t.apiIn(THIRD_REGION));
      await expectError(
        t.api.createTrail({ Name: "global-trail", S3BucketName: BUCKET, IsMultiRegionTrail: true }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(THIRD_REGION),
      );
      await makeTrail(t, "local-trail");
    });

    it("counts trails per account", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`);
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`, {}, t.apiAs(OTHER_ACCOUNT));
      await expectError(
        t.apiAs(OTHER_ACCOUNT).createTrail({ Name: "trail-5", S3BucketName: BUCKET }),
        "MaximumNumberOfTrailsExceededException",
        tooManyTrails(REGION, OTHER_ACCOUNT),
      );
    });

    it("frees a place when a trail is deleted", async () => {
      for (let i = 0; i < 5; i++) await makeTrail(t, `trail-${i}`);
      await t.api.deleteTrail({ Name: "trail-0" });
      await makeTrail(t, "trail-5");
    });

    it("lets exactly one of two concurrent creations of a name win", async () => {
      await t.createBucket(BUCKET);
      const results = await Promise.allSettled([
        t.api.createTrail({ Name: "racing-trail", S3BucketName: BUCKET }),
        t.api.createTrail({ Name: "racing-trail", S3BucketName: BUCKET }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
      const loser = results.find((r) => r.status === "rejected");
      await expectError(
        Promise.reject(loser?.reason),
        "TrailAlreadyExistsException",
        alreadyExists("racing-trail"),
      );
    });

    it("keeps the quota under concurrent creations", async () => {
      for (let i = 0; i < 3; i++) await makeTrail(t, `trail-${i}`);
      const results = await Promise.allSettled(
        [3, 4, 5, 6].map((i) => t.api.createTrail({ Name: `trail-${i}`, S3BucketName: BUCKET })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
      const { trailList } = await t.api.describeTrails({});
      expect(trailList).toHaveLength(5);
    });

    it("keeps accounts apart: the same name in another account is another trail", async () => {
      await makeTrail(t, "shared-name", { S3KeyPrefix: "a" });
      await makeTrail(t, "shared-name", { S3KeyPrefix: "b" }, t.apiAs(OTHER_ACCOUNT));
      await expectAnswer(t.api.describeTrails({}), {
        trailList: [describedTrail("shared-name", { S3KeyPrefix: "a" })],
      });
      await expectAnswer(t.apiAs(OTHER_ACCOUNT).describeTrails({}), {
        trailList: [describedTrail("shared-name", { S3KeyPrefix: "b" }, REGION, OTHER_ACCOUNT)],
      });
    });
  });
});
