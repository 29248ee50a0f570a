import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors.ts";
import {
  checkRoomForTrail,
  DEFAULT_EVENT_SELECTORS,
  MAX_TRAILS_PER_REGION,
  type Trail,
} from "../../src/domain/trail.ts";

const ACCOUNT = "111122223333";
const REGIONS = ["us-east-1", "us-west-2", "eu-west-1"] as const;

const error = (code: ErrorCode, message: string) => expect.objectContaining({ name: code, code, message });

function stored(name: string, homeRegion: string, isMultiRegionTrail = false): Trail {
  return {
    accountId: ACCOUNT,
    homeRegion,
    name,
    arn: `arn:aws:cloudtrail:${homeRegion}:${ACCOUNT}:trail/${name}`,
    s3BucketName: "bucket",
    includeGlobalServiceEvents: true,
    isMultiRegionTrail,
    logFileValidationEnabled: false,
    isOrganizationTrail: false,
    hasCustomEventSelectors: false,
    eventSelectors: DEFAULT_EVENT_SELECTORS,
    insightSelectors: [],
    tags: [],
    isLogging: false,
    createdAt: new Date(0),
    version: 1,
  };
}

const candidate = (name: string, homeRegion: string, isMultiRegionTrail = false) => ({
  accountId: ACCOUNT,
  homeRegion,
  name,
  isMultiRegionTrail,
});

const check = (others: Trail[], c: ReturnType<typeof candidate>) => () =>
  checkRoomForTrail(others, c, REGIONS);

describe("checkRoomForTrail", () => {
  it("lets a name be reused in a region where the other trail is not visible", () => {
    expect(check([stored("a", "us-west-2")], candidate("a", "us-east-1"))).not.toThrow();
  });

  it("refuses a name already visible in the home region, shadows included", () => {
    const exists = error("TrailAlreadyExistsException", `Trail a already exists for customer: ${ACCOUNT}`);
    expect(check([stored("a", "us-east-1")], candidate("a", "us-east-1"))).toThrow(exists);
    expect(check([stored("a", "us-west-2", true)], candidate("a", "us-east-1"))).toThrow(exists);
  });

  it("refuses a multi-Region trail whose name is used in any region", () => {
    expect(check([stored("a", "eu-west-1")], candidate("a", "us-east-1", true))).toThrow(
      error("TrailAlreadyExistsException", `Trail a already exists for customer: ${ACCOUNT}`),
    );
  });

  it("counts home trails and shadows against the quota of the home region", () => {
    const full = [
      ...Array.from({ length: MAX_TRAILS_PER_REGION - 1 }, (_, i) => stored(`t${i}`, "us-east-1")),
      stored("shadow", "eu-west-1", true),
    ];
    expect(check(full, candidate("new", "us-east-1"))).toThrow(
      error("MaximumNumberOfTrailsExceededException", `User: ${ACCOUNT} already has 5 trails in us-east-1.`),
    );
    expect(check(full.slice(1), candidate("new", "us-east-1"))).not.toThrow();
  });

  it("checks every region for a multi-Region trail, naming the first full one", () => {
    const full = Array.from({ length: MAX_TRAILS_PER_REGION }, (_, i) => stored(`t${i}`, "us-west-2"));
    expect(check(full, candidate("new", "us-east-1"))).not.toThrow();
    expect(check(full, candidate("new", "us-east-1", true))).toThrow(
      error("MaximumNumberOfTrailsExceededException", `User: ${ACCOUNT} already has 5 trails in us-west-2.`),
    );
  });

  it("answers a clashing name before a full region", () => {
    const full = Array.from({ length: MAX_TRAILS_PER_REGION }, (_, i) => stored(`t${i}`, "us-east-1"));
    expect(check(full, candidate("t0", "us-east-1"))).toThrow(
      error("TrailAlreadyExistsException", `Trail t0 already exists for customer: ${ACCOUNT}`),
    );
  });
});
