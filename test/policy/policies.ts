import { CreateRoleCommand, type IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { SetTopicAttributesCommand, type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ACCOUNT, logFileRecords } from "../delivery/fixtures.ts";
import { createQueue } from "../support/queues.ts";
import { createBucket, type S3TestServer } from "../support/s3-servers.ts";

/** The bucket policy of the CloudTrail User Guide without source conditions, for tests of other outputs. */
export function cloudTrailBucketPolicy(bucket: string, account: string): string {
  const principal = { Service: "cloudtrail.amazonaws.com" };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
      },
    ],
  });
}

/** A new bucket on `server` whose policy is `cloudTrailBucketPolicy` for the trails of `account`. */
export async function createCloudTrailBucket(
  server: S3TestServer,
  s3: S3Client,
  bucket: string,
  account = ACCOUNT,
): Promise<void> {
  await createBucket(server, bucket);
  await s3.send(
    new PutBucketPolicyCommand({ Bucket: bucket, Policy: cloudTrailBucketPolicy(bucket, account) }),
  );
}

/**
 * The key policy of the CloudTrail User Guide (policy-checks.md §4.2): the account's root manages
 * the key, CloudTrail may make data keys for the trails of `trailAccount` and describe the key.
 */
export function cloudTrailKeyPolicy(trailAccount = ACCOUNT): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "root",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "Allow CloudTrail to encrypt logs",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "kms:GenerateDataKey*",
        Resource: "*",
        Condition: {
          StringLike: {
            "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${trailAccount}:trail/*`,
          },
        },
      },
      {
        Sid: "Allow CloudTrail to describe key",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "kms:DescribeKey",
        Resource: "*",
      },
    ],
  });
}

/** The topic policy of the CloudTrail User Guide: CloudTrail may publish to `topicArn`. */
export function cloudTrailTopicPolicy(topicArn: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AWSCloudTrailSNSPolicy20131101",
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "SNS:Publish",
        Resource: topicArn,
      },
    ],
  });
}

/** The trust policy of the CloudTrail User Guide's CloudWatch Logs role: `service` may assume it. */
export function cloudTrailTrustPolicy(service = "cloudtrail.amazonaws.com"): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

/**
 * The role policy of the CloudTrail User Guide: create the trail's stream in the log group
 * (`arn:…:log-group:NAME:*` as CreateTrail takes it) and put events there; `actions` leaves some out.
 */
export function cloudTrailLogsRolePolicy(
  groupArn: string,
  region: string,
  account = ACCOUNT,
  actions: readonly string[] = ["logs:CreateLogStream", "logs:PutLogEvents"],
): string {
  const stream = `${groupArn.replace(/:\*$/, "")}:log-stream:${account}_CloudTrail_${region}*`;
  const sids: Record<string, string> = {
    "logs:CreateLogStream": "AWSCloudTrailCreateLogStream2014110",
    "logs:PutLogEvents": "AWSCloudTrailPutLogEvents20141101",
  };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: actions.map((action) => ({
      Sid: sids[action] ?? action.replace(/\W/g, ""),
      Effect: "Allow",
      Action: [action],
      Resource: [stream],
    })),
  });
}

/**
 * Creates the CloudWatch Logs role CloudTrail assumes (IAM CreateRole with the trust policy, then
 * PutRolePolicy with the role policy, both of the User Guide unless given); the role's ARN.
 */
export async function createCloudTrailLogsRole(
  iam: IAMClient,
  name: string,
  groupArn: string,
  region: string,
  options: { trustPolicy?: string; rolePolicy?: string } = {},
): Promise<string> {
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: options.trustPolicy ?? cloudTrailTrustPolicy(),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: "cloudtrail-logs",
      PolicyDocument: options.rolePolicy ?? cloudTrailLogsRolePolicy(groupArn, region),
    }),
  );
  return created.Role!.Arn!;
}

/** Gives an existing topic CloudTrail's grant and subscribes a new queue to it; the queue's URL. */
export async function grantAndSubscribe(
  sns: SNSClient,
  sqs: SQSClient,
  topicArn: string,
  queueName: string,
): Promise<string> {
  await sns.send(
    new SetTopicAttributesCommand({
      TopicArn: topicArn,
      AttributeName: "Policy",
      AttributeValue: cloudTrailTopicPolicy(topicArn),
    }),
  );
  const queue = await createQueue(sqs, queueName);
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn }));
  return queue.url;
}

/** Every key in the bucket, sorted. */
export async function bucketKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of res.Contents ?? []) keys.push(o.Key!);
    token = res.NextContinuationToken;
  } while (token);
  return keys.sort();
}

/**
 * eventID → in how many of the bucket's log files, for the records that are not the trail's own
 * CloudTrail calls (those are recorded and delivered too, in numbers a test does not choose).
 */
export async function deliveredIds(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const key of await bucketKeys(s3, bucket)) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from(await object.Body!.transformToByteArray());
    for (const r of logFileRecords(body)) {
      if (r.eventSource === "cloudtrail.amazonaws.com") continue;
      counts.set(String(r.eventID), (counts.get(String(r.eventID)) ?? 0) + 1);
    }
  }
  return counts;
}
