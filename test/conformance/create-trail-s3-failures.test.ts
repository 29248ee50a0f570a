import { describe, it } from "vitest";
import { BUCKET } from "./fixtures.ts";
import { expectAnswer, expectError, forEachTarget } from "./harness.ts";

// An S3 endpoint nobody listens on: the service says so instead of pretending the bucket is missing.
forEachTarget(
  "CreateTrail with an unreachable object store",
  (t) => {
    describe("serialization", () => {
      it("answers a server fault (503 on the wire)", async () => {
        await expectError(
          t.api.createTrail({ Name: "stranded-trail", S3BucketName: BUCKET }),
          "ServiceUnavailable",
          `The object store holding bucket ${BUCKET} cannot be reached; try again later.`,
        );
      });
    });

    describe("validation", () => {
      it("still answers syntax errors without the endpoint", async () => {
        await expectError(
          t.api.createTrail({ Name: "stranded-trail", S3BucketName: "x" }),
          "InvalidS3BucketNameException",
          "Bucket name should be between 3 and 63 characters long",
        );
      });
    });

    describe("functionality", () => {
      it("creates nothing", async () => {
        await expectError(
          t.api.createTrail({ Name: "stranded-trail", S3BucketName: BUCKET }),
          "ServiceUnavailable",
          /cannot be reached/,
        );
        await expectAnswer(t.api.listTrails({}), { Trails: [] });
      });
    });
  },
  { objectStore: "unreachable" },
);

// An S3 endpoint that answers 403: the bucket's policy shuts the service out.
forEachTarget(
  "CreateTrail with an object store that refuses access",
  (t) => {
    describe("serialization", () => {
      it("answers a client fault", async () => {
        await expectError(
          t.api.createTrail({ Name: "refused-trail", S3BucketName: BUCKET }),
          "InsufficientS3BucketPolicyException",
          `Incorrect S3 bucket policy is detected for bucket: ${BUCKET}`,
        );
      });
    });

    describe("validation", () => {
      it("answers name errors before asking the endpoint", async () => {
        await expectError(
          t.api.createTrail({ Name: "refused--trail", S3BucketName: BUCKET }),
          "InvalidTrailNameException",
          "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
        );
      });
    });

    describe("functionality", () => {
      it("creates nothing", async () => {
        await expectError(
          t.api.createTrail({ Name: "refused-trail", S3BucketName: BUCKET, IsMultiRegionTrail: true }),
          "InsufficientS3BucketPolicyException",
          /^Incorrect S3 bucket policy/,
        );
        await expectAnswer(t.api.listTrails({}), { Trails: [] });
      });
    });
  },
  { objectStore: "forbidding" },
);
