import { describe, expect, it } from "vitest";
import { arnOf, BUCKET, makeTrail, trailResponse } from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget } from "./harness.ts";

// The same operations with buckets on an S3-compatible endpoint (s3rver) instead of directories.
forEachTarget(
  "CreateTrail on S3 storage",
  (t) => {
    describe("serialization", () => {
      it("answers the created trail when the bucket exists", async () => {
        await t.createBucket(BUCKET);
        await expectAnswer(
          t.api.createTrail({ Name: "s3-trail", S3BucketName: BUCKET, S3KeyPrefix: "p" }),
          trailResponse("s3-trail", { S3KeyPrefix: "p" }),
        );
      });
    });

    describe("validation", () => {
      it("answers S3BucketDoesNotExistException for a bucket the endpoint does not have", async () => {
        await expectError(
          t.api.createTrail({ Name: "lost-trail", S3BucketName: "missing-bucket" }),
          "S3BucketDoesNotExistException",
          "S3 bucket missing-bucket does not exist!",
        );
        await expectAnswer(t.api.listTrails({}), { Trails: [] });
      });

      it("checks the bucket name before asking the endpoint", async () => {
        await expectError(
          t.api.createTrail({ Name: "bad-trail", S3BucketName: "Bad_Bucket" }),
          "InvalidS3BucketNameException",
          "Bucket name should not contain uppercase characters",
        );
      });
    });

    describe("functionality", () => {
      it("probes the new bucket on UpdateTrail", async () => {
        await makeTrail(t, "moving-trail");
        await expectError(
          t.api.updateTrail({ Name: "moving-trail", S3BucketName: "missing-bucket" }),
          "S3BucketDoesNotExistException",
          "S3 bucket missing-bucket does not exist!",
        );
        await t.createBucket("second-bucket");
        const answer = await t.api.updateTrail({ Name: "moving-trail", S3BucketName: "second-bucket" });
        expect(answer.S3BucketName).toBe("second-bucket");
      });

      it("probes the trail's bucket on PutInsightSelectors", async () => {
        await makeTrail(t, "insight-trail");
        await t.deleteBucket(BUCKET);
        await expectError(
          t.api.putInsightSelectors({
            TrailName: arnOf("insight-trail"),
            InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
          }),
          "S3BucketDoesNotExistException",
          `S3 bucket ${BUCKET} does not exist!`,
        );
      });
    });
  },
  { objectStore: "s3rver" },
);
