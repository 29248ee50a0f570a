import { describe, expect, it } from "vitest";
import type { ErrorCode } from "../../src/api/errors.ts";
import {
  normalizeKmsKeyId,
  normalizeSnsTopic,
  parseTagResourceArn,
  parseTrailRef,
  partitionOf,
  trailArn,
  validateBucketName,
  validateCloudWatchLogs,
  validateS3KeyPrefix,
  validateTrailName,
} from "../../src/domain/names.ts";

const ACCT = "123456789012";
const OTHER_ACCT = "210987654321";

/** Matches a thrown CloudTrailError by code and exact message. */
const error = (code: ErrorCode, message: string) => expect.objectContaining({ name: code, code, message });

const MSG = {
  blank: "Trail name cannot be blank!",
  ip: "Trail names must not be formatted as an IP address.",
  short: (n: number) =>
    `Trail name too short. Minimum allowed length: 3 characters. Specified name length: ${n} characters.`,
  long: (n: number) =>
    `Trail name too long. Maximum allowed length: 128 characters. Specified name length: ${n} characters.`,
  chars:
    "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
  start: "Trail name must starts with a letter or number.",
  end: "Trail name must ends with a letter or number.",
  adjacent: "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
};

describe("partitionOf", () => {
  it.each([
    ["us-east-1", "aws"],
    ["eu-west-3", "aws"],
    ["ap-southeast-2", "aws"],
    ["cn-north-1", "aws-cn"],
    ["cn-northwest-1", "aws-cn"],
    ["us-gov-west-1", "aws-us-gov"],
    ["us-gov-east-1", "aws-us-gov"],
  ])("%s → %s", (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });
});

describe("trailArn", () => {
  it.each([
    ["us-east-1", "arn:aws:cloudtrail:us-east-1:123456789012:trail/MyTrail"],
    ["cn-north-1", "arn:aws-cn:cloudtrail:cn-north-1:123456789012:trail/MyTrail"],
    ["us-gov-west-1", "arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/MyTrail"],
  ])("in %s", (region, arn) => {
    expect(trailArn(region, ACCT, "MyTrail")).toBe(arn);
  });
});

describe("validateTrailName", () => {
  it.each([
    "abc",
    "a".repeat(128),
    "My_Trail-1.x",
    "A1b",
    "123",
    "1.2.3",
    "1.2.3.4.5",
    "1234.1.1.1",
    "a.b.c.d",
    "a-b_c.d",
  ])("accepts %s", (name) => {
    expect(validateTrailName(name)).toBe(name);
  });

  it.each<[string | undefined, string, string]>([
    [undefined, "missing", MSG.blank],
    ["", "empty", MSG.blank],
    ["192.168.5.4", "an IP address", MSG.ip],
    ["1.2.3.4", "a short IP address", MSG.ip],
    ["999.999.999.999", "an IP-shaped name out of range", MSG.ip],
    ["a", "1 character", MSG.short(1)],
    ["ab", "2 characters", MSG.short(2)],
    ["-a", "too short before a bad first character", MSG.short(2)],
    ["a".repeat(129), "129 characters", MSG.long(129)],
    [`${"a".repeat(129)}!`, "too long before a bad character", MSG.long(130)],
    ["my trail", "a space", MSG.chars],
    ["my#trail", "a #", MSG.chars],
    ["my/trail", "a slash", MSG.chars],
    ["tráil", "a non-ASCII letter", MSG.chars],
    ["my!trail", "a ! inside", MSG.chars],
    [
      "trail!",
      "a bad last character (the last-character rule comes before the characters, as on AWS)",
      MSG.end,
    ],
    ["!trail", "a bad first character", MSG.start],
    ["-trail!", "bad first and last characters, one of them outside the set", MSG.start],
    [`${"a".repeat(127)}!`, "a bad last character at 128 characters", MSG.end],
    ["ab..!", "a bad last character and adjacent periods", MSG.end],
    ["a#..b", "a bad character and adjacent periods", MSG.chars],
    ["1.2.3.4#", "an IP address with a bad last character", MSG.end],
    ["-trail", "a leading hyphen", MSG.start],
    [".trail", "a leading period", MSG.start],
    ["_trail", "a leading underscore", MSG.start],
    ["-a-", "bad first and last characters", MSG.start],
    ["trail-", "a trailing hyphen", MSG.end],
    ["trail.", "a trailing period", MSG.end],
    ["trail_", "a trailing underscore", MSG.end],
    ["a--_", "a bad last character and adjacent separators", MSG.end],
    ["my-_namespace", "-_", MSG.adjacent],
    ["my--namespace", "--", MSG.adjacent],
    ["a..b", "..", MSG.adjacent],
    ["a_.b", "_.", MSG.adjacent],
    ["a__b", "__", MSG.adjacent],
    ["a.-b", ".-", MSG.adjacent],
  ])("rejects %j (%s)", (name, _why, message) => {
    expect(() => validateTrailName(name)).toThrow(error("InvalidTrailNameException", message));
  });
});

describe("parseTrailRef", () => {
  it("takes a non-ARN value as a name", () => {
    expect(parseTrailRef("MyTrail")).toEqual({ kind: "name", name: "MyTrail" });
    expect(parseTrailRef("arnold")).toEqual({ kind: "name", name: "arnold" });
  });

  it.each([
    ["us-east-1", "aws"],
    ["cn-north-1", "aws-cn"],
    ["us-gov-west-1", "aws-us-gov"],
  ])("splits a trail ARN of %s", (region, partition) => {
    const arn = `arn:${partition}:cloudtrail:${region}:${ACCT}:trail/My.Trail-1`;
    expect(parseTrailRef(arn)).toEqual({
      kind: "arn",
      arn,
      partition,
      region,
      accountId: ACCT,
      name: "My.Trail-1",
    });
  });

  it.each<[string | undefined, string]>([
    [undefined, MSG.blank],
    ["", MSG.blank],
    ["ab", MSG.short(2)],
    ["ARN:aws:cloudtrail:us-east-1:123456789012:trail/t1x", MSG.chars],
  ])("checks a non-ARN value %j as a trail name", (value, message) => {
    expect(() => parseTrailRef(value)).toThrow(error("InvalidTrailNameException", message));
  });

  it.each([
    ["arn:", "nothing after the prefix"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:trail/`, "an empty name"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:trail`, "no resource separator"],
    ["arn:aws:cloudtrail:us-east-1:12345678901:trail/MyTrail", "an 11-digit account"],
    ["arn:aws:cloudtrail:us-east-1:1234567890123:trail/MyTrail", "a 13-digit account"],
    [`arn:aws:cloudtrail::${ACCT}:trail/MyTrail`, "no region"],
    [`arn:aws:cloudtrail:US-EAST-1:${ACCT}:trail/MyTrail`, "an upper-case region"],
    [`arn:foo:cloudtrail:us-east-1:${ACCT}:trail/MyTrail`, "an unknown partition"],
    [`arn:aws-cn:cloudtrail:us-east-1:${ACCT}:trail/MyTrail`, "a partition that does not own the region"],
    [`arn:aws:cloudtrail:cn-north-1:${ACCT}:trail/MyTrail`, "a China region in the aws partition"],
    [`arn:aws:s3:::my-bucket`, "another service"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:eventdatastore/EXAMPLE-f852`, "an event data store"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:channel/01234567890`, "a channel"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:dashboard/exampleDash`, "a dashboard"],
    [`arn:aws:cloudtrail:us-east-1:${ACCT}:widget/x`, "an unknown resource type"],
  ])("rejects %s (%s) as an invalid ARN", (value) => {
    expect(() => parseTrailRef(value)).toThrow(
      error("CloudTrailARNInvalidException", `Invalid trail ARN: ${value}`),
    );
  });

  it.each([
    ["ab", MSG.short(2)],
    ["a".repeat(129), MSG.long(129)],
    ["192.168.5.4", MSG.ip],
    ["my trail", MSG.chars],
    ["a/b", MSG.chars],
    ["-trail", MSG.start],
    ["trail-", MSG.end],
    ["my--trail", MSG.adjacent],
  ])("applies the name rules to the name in a well-formed ARN: %s", (name, message) => {
    expect(() => parseTrailRef(`arn:aws:cloudtrail:us-east-1:${ACCT}:trail/${name}`)).toThrow(
      error("InvalidTrailNameException", message),
    );
  });
});

describe("parseTagResourceArn", () => {
  const arn = `arn:aws:cloudtrail:us-east-1:${ACCT}:trail/MyTrail`;
  const wrongRegion = "Region in ARN is wrong, you can only access resources in region us-east-1.";
  const wrongAccount = `AccountID in ARN is wrong, you can only access resources with AccountID ${ACCT}.`;

  it("returns the parts of a trail ARN of the current region", () => {
    const expected = { arn, region: "us-east-1", accountId: ACCT, name: "MyTrail" };
    expect(parseTagResourceArn(arn, "us-east-1")).toEqual(expected);
    expect(parseTagResourceArn(arn, "us-east-1", ACCT)).toEqual(expected);
  });

  it("does not check the account unless one is given", () => {
    const other = `arn:aws:cloudtrail:us-east-1:${OTHER_ACCT}:trail/MyTrail`;
    expect(parseTagResourceArn(other, "us-east-1").accountId).toBe(OTHER_ACCT);
  });

  it.each<[string | undefined, string]>([
    [undefined, "Invalid trail ARN: "],
    ["", "Invalid trail ARN: "],
    ["MyTrail", "Invalid trail ARN: MyTrail"],
    ["arn:aws:s3:::my-bucket", "Invalid trail ARN: arn:aws:s3:::my-bucket"],
    [
      `arn:aws:cloudtrail:us-east-1:${ACCT}:trail/`,
      `Invalid trail ARN: arn:aws:cloudtrail:us-east-1:${ACCT}:trail/`,
    ],
    [
      `arn:aws:cloudtrail:us-east-1:${ACCT}:widget/x`,
      `Invalid trail ARN: arn:aws:cloudtrail:us-east-1:${ACCT}:widget/x`,
    ],
  ])("rejects %j as an invalid ARN", (value, message) => {
    expect(() => parseTagResourceArn(value, "us-east-1")).toThrow(
      error("CloudTrailARNInvalidException", message),
    );
  });

  it.each([
    ["eventdatastore", "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"],
    ["channel", "01234567890"],
    ["dashboard", "exampleDash"],
  ])("answers ResourceTypeNotSupportedException for a %s ARN", (type, id) => {
    const value = `arn:aws:cloudtrail:us-east-1:${ACCT}:${type}/${id}`;
    expect(() => parseTagResourceArn(value, "us-east-1")).toThrow(
      error("ResourceTypeNotSupportedException", `Resource type ${type} is not supported: ${value}`),
    );
  });

  it("applies the name rules to the trail name", () => {
    expect(() => parseTagResourceArn(`arn:aws:cloudtrail:us-east-1:${ACCT}:trail/a..b`, "us-east-1")).toThrow(
      error("InvalidTrailNameException", MSG.adjacent),
    );
  });

  it("refuses an ARN of another region with the message AWS gives", () => {
    const value = `arn:aws:cloudtrail:eu-west-1:${ACCT}:trail/MyTrail`;
    expect(() => parseTagResourceArn(value, "us-east-1")).toThrow(
      error("CloudTrailARNInvalidException", wrongRegion),
    );
  });

  it("refuses an ARN of another account with the message AWS gives", () => {
    const value = `arn:aws:cloudtrail:us-east-1:${OTHER_ACCT}:trail/MyTrail`;
    expect(() => parseTagResourceArn(value, "us-east-1", ACCT)).toThrow(
      error("CloudTrailARNInvalidException", wrongAccount),
    );
  });

  it("reports the region before the account", () => {
    const value = `arn:aws:cloudtrail:eu-west-1:${OTHER_ACCT}:trail/MyTrail`;
    expect(() => parseTagResourceArn(value, "us-east-1", ACCT)).toThrow(
      error("CloudTrailARNInvalidException", wrongRegion),
    );
  });
});

describe("validateBucketName", () => {
  it.each(["abc", "a".repeat(63), "my-bucket.logs", "1bucket", "a.b-c", "123", "1.2.3", "a1-b2.c3"])(
    "accepts %s",
    (name) => {
      expect(validateBucketName(name)).toBe(name);
    },
  );

  it.each<[string | undefined, string]>([
    [undefined, "Bucket name cannot be null"],
    ["", "Bucket name should be between 3 and 63 characters long"],
    ["ab", "Bucket name should be between 3 and 63 characters long"],
    ["a".repeat(64), "Bucket name should be between 3 and 63 characters long"],
    ["A".repeat(64), "Bucket name should be between 3 and 63 characters long"],
    ["192.168.5.4", "Bucket name must not be formatted as an IP Address"],
    ["9999.1.1.1", "Bucket name must not be formatted as an IP Address"],
    ["MyBucket", "Bucket name should not contain uppercase characters"],
    ["AB_", "Bucket name should not contain uppercase characters"],
    ["my bucket", "Bucket name should not contain white space"],
    ["my\tbucket", "Bucket name should not contain white space"],
    [".bucket", "Bucket name should not begin with a period"],
    ["my..bucket", "Bucket name should not contain two adjacent periods"],
    ["my-.bucket", "Bucket name should not contain dashes next to periods"],
    ["my.-bucket", "Bucket name should not contain dashes next to periods"],
    ["-bucket", "Bucket name should not begin with a '-'"],
    ["my_bucket", "Bucket name should not contain '_'"],
    ["a_B", "Bucket name should not contain '_'"],
    ["my#bucket", "Bucket name should not contain '#'"],
    ["bücket", "Bucket name should not contain 'ü'"],
    ["bucket-", "Bucket name should not end with '-' or '.'"],
    ["bucket.", "Bucket name should not end with '-' or '.'"],
  ])("rejects %j", (name, message) => {
    expect(() => validateBucketName(name)).toThrow(error("InvalidS3BucketNameException", message));
  });
});

describe("validateS3KeyPrefix", () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ["", undefined],
    ["logs", "logs"],
    ["a/b/c", "a/b/c"],
    ["a".repeat(200), "a".repeat(200)],
  ])("%j → %j", (input, output) => {
    expect(validateS3KeyPrefix(input)).toBe(output);
  });

  it("rejects 201 characters", () => {
    expect(() => validateS3KeyPrefix("a".repeat(201))).toThrow(
      error("InvalidS3PrefixException", "S3 prefix length exceeds 200 characters."),
    );
  });
});

describe("normalizeSnsTopic", () => {
  it.each([undefined, ""])("treats %j as no topic", (v) => {
    expect(normalizeSnsTopic(v, "us-east-1", ACCT)).toBeUndefined();
  });

  it.each([
    ["my-topic_1", "us-east-1", "arn:aws:sns:us-east-1:123456789012:my-topic_1"],
    ["t", "cn-north-1", "arn:aws-cn:sns:cn-north-1:123456789012:t"],
    ["a".repeat(256), "us-gov-west-1", `arn:aws-us-gov:sns:us-gov-west-1:123456789012:${"a".repeat(256)}`],
  ])("builds the ARN of topic name %s in %s", (name, region, arn) => {
    expect(normalizeSnsTopic(name, region, ACCT)).toEqual({ name, arn });
  });

  it("keeps a topic ARN and takes the name from it", () => {
    const arn = `arn:aws:sns:us-west-2:${OTHER_ACCT}:other-topic`;
    expect(normalizeSnsTopic(arn, "us-east-1", ACCT)).toEqual({ name: "other-topic", arn });
  });

  it.each([
    ["a".repeat(257), "a 257-character name"],
    [`arn:aws:sns:us-east-1:${ACCT}:${"a".repeat(240)}`, "an ARN longer than 256 characters"],
    ["my topic", "a space"],
    ["topic.fifo", "a period"],
    ["arn:aws:sns:us-east-1:123:topic", "a short account"],
    [`arn:aws:sqs:us-east-1:${ACCT}:queue`, "another service"],
    [`arn:aws:sns:us-east-1:${ACCT}:`, "an ARN without a name"],
  ])("rejects %s (%s)", (v) => {
    expect(() => normalizeSnsTopic(v, "us-east-1", ACCT)).toThrow(
      error("InvalidSnsTopicNameException", `SNS topic name ${v} is invalid.`),
    );
  });
});

describe("normalizeKmsKeyId", () => {
  const uuid = "1234abcd-12ab-34cd-56ef-1234567890ab";
  const mrk = "mrk-1234abcd12ab34cd56ef1234567890ab";

  it.each([undefined, ""])("treats %j as no key", (v) => {
    expect(normalizeKmsKeyId(v, "us-east-1", ACCT)).toBeUndefined();
  });

  it.each([
    [uuid, "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:key/${uuid}`],
    [uuid.toUpperCase(), "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:key/${uuid.toUpperCase()}`],
    [mrk, "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:key/${mrk}`],
    [uuid, "cn-north-1", `arn:aws-cn:kms:cn-north-1:${ACCT}:key/${uuid}`],
    ["alias/my-key", "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:alias/my-key`],
    [
      "alias/team/trail_key",
      "us-gov-west-1",
      `arn:aws-us-gov:kms:us-gov-west-1:${ACCT}:alias/team/trail_key`,
    ],
    [
      `arn:aws:kms:us-west-2:${OTHER_ACCT}:key/${uuid}`,
      "us-east-1",
      `arn:aws:kms:us-west-2:${OTHER_ACCT}:key/${uuid}`,
    ],
    [`arn:aws:kms:us-east-1:${ACCT}:key/${mrk}`, "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:key/${mrk}`],
    [`arn:aws:kms:us-east-1:${ACCT}:alias/my-key`, "us-east-1", `arn:aws:kms:us-east-1:${ACCT}:alias/my-key`],
  ])("%s in %s → %s", (v, region, arn) => {
    expect(normalizeKmsKeyId(v, region, ACCT)).toBe(arn);
  });

  it.each([
    "not-a-key",
    "1234",
    "1234abcd-12ab-34cd-56ef-1234567890a",
    "mrk-1234",
    "alias/",
    "alias/bad key",
    `key/${uuid}`,
    `arn:aws:kms:us-east-1:${ACCT}:key/not-a-uuid`,
    `arn:aws:kms:us-east-1:123:key/${uuid}`,
    `arn:aws:kms:us-east-1:${ACCT}:alias/`,
    "arn:aws:s3:::my-bucket",
  ])("rejects %s", (v) => {
    expect(() => normalizeKmsKeyId(v, "us-east-1", ACCT)).toThrow(
      error("InvalidKmsKeyIdException", `KMS key ID ${v} is invalid.`),
    );
  });
});

describe("validateCloudWatchLogs", () => {
  const group = `arn:aws:logs:us-east-1:${ACCT}:log-group:CloudTrail/DefaultLogGroup:*`;
  const role = `arn:aws:iam::${ACCT}:role/CloudTrail_CloudWatchLogs_Role`;
  const needRole = error(
    "InvalidCloudWatchLogsRoleArnException",
    "You must specify a role ARN as well as a log group.",
  );
  const needGroup = error(
    "InvalidCloudWatchLogsLogGroupArnException",
    "You must specify a log group as well as a role ARN.",
  );
  const badGroup = error(
    "InvalidCloudWatchLogsLogGroupArnException",
    "CloudTrail cannot validate the specified log group ARN.",
  );
  const badRole = error(
    "InvalidCloudWatchLogsRoleArnException",
    "CloudTrail cannot validate the specified role ARN.",
  );

  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ["", ""],
    ["", undefined],
    [undefined, ""],
  ])("treats (%j, %j) as no delivery", (g, r) => {
    expect(validateCloudWatchLogs(g, r)).toEqual({});
  });

  it.each([
    [group, role],
    [
      `arn:aws:logs:us-east-1:${ACCT}:log-group:/aws/cloudtrail#x_y.z-1:*`,
      `arn:aws:iam::${ACCT}:role/service-role/ct`,
    ],
    [`arn:aws-cn:logs:cn-north-1:${ACCT}:log-group:g:*`, `arn:aws-cn:iam::${ACCT}:role/a/b/c+=,.@-_`],
  ])("accepts %s with %s", (g, r) => {
    expect(validateCloudWatchLogs(g, r)).toEqual({ groupArn: g, roleArn: r });
  });

  it.each<[string | undefined, string | undefined, ReturnType<typeof error>, string]>([
    [group, undefined, needRole, "a group without a role"],
    [group, "", needRole, "a group with an empty role"],
    [undefined, role, needGroup, "a role without a group"],
    ["", role, needGroup, "a role with an empty group"],
    ["not-an-arn", undefined, needRole, "a bad group without a role (the pair is checked first)"],
    [
      `arn:aws:logs:us-east-1:${ACCT}:log-group:CloudTrail/DefaultLogGroup`,
      role,
      badGroup,
      "a group without :*",
    ],
    [`arn:aws:logs:us-east-1:${ACCT}:log-stream:x:*`, role, badGroup, "a log stream"],
    [`arn:aws:logs:us-east-1:123:log-group:g:*`, role, badGroup, "a short account in the group"],
    [`arn:aws:logs:us-east-1:${ACCT}:log-group:a b:*`, role, badGroup, "a space in the group name"],
    [
      `arn:aws:logs:us-east-1:${ACCT}:log-group:${"g".repeat(513)}:*`,
      role,
      badGroup,
      "a 513-character group name",
    ],
    [`arn:aws:s3:::bucket`, "also-bad", badGroup, "both bad (the group is checked first)"],
    [group, `arn:aws:iam::${ACCT}:user/someone`, badRole, "a user instead of a role"],
    [group, `arn:aws:iam:us-east-1:${ACCT}:role/r`, badRole, "a role ARN with a region"],
    [group, `arn:aws:iam::${ACCT}:role/`, badRole, "a role ARN without a name"],
    [group, "CloudTrail_CloudWatchLogs_Role", badRole, "a bare role name"],
  ])("rejects (%j, %j)", (g, r, expected) => {
    expect(() => validateCloudWatchLogs(g, r)).toThrow(expected);
  });
});
