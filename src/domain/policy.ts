/*
 * What CloudTrail must be allowed to do with a destination, as requests a policy evaluator can
 * answer (policy-checks.md §2.1, §3, §7.2). The evaluation itself is an adapter's (a maintained
 * IAM evaluator); this file only says which requests, with which context.
 */

import { logStreamName } from "./trail.ts";

export const CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com";

/** One request of the service principal, and whether the destination's policy must allow it. */
export interface PolicyQuestion {
  /** allow: the policy must allow it; refuse: it must not (a grant must carry its condition). */
  expect: "allow" | "refuse";
  action: string;
  /** The resource ARN the request is about. */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  /** Condition keys and their values for this request. */
  context: Record<string, string>;
}

/** The trail as the questions need it; at CreateTrail it is not stored yet. */
export interface PolicyTrail {
  arn: string;
  accountId: string;
  s3BucketName: string;
  s3KeyPrefix?: string;
}

function serviceContext(trail: PolicyTrail): Record<string, string> {
  return {
    "aws:SourceArn": trail.arn,
    "aws:SourceAccount": trail.accountId,
    "aws:SecureTransport": "true",
  };
}

/**
 * GetBucketAcl on the bucket; PutObject of a log file under `[prefix/]AWSLogs/<account>/` with
 * the ACL CloudTrail sends; and the same PutObject without that ACL refused, since AWS's policies
 * grant the write only on the `s3:x-amz-acl` condition.
 */
export function bucketQuestions(trail: PolicyTrail): PolicyQuestion[] {
  const bucket = `arn:aws:s3:::${trail.s3BucketName}`;
  const prefix = trail.s3KeyPrefix ? `${trail.s3KeyPrefix}/` : "";
  const logFile = `${bucket}/${prefix}AWSLogs/${trail.accountId}/CloudTrail/x.json.gz`;
  const account = trail.accountId;
  return [
    {
      expect: "allow",
      action: "s3:GetBucketAcl",
      resource: bucket,
      resourceAccount: account,
      context: serviceContext(trail),
    },
    {
      expect: "allow",
      action: "s3:PutObject",
      resource: logFile,
      resourceAccount: account,
      context: { ...serviceContext(trail), "s3:x-amz-acl": "bucket-owner-full-control" },
    },
    {
      expect: "refuse",
      action: "s3:PutObject",
      resource: logFile,
      resourceAccount: account,
      context: serviceContext(trail),
    },
  ];
}

/**
 * The put of one log file at delivery, as CloudTrail makes it (with the ACL): a policy changed
 * since CreateTrail that no longer allows it makes delivery fail with AccessDenied (§6).
 */
export function deliveryQuestions(trail: PolicyTrail, key: string): PolicyQuestion[] {
  return [
    {
      expect: "allow",
      action: "s3:PutObject",
      resource: `arn:aws:s3:::${trail.s3BucketName}/${key}`,
      resourceAccount: trail.accountId,
      context: { ...serviceContext(trail), "s3:x-amz-acl": "bucket-owner-full-control" },
    },
  ];
}

/** SNS:Publish to the topic. */
export function topicQuestions(
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  topicArn: string,
): PolicyQuestion[] {
  return [allowedOn(trail, "sns:Publish", topicArn)];
}

/** `action` on the resource `arn` (of the account the ARN names), asked by CloudTrail for `trail`. */
function allowedOn(
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  action: string,
  arn: string,
): PolicyQuestion {
  return {
    expect: "allow",
    action,
    resource: arn,
    resourceAccount: arn.split(":")[4] ?? trail.accountId,
    context: serviceContext(trail as PolicyTrail),
  };
}

/** A key id or alias of a topic's KmsMasterKeyId as an ARN in the topic's region and account. */
export function topicKeyArn(topicArn: string, keyId: string): string {
  if (keyId.startsWith("arn:")) return keyId;
  const [, partition, , region, account] = topicArn.split(":");
  return `arn:${partition}:kms:${region}:${account}:${keyId.startsWith("alias/") ? keyId : `key/${keyId}`}`;
}

/**
 * What publishing to a KMS-encrypted topic takes of its key (policy-checks.md §3): CloudTrail
 * makes data keys and decrypts them under the topic's encryption context, not the trail's.
 */
export function topicKeyQuestions(
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  keyArn: string,
): PolicyQuestion[] {
  const owner = keyArn.split(":")[4] ?? trail.accountId;
  const context = serviceContext(trail as PolicyTrail);
  return [
    { expect: "allow", action: "kms:GenerateDataKey", resource: keyArn, resourceAccount: owner, context },
    { expect: "allow", action: "kms:Decrypt", resource: keyArn, resourceAccount: owner, context },
  ];
}

/** What CloudTrail does with a trail's KMS key (policy-checks.md §4.2): describe it and make data keys. */
export function keyQuestions(
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  keyArn: string,
): PolicyQuestion[] {
  const owner = keyArn.split(":")[4] ?? trail.accountId;
  const context = {
    ...serviceContext(trail as PolicyTrail),
    "kms:EncryptionContext:aws:cloudtrail:arn": trail.arn,
  };
  return [
    { expect: "allow", action: "kms:GenerateDataKey", resource: keyArn, resourceAccount: owner, context },
    {
      expect: "allow",
      action: "kms:DescribeKey",
      resource: keyArn,
      resourceAccount: owner,
      context: serviceContext(trail as PolicyTrail),
    },
  ];
}

/**
 * CloudTrail assuming the CloudWatch Logs role (notifications-and-integrations.md §2.1): the role's
 * trust policy must let the service principal call sts:AssumeRole for this trail.
 */
export function roleTrustQuestions(
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  roleArn: string,
): PolicyQuestion[] {
  return [allowedOn(trail, "sts:AssumeRole", roleArn)];
}

/**
 * What the role's own policies must allow (notifications-and-integrations.md §2.1): creating the
 * trail's stream in the log group and putting events in it.
 */
export function logRoleQuestions(
  trail: { accountId: string; homeRegion: string },
  groupArn: string,
): PolicyQuestion[] {
  const stream = `${groupArn.replace(/:\*$/, "")}:log-stream:${logStreamName(trail)}`;
  const owner = groupArn.split(":")[4] ?? trail.accountId;
  const context = { "aws:SecureTransport": "true" };
  return [
    { expect: "allow", action: "logs:CreateLogStream", resource: stream, resourceAccount: owner, context },
    { expect: "allow", action: "logs:PutLogEvents", resource: stream, resourceAccount: owner, context },
  ];
}
