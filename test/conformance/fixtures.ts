import type { CreateTrailRequest, CreateTrailResponse, Tag, Trail } from "@aws-sdk/client-cloudtrail";
import { it } from "vitest";
import type { CloudTrailApi, ErrorCode } from "../../src/api/index.ts";
import { ACCOUNT, expectError, OTHER_ACCOUNT, REGION, type Target } from "./harness.ts";

/** Expected answers and shared validation tables of the conformance suites. */

export const BUCKET = "conformance-bucket";
export const OTHER_REGION = "us-west-2";
export const THIRD_REGION = "eu-west-1";

export function arnOf(name: string, region = REGION, account = ACCOUNT): string {
  return `arn:aws:cloudtrail:${region}:${account}:trail/${name}`;
}

export function unknownTrail(arn: string, account = ACCOUNT): string {
  return `Unknown trail: ${arn} for the user: ${account}`;
}

export function homeRegionOnly(home: string): string {
  return `This operation must be called from the trail's home region (${home}).`;
}

export function alreadyExists(name: string, account = ACCOUNT): string {
  return `Trail ${name} already exists for customer: ${account}`;
}

export function tooManyTrails(region: string, account = ACCOUNT): string {
  return `User: ${account} already has 5 trails in ${region}.`;
}

export const WRONG_REGION = (region: string) =>
  `Region in ARN is wrong, you can only access resources in region ${region}.`;

/** GetTrail / DescribeTrails form of a trail created with defaults, plus `over`. */
export function describedTrail(
  name: string,
  over: Partial<Trail> = {},
  home = REGION,
  account = ACCOUNT,
): Trail {
  return {
    Name: name,
    S3BucketName: BUCKET,
    IncludeGlobalServiceEvents: true,
    IsMultiRegionTrail: false,
    HomeRegion: home,
    TrailARN: arnOf(name, home, account),
    LogFileValidationEnabled: false,
    HasCustomEventSelectors: false,
    HasInsightSelectors: false,
    IsOrganizationTrail: false,
    ...over,
  };
}

/** CreateTrail / UpdateTrail answer for a trail created with defaults, plus `over`. */
export function trailResponse(
  name: string,
  over: Partial<CreateTrailResponse> = {},
  home = REGION,
  account = ACCOUNT,
): CreateTrailResponse {
  return {
    Name: name,
    S3BucketName: BUCKET,
    IncludeGlobalServiceEvents: true,
    IsMultiRegionTrail: false,
    TrailARN: arnOf(name, home, account),
    LogFileValidationEnabled: false,
    IsOrganizationTrail: false,
    ...over,
  };
}

/** Creates the bucket (BUCKET unless `extra` names another) and a trail through `api`. */
export async function makeTrail(
  t: Target,
  name: string,
  extra: Partial<CreateTrailRequest> = {},
  api: CloudTrailApi = t.api,
): Promise<CreateTrailResponse> {
  const request = { Name: name, S3BucketName: BUCKET, ...extra };
  await t.createBucket(request.S3BucketName);
  return api.createTrail(request);
}

export const DEFAULT_EVENT_SELECTORS = [
  {
    ReadWriteType: "All",
    IncludeManagementEvents: true,
    DataResources: [],
    ExcludeManagementEventSources: [],
  },
];

// ---------------------------------------------------------------------------------------------
// Trail names and ARNs

const LONG_NAME = `a${"b".repeat(127)}c`;

/** Values breaking one trail-name rule, and AWS's message for it (in rule order). */
export const BAD_TRAIL_NAMES: readonly (readonly [string, string])[] = [
  ["", "Trail name cannot be blank!"],
  ["192.168.5.4", "Trail names must not be formatted as an IP address."],
  ["ab", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."],
  [
    LONG_NAME,
    "Trail name too long. Maximum allowed length: 128 characters. Specified name length: 129 characters.",
  ],
  [
    "my trail",
    "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
  ],
  [
    "tr-é-il",
    "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
  ],
  // AWS checks length, first character, last character, then the character set (moto#4410)
  ["a!", "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."],
  ["-trail", "Trail name must starts with a letter or number."],
  ["_trail", "Trail name must starts with a letter or number."],
  ["!trail!", "Trail name must starts with a letter or number."],
  ["trail.", "Trail name must ends with a letter or number."],
  ["trail!", "Trail name must ends with a letter or number."],
  [
    "my#trail",
    "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
  ],
  ["my--ns", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."],
  ["my-_ns", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."],
  ["a..b", "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_)."],
];

/** Valid names at the edges of the rules. */
export const GOOD_TRAIL_NAMES: readonly string[] = [
  "abc",
  `a${"b".repeat(126)}c`,
  "My.Trail_1-x",
  "1.2.3.4.5",
  "0trail9",
];

/** Strings starting with `arn:` that are no trail ARN. */
export const BAD_TRAIL_ARNS: readonly string[] = [
  "arn:",
  "arn:aws:s3:::conformance-bucket",
  `arn:aws:cloudtrail:${REGION}:12345:trail/abc`,
  `arn:aws:cloudtrail::${ACCOUNT}:trail/abc`,
  `arn:aws-cn:cloudtrail:${REGION}:${ACCOUNT}:trail/abc`,
  `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:eventdatastore/abc`,
  `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/`,
  `arn:aws:cloudtrails:${REGION}:${ACCOUNT}:trail/abc`,
];

/**
 * The name-or-ARN parameter of an operation: every naming rule, the name rules inside an ARN,
 * and malformed ARNs. `call` sends `value` as that parameter (undefined: member left out).
 */
export function nameOrArnValidation(
  t: Target,
  call: (api: CloudTrailApi, value?: string) => Promise<unknown>,
  missing: readonly [ErrorCode, string] = ["InvalidTrailNameException", "Trail name cannot be blank!"],
) {
  it(`answers ${missing[0]} for a missing name`, async () => {
    await expectError(call(t.api, undefined), ...missing);
  });

  it.each(BAD_TRAIL_NAMES)("rejects the name %j", async (value, message) => {
    await expectError(call(t.api, value), "InvalidTrailNameException", message);
  });

  it("applies the name rules to the name inside a trail ARN", async () => {
    await expectError(
      call(t.api, arnOf("ab")),
      "InvalidTrailNameException",
      "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters.",
    );
    await expectError(
      call(t.api, arnOf("a--b")),
      "InvalidTrailNameException",
      "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
    );
  });

  it.each(BAD_TRAIL_ARNS)("rejects %j as an invalid trail ARN", async (value) => {
    await expectError(call(t.api, value), "CloudTrailARNInvalidException", `Invalid trail ARN: ${value}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Destination settings shared by CreateTrail and UpdateTrail

const BUCKET_LENGTH = "Bucket name should be between 3 and 63 characters long";

/** Bucket names breaking one S3 naming rule, and the message (the first broken rule, left to right). */
export const BAD_BUCKET_NAMES: readonly (readonly [string, string])[] = [
  ["", BUCKET_LENGTH],
  ["ab", BUCKET_LENGTH],
  ["b".repeat(64), BUCKET_LENGTH],
  ["192.168.1.1", "Bucket name must not be formatted as an IP Address"],
  ["My-bucket", "Bucket name should not contain uppercase characters"],
  ["my bucket", "Bucket name should not contain white space"],
  [".bucket", "Bucket name should not begin with a period"],
  ["my..bucket", "Bucket name should not contain two adjacent periods"],
  ["my-.bucket", "Bucket name should not contain dashes next to periods"],
  ["my.-bucket", "Bucket name should not contain dashes next to periods"],
  ["-bucket", "Bucket name should not begin with a '-'"],
  ["my_bucket", "Bucket name should not contain '_'"],
  ["bucket-", "Bucket name should not end with '-' or '.'"],
  ["bucket.", "Bucket name should not end with '-' or '.'"],
];

export const LOG_GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:trail-logs:*`;
export const LOG_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/trail-to-logs`;

/** Syntactically invalid SNS, KMS and CloudWatch Logs settings, and what they answer. */
export const BAD_DESTINATION_SETTINGS: readonly (readonly [
  string,
  Partial<CreateTrailRequest>,
  ErrorCode,
  string,
])[] = [
  [
    "an S3KeyPrefix over 200 characters",
    { S3KeyPrefix: "p".repeat(201) },
    "InvalidS3PrefixException",
    "S3 prefix length exceeds 200 characters.",
  ],
  [
    "an SNS topic name over 256 characters",
    { SnsTopicName: "t".repeat(257) },
    "InvalidSnsTopicNameException",
    `SNS topic name ${"t".repeat(257)} is invalid.`,
  ],
  [
    "an SNS topic name with a bad character",
    { SnsTopicName: "bad topic" },
    "InvalidSnsTopicNameException",
    "SNS topic name bad topic is invalid.",
  ],
  [
    "a malformed SNS topic ARN",
    { SnsTopicName: "arn:aws:sns:us-east-1:123:topic" },
    "InvalidSnsTopicNameException",
    "SNS topic name arn:aws:sns:us-east-1:123:topic is invalid.",
  ],
  [
    "a KMS key id that is no key, alias or ARN",
    { KmsKeyId: "not-a-key" },
    "InvalidKmsKeyIdException",
    "KMS key ID not-a-key is invalid.",
  ],
  [
    "a KMS ARN of another service",
    { KmsKeyId: `arn:aws:s3:::${BUCKET}` },
    "InvalidKmsKeyIdException",
    `KMS key ID arn:aws:s3:::${BUCKET} is invalid.`,
  ],
  [
    "a log group without a role",
    { CloudWatchLogsLogGroupArn: LOG_GROUP_ARN },
    "InvalidCloudWatchLogsRoleArnException",
    "You must specify a role ARN as well as a log group.",
  ],
  [
    "a role without a log group",
    { CloudWatchLogsRoleArn: LOG_ROLE_ARN },
    "InvalidCloudWatchLogsLogGroupArnException",
    "You must specify a log group as well as a role ARN.",
  ],
  [
    "a malformed log group ARN",
    { CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:1:log-group", CloudWatchLogsRoleArn: LOG_ROLE_ARN },
    "InvalidCloudWatchLogsLogGroupArnException",
    "CloudTrail cannot validate the specified log group ARN.",
  ],
  [
    "a malformed role ARN",
    { CloudWatchLogsLogGroupArn: LOG_GROUP_ARN, CloudWatchLogsRoleArn: "arn:aws:iam::1:role/x" },
    "InvalidCloudWatchLogsRoleArnException",
    "CloudTrail cannot validate the specified role ARN.",
  ],
  [
    "a valid CloudWatch Logs pair (no delivery there)",
    { CloudWatchLogsLogGroupArn: LOG_GROUP_ARN, CloudWatchLogsRoleArn: LOG_ROLE_ARN },
    "CloudWatchLogsDeliveryUnavailableException",
    "Cannot set a CloudWatch Logs delivery for this Region. (no CloudWatch Logs endpoint is configured: set --upstream logs=URL)",
  ],
  [
    "IsOrganizationTrail",
    { IsOrganizationTrail: true },
    "OrganizationsNotInUseException",
    "This account is not a member of an organization.",
  ],
  [
    "a multi-Region trail without global service events",
    { IsMultiRegionTrail: true, IncludeGlobalServiceEvents: false },
    "InvalidParameterCombinationException",
    "Multi-Region trail must include global service events.",
  ],
];

/** Accepted KmsKeyId forms and the full ARN the trail keeps. */
export const KMS_KEY_FORMS: readonly (readonly [string, string])[] = [
  [
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  ],
  [
    "mrk-1234abcd12ab34cd56ef1234567890ab",
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab`,
  ],
  ["alias/trail-key", `arn:aws:kms:${REGION}:${ACCOUNT}:alias/trail-key`],
  [
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  ],
  [`arn:aws:kms:${REGION}:${ACCOUNT}:alias/trail-key`, `arn:aws:kms:${REGION}:${ACCOUNT}:alias/trail-key`],
];

// ---------------------------------------------------------------------------------------------
// Tags

export function tagsOf(count: number, prefix = "key"): Tag[] {
  return Array.from({ length: count }, (_, i) => ({ Key: `${prefix}-${i}`, Value: `value-${i}` }));
}

const EMOJI = "\u{1F600}";

/** TagsList values refused by CreateTrail, AddTags and RemoveTags alike, and the message. */
export const BAD_TAG_LISTS: readonly (readonly [string, Tag[], string])[] = [
  ["a tag without a key", [{ Value: "v" } as Tag], "Tag key cannot be empty."],
  ["an empty key", [{ Key: "", Value: "v" }], "Tag key cannot be empty."],
  [
    "a key over 128 characters",
    [{ Key: "k".repeat(129) }],
    "Tag key too long. Maximum allowed length: 128 characters. Specified key length: 129 characters.",
  ],
  [
    "a key over 128 characters counted in code points",
    [{ Key: EMOJI.repeat(129) }],
    "Tag key too long. Maximum allowed length: 128 characters. Specified key length: 129 characters.",
  ],
  [
    "a value over 256 characters",
    [{ Key: "k", Value: "v".repeat(257) }],
    "Tag value too long. Maximum allowed length: 256 characters. Specified value length: 257 characters.",
  ],
  [
    "a key beginning with aws:",
    [{ Key: "aws:owner", Value: "v" }],
    "Tag key aws:owner is reserved: keys beginning with aws: are for AWS use.",
  ],
  [
    "a key beginning with AWS: in capitals",
    [{ Key: "AWS:owner" }],
    "Tag key AWS:owner is reserved: keys beginning with aws: are for AWS use.",
  ],
  [
    "a key given twice",
    [
      { Key: "team", Value: "a" },
      { Key: "team", Value: "b" },
    ],
    "Tag key team appears more than once in the request.",
  ],
  ["more than 200 tags", tagsOf(201), "The request contains 201 tags; at most 200 are allowed."],
];

/** Tags at the edges of what is accepted. */
export const EDGE_TAGS: Tag[] = [
  { Key: "k".repeat(128), Value: "v".repeat(256) },
  { Key: EMOJI.repeat(128), Value: EMOJI.repeat(256) },
  { Key: "no-value" },
  { Key: "empty-value", Value: "" },
  { Key: "awsome", Value: "not reserved" },
];

export const TAGS_LIMIT =
  "The number of tags per trail has exceeded the permitted amount. Currently, the limit is 50.";

/**
 * The ResourceId of the tag operations: a trail ARN of the current region and the caller's
 * account, or the operation fails before any lookup.
 */
export function tagResourceValidation(
  t: Target,
  call: (api: CloudTrailApi, resourceId?: string) => Promise<unknown>,
) {
  it("refuses a missing ResourceId as an invalid ARN", async () => {
    await expectError(call(t.api, undefined), "CloudTrailARNInvalidException", "Invalid trail ARN: ");
  });

  it("refuses a trail name where an ARN belongs", async () => {
    await makeTrail(t, "named-trail");
    await expectError(
      call(t.api, "named-trail"),
      "CloudTrailARNInvalidException",
      "Invalid trail ARN: named-trail",
    );
  });

  it.each([
    ...BAD_TRAIL_ARNS.filter((v) => !v.includes(":eventdatastore/")),
    arnOf("x").replace(":trail/", ":widget/"),
  ])("refuses %j as an invalid ARN", async (value) => {
    await expectError(call(t.api, value), "CloudTrailARNInvalidException", `Invalid trail ARN: ${value}`);
  });

  it.each(["eventdatastore", "channel", "dashboard"])(
    "answers ResourceTypeNotSupportedException for a %s ARN",
    async (type) => {
      const arn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:${type}/abc-123`;
      await expectError(
        call(t.api, arn),
        "ResourceTypeNotSupportedException",
        `Resource type ${type} is not supported: ${arn}`,
      );
    },
  );

  it("applies the trail name rules inside the ARN", async () => {
    await expectError(
      call(t.api, arnOf("a__b")),
      "InvalidTrailNameException",
      "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
    );
  });

  it("refuses an ARN of another region, even the home ARN of a visible shadow", async () => {
    await makeTrail(t, "global-trail", { IsMultiRegionTrail: true }, t.apiIn(OTHER_REGION));
    await expectError(
      call(t.api, arnOf("global-trail", OTHER_REGION)),
      "CloudTrailARNInvalidException",
      WRONG_REGION(REGION),
    );
    await expectError(
      call(t.apiIn(OTHER_REGION), arnOf("global-trail")),
      "CloudTrailARNInvalidException",
      WRONG_REGION(OTHER_REGION),
    );
  });

  it("refuses an ARN of another account", async () => {
    await makeTrail(t, "private-trail");
    await expectError(
      call(t.apiAs(OTHER_ACCOUNT), arnOf("private-trail")),
      "CloudTrailARNInvalidException",
      `AccountID in ARN is wrong, you can only access resources with AccountID ${OTHER_ACCOUNT}.`,
    );
  });

  it("answers ResourceNotFoundException for a well-formed ARN of no trail", async () => {
    const arn = arnOf("no-such-trail");
    await expectError(call(t.api, arn), "ResourceNotFoundException", `Resource not found: ${arn}`);
  });
}
