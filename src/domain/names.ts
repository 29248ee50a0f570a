import { type CloudTrailError, fail } from "../api/errors.ts";
import {
  cloudWatchLogsGroupMissing,
  cloudWatchLogsRoleMissing,
  invalidCloudWatchLogsGroupArn,
  invalidCloudWatchLogsRoleArn,
  invalidKmsKeyId,
  invalidS3Prefix,
  invalidSnsTopicName,
  invalidTrailArn,
  resourceTypeNotSupported,
  wrongArnAccount,
  wrongArnRegion,
} from "../api/messages.ts";

/**
 * Syntax of the identifiers CloudTrail accepts: trail names and ARNs, bucket names, key prefixes,
 * SNS topics, KMS keys and the CloudWatch Logs pair. Every message is the one AWS answers with
 * where it has been observed, the others are written in the same voice; a rule table keeps its
 * messages beside its rules, the single messages are built in api/messages.ts.
 */

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov"] as const;
export type Partition = (typeof PARTITIONS)[number];

export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export function trailArn(region: string, accountId: string, name: string): string {
  return `arn:${partitionOf(region)}:cloudtrail:${region}:${accountId}:trail/${name}`;
}

const PARTITION = "(aws|aws-cn|aws-us-gov)";
const REGION = "([a-z0-9-]+)";
const ACCOUNT = "(\\d{12})";

// ---------------------------------------------------------------------------------------------
// Trail names

export const TRAIL_NAME_MIN = 3;
export const TRAIL_NAME_MAX = 128;

function badName(message: string): CloudTrailError {
  return fail("InvalidTrailNameException", message);
}

/**
 * Each rule with the message AWS gives, in the order AWS checks them (length, first character,
 * last character, character set: `trail!` is refused for its end), so that a name breaking
 * several rules reports the first one. Where AWS places the IP-address and adjacent-character
 * rules is not known; they come last.
 */
const TRAIL_NAME_RULES: readonly { broken: (name: string) => boolean; message: (name: string) => string }[] =
  [
    {
      broken: (n) => n.length < TRAIL_NAME_MIN,
      message: (n) =>
        `Trail name too short. Minimum allowed length: ${TRAIL_NAME_MIN} characters. Specified name length: ${n.length} characters.`,
    },
    {
      broken: (n) => n.length > TRAIL_NAME_MAX,
      message: (n) =>
        `Trail name too long. Maximum allowed length: ${TRAIL_NAME_MAX} characters. Specified name length: ${n.length} characters.`,
    },
    {
      broken: (n) => !/^[A-Za-z0-9]/.test(n),
      message: () => "Trail name must starts with a letter or number.",
    },
    {
      broken: (n) => !/[A-Za-z0-9]$/.test(n),
      message: () => "Trail name must ends with a letter or number.",
    },
    {
      broken: (n) => !/^[A-Za-z0-9._-]+$/.test(n),
      message: () =>
        "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).",
    },
    {
      broken: (n) => /^\d{1,3}(\.\d{1,3}){3}$/.test(n),
      message: () => "Trail names must not be formatted as an IP address.",
    },
    {
      broken: (n) => /[._-]{2}/.test(n),
      message: () => "Trail name or ARN cannot have adjacent periods (.), hyphens (-), or underscores (_).",
    },
  ];

export function validateTrailName(name: string | undefined): string {
  if (name === undefined || name === "") throw badName("Trail name cannot be blank!");
  for (const rule of TRAIL_NAME_RULES) {
    if (rule.broken(name)) throw badName(rule.message(name));
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Trail references (a name or an ARN)

export type TrailRef =
  | { kind: "name"; name: string }
  | { kind: "arn"; arn: string; partition: string; region: string; accountId: string; name: string };

type ParsedArn = { arn: string; partition: Partition; region: string; accountId: string; name: string };

const CLOUDTRAIL_ARN =
  /^arn:(?<partition>aws|aws-cn|aws-us-gov):cloudtrail:(?<region>[a-z0-9-]+):(?<accountId>\d{12}):(?<type>[a-z]+)\/(?<name>.+)$/;

/** The CloudTrail resource types; only trails live here, the others belong to CloudTrail Lake. */
export const CLOUDTRAIL_RESOURCE_TYPES = ["trail", "eventdatastore", "channel", "dashboard"] as const;
type ResourceType = (typeof CLOUDTRAIL_RESOURCE_TYPES)[number];

function isResourceType(v: string): v is ResourceType {
  return (CLOUDTRAIL_RESOURCE_TYPES as readonly string[]).includes(v);
}

/**
 * Splits a CloudTrail ARN; anything that is not one (wrong service, wrong shape, a partition that
 * does not own the region) is CloudTrailARNInvalidException.
 */
function splitCloudTrailArn(value: string): ParsedArn & { type: ResourceType } {
  const g = CLOUDTRAIL_ARN.exec(value)?.groups;
  if (!g) throw invalidTrailArn(value);
  const { region = "", accountId = "", type = "", name = "" } = g;
  const partition = partitionOf(region);
  if (!isResourceType(type) || g.partition !== partition) throw invalidTrailArn(value);
  return { arn: value, partition, region, accountId, type, name };
}

/**
 * A well-formed trail ARN whose name part breaks a naming rule answers with the naming rule:
 * AWS words those messages "Trail name or ARN …" and lists InvalidTrailNameException for
 * RemoveTags, whose only identifier is an ARN.
 */
function parseTrailArn(value: string): ParsedArn {
  const parsed = splitCloudTrailArn(value);
  if (parsed.type !== "trail") throw invalidTrailArn(value);
  validateTrailName(parsed.name);
  const { type: _type, ...rest } = parsed;
  return rest;
}

export function parseTrailRef(value: string | undefined): TrailRef {
  if (value?.startsWith("arn:")) return { kind: "arn", ...parseTrailArn(value) };
  return { kind: "name", name: validateTrailName(value) };
}

/** The AWS CLI's test of a trail ARN before validate-logs: its shape only. */
const CLI_TRAIL_ARN = /^arn:.+:cloudtrail:.+:\d{12}:trail\/.+/;

/**
 * A trail ARN as `aws cloudtrail validate-logs` takes it, split where the AWS CLI splits it: any
 * partition, region and name pass (the trail lookup that follows finds none for a wrong one), so
 * that it accepts and rejects the same ARNs. Undefined for what the AWS CLI calls invalid.
 */
export function parseCliTrailArn(
  value: string,
): { region: string; accountId: string; name: string } | undefined {
  if (!CLI_TRAIL_ARN.test(value)) return undefined;
  const parts = value.split(":");
  return { region: parts[3]!, accountId: parts[4]!, name: value.slice(value.lastIndexOf("/") + 1) };
}

/**
 * ResourceId of AddTags, RemoveTags and ListTags: a trail ARN of the current region (and, when
 * `accountId` is given, of the caller's account; the messages are the ones AWS answers with).
 */
export function parseTagResourceArn(
  value: string | undefined,
  currentRegion: string,
  accountId?: string,
): { arn: string; region: string; accountId: string; name: string } {
  if (value === undefined || !value.startsWith("arn:")) throw invalidTrailArn(value ?? "");
  const parsed = splitCloudTrailArn(value);
  if (parsed.type !== "trail") throw resourceTypeNotSupported(parsed.type, value);
  validateTrailName(parsed.name);
  if (parsed.region !== currentRegion) throw wrongArnRegion(currentRegion);
  if (accountId !== undefined && parsed.accountId !== accountId) throw wrongArnAccount(accountId);
  return { arn: parsed.arn, region: parsed.region, accountId: parsed.accountId, name: parsed.name };
}

// ---------------------------------------------------------------------------------------------
// S3 destination

export const BUCKET_NAME_MIN = 3;
export const BUCKET_NAME_MAX = 63;
export const S3_PREFIX_MAX = 200;

/**
 * The first broken bucket-name rule, scanning left to right as AWS does (its messages name the
 * first offending character), or undefined for a valid name.
 */
function bucketNameProblem(v: string): string | undefined {
  if (v.length < BUCKET_NAME_MIN || v.length > BUCKET_NAME_MAX) {
    return `Bucket name should be between ${BUCKET_NAME_MIN} and ${BUCKET_NAME_MAX} characters long`;
  }
  if (/^(\d+\.){3}\d+$/.test(v)) return "Bucket name must not be formatted as an IP Address";
  let prev = "";
  for (const c of v) {
    if (c >= "A" && c <= "Z") return "Bucket name should not contain uppercase characters";
    if (c === " " || c === "\t" || c === "\r" || c === "\n")
      return "Bucket name should not contain white space";
    if (c === ".") {
      if (prev === "") return "Bucket name should not begin with a period";
      if (prev === ".") return "Bucket name should not contain two adjacent periods";
      if (prev === "-") return "Bucket name should not contain dashes next to periods";
    } else if (c === "-") {
      if (prev === ".") return "Bucket name should not contain dashes next to periods";
      if (prev === "") return "Bucket name should not begin with a '-'";
    } else if (!/^[a-z0-9]$/.test(c)) {
      return `Bucket name should not contain '${c}'`;
    }
    prev = c;
  }
  if (prev === "." || prev === "-") return "Bucket name should not end with '-' or '.'";
  return undefined;
}

export function validateBucketName(v: string | undefined): string {
  if (v === undefined) throw fail("InvalidS3BucketNameException", "Bucket name cannot be null");
  const problem = bucketNameProblem(v);
  if (problem !== undefined) throw fail("InvalidS3BucketNameException", problem);
  return v;
}

/** Absent and "" both mean "no prefix" (UpdateTrail clears it with ""). */
export function validateS3KeyPrefix(v: string | undefined): string | undefined {
  if (v === undefined || v === "") return undefined;
  if (v.length > S3_PREFIX_MAX) throw invalidS3Prefix(S3_PREFIX_MAX);
  return v;
}

// ---------------------------------------------------------------------------------------------
// SNS topic

export const SNS_TOPIC_MAX = 256;

const SNS_TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const SNS_TOPIC_ARN = new RegExp(`^arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:([A-Za-z0-9_-]{1,256})$`);

/** SnsTopicName takes a topic name or a topic ARN; the trail keeps both forms. */
export function normalizeSnsTopic(
  v: string | undefined,
  region: string,
  accountId: string,
): { name: string; arn: string } | undefined {
  if (v === undefined || v === "") return undefined;
  if (v.length > SNS_TOPIC_MAX) throw invalidSnsTopicName(v);
  if (v.startsWith("arn:")) {
    const m = SNS_TOPIC_ARN.exec(v);
    if (!m) throw invalidSnsTopicName(v);
    return { name: m[4]!, arn: v };
  }
  if (!SNS_TOPIC_NAME.test(v)) throw invalidSnsTopicName(v);
  return { name: v, arn: `arn:${partitionOf(region)}:sns:${region}:${accountId}:${v}` };
}

// ---------------------------------------------------------------------------------------------
// KMS key

// Single-Region keys are UUIDs; multi-Region keys (which CloudTrail accepts) are mrk- and 32 hex.
const KMS_KEY_ID =
  "([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})";
const KMS_ALIAS = "(alias/[A-Za-z0-9/_-]{1,250})";
const KMS_BARE_KEY = new RegExp(`^${KMS_KEY_ID}$`);
const KMS_BARE_ALIAS = new RegExp(`^${KMS_ALIAS}$`);
const KMS_ARN = new RegExp(`^arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:(key/${KMS_KEY_ID}|${KMS_ALIAS})$`);

/** Every accepted form is kept as a full ARN, as AWS echoes KmsKeyId. */
export function normalizeKmsKeyId(
  v: string | undefined,
  region: string,
  accountId: string,
): string | undefined {
  if (v === undefined || v === "") return undefined;
  const prefix = `arn:${partitionOf(region)}:kms:${region}:${accountId}`;
  if (KMS_BARE_KEY.test(v)) return `${prefix}:key/${v}`;
  if (KMS_BARE_ALIAS.test(v)) return `${prefix}:${v}`;
  if (KMS_ARN.test(v)) return v;
  throw invalidKmsKeyId(v);
}

// ---------------------------------------------------------------------------------------------
// CloudWatch Logs

const LOG_GROUP_ARN = new RegExp(
  `^arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:[A-Za-z0-9._/#-]{1,512}:\\*$`,
);
const ROLE_ARN = new RegExp(`^arn:${PARTITION}:iam::${ACCOUNT}:role/([\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`);

/**
 * The log group and the role come as a pair: both or neither ("" counts as absent, so UpdateTrail
 * clears the pair with two empty strings).
 */
export function validateCloudWatchLogs(
  groupArn: string | undefined,
  roleArn: string | undefined,
): { groupArn?: string; roleArn?: string } {
  const group = groupArn === "" ? undefined : groupArn;
  const role = roleArn === "" ? undefined : roleArn;
  if (group === undefined && role === undefined) return {};
  if (role === undefined) throw cloudWatchLogsRoleMissing();
  if (group === undefined) throw cloudWatchLogsGroupMissing();
  if (!LOG_GROUP_ARN.test(group)) throw invalidCloudWatchLogsGroupArn();
  if (!ROLE_ARN.test(role)) throw invalidCloudWatchLogsRoleArn();
  return { groupArn: group, roleArn: role };
}
