/**
 * CloudTrail records for the selector tests, shaped like the records AWS writes (eventVersion
 * 1.08+, with eventCategory), plus the shared corpus of records from the AWS documentation.
 */
import { existsSync, readFileSync } from "node:fs";
import type { SelectorRecord } from "../../src/domain/selectors.ts";

const ACCOUNT = "111122223333";
const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/anaya`;

function base(fields: SelectorRecord): SelectorRecord {
  return {
    eventVersion: "1.09",
    userIdentity: { type: "IAMUser", arn: USER_ARN, accountId: ACCOUNT },
    eventTime: "2024-05-01T12:00:00Z",
    awsRegion: "us-east-2",
    sourceIPAddress: "192.0.2.0",
    eventID: "0b3e5a42-0000-4000-8000-000000000000",
    recipientAccountId: ACCOUNT,
    ...fields,
  };
}

/** A management API call. */
export function management(
  eventSource: string,
  eventName: string,
  readOnly: boolean | undefined,
  extra: SelectorRecord = {},
): SelectorRecord {
  const ro = readOnly === undefined ? {} : { readOnly };
  return base({
    eventSource,
    eventName,
    ...ro,
    eventType: "AwsApiCall",
    managementEvent: true,
    eventCategory: "Management",
    ...extra,
  });
}

/** An S3 object-level call, with the object and bucket resources S3 reports. */
export function s3Object(eventName: string, bucket: string, key: string, readOnly: boolean): SelectorRecord {
  return base({
    eventSource: "s3.amazonaws.com",
    eventName,
    readOnly,
    resources: [
      { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucket}/${key}` },
      { accountId: ACCOUNT, type: "AWS::S3::Bucket", ARN: `arn:aws:s3:::${bucket}` },
    ],
    eventType: "AwsApiCall",
    managementEvent: false,
    eventCategory: "Data",
  });
}

export function lambdaInvoke(functionArn: string): SelectorRecord {
  return base({
    eventSource: "lambda.amazonaws.com",
    eventName: "Invoke",
    readOnly: false,
    resources: [{ accountId: ACCOUNT, type: "AWS::Lambda::Function", ARN: functionArn }],
    eventType: "AwsApiCall",
    managementEvent: false,
    eventCategory: "Data",
  });
}

export function dynamoItem(eventName: string, tableArn: string, readOnly: boolean): SelectorRecord {
  return base({
    eventSource: "dynamodb.amazonaws.com",
    eventName,
    readOnly,
    resources: [{ accountId: ACCOUNT, type: "AWS::DynamoDB::Table", ARN: tableArn }],
    eventType: "AwsApiCall",
    managementEvent: false,
    eventCategory: "Data",
  });
}

export function networkActivity(eventSource: string, eventName: string, errorCode?: string): SelectorRecord {
  return base({
    eventSource,
    eventName,
    ...(errorCode === undefined ? {} : { errorCode }),
    eventType: "AwsVpceEvent",
    vpcEndpointId: "vpce-03y53r4ukkkuygzg0",
    eventCategory: "NetworkActivity",
  });
}

export function insight(): SelectorRecord {
  return {
    eventVersion: "1.08",
    eventTime: "2024-05-01T12:00:00Z",
    awsRegion: "us-east-2",
    eventID: "0b3e5a42-0000-4000-8000-00000000ffff",
    eventType: "AwsCloudTrailInsight",
    recipientAccountId: ACCOUNT,
    sharedEventID: "0b3e5a42-0000-4000-8000-00000000eeee",
    insightDetails: { state: "Start", eventSource: "ec2.amazonaws.com", eventName: "RunInstances" },
    eventCategory: "Insight",
  };
}

/** A spread of records every selector test runs over. */
export const SAMPLE_RECORDS: SelectorRecord[] = [
  management("ec2.amazonaws.com", "DescribeInstances", true),
  management("ec2.amazonaws.com", "TerminateInstances", false),
  management("kms.amazonaws.com", "Decrypt", true),
  management("kms.amazonaws.com", "CreateKey", false),
  management("rdsdata.amazonaws.com", "ExecuteStatement", false),
  management("iam.amazonaws.com", "CreateUser", false, { awsRegion: "us-east-1" }),
  management("signin.amazonaws.com", "ConsoleLogin", undefined, { eventType: "AwsConsoleSignIn" }),
  management("cloudtrail.amazonaws.com", "CreateTrail", false),
  s3Object("PutObject", "bucket-1", "photo.jpg", false),
  s3Object("GetObject", "bucket-1", "photo.jpg", true),
  s3Object("PutObject", "bucket-2", "photo.jpg", false),
  s3Object("PutObject", "bucket-10", "photo.jpg", false),
  s3Object("DeleteObject", "bucket-3", "my-images/example.jpg", false),
  s3Object("DeleteObject", "bucket-3", "my-videos/example.avi", false),
  s3Object("GetObject", "bucket-3", "my-images/example.jpg", true),
  lambdaInvoke("arn:aws:lambda:us-west-2:111111111111:function:MyLambdaFunction"),
  lambdaInvoke("arn:aws:lambda:us-west-2:111111111111:function:MyOtherLambdaFunction"),
  lambdaInvoke("arn:aws:lambda:us-west-2:111111111111:function:helloworld"),
  lambdaInvoke("arn:aws:lambda:us-west-2:111111111111:function:helloworld2"),
  dynamoItem("GetItem", "arn:aws:dynamodb:us-east-2:111122223333:table/Orders", true),
  dynamoItem("PutItem", "arn:aws:dynamodb:us-east-2:111122223333:table/Orders", false),
  dynamoItem("PutItem", "arn:aws:dynamodb:us-east-2:111122223333:table/Customers", false),
  networkActivity("kms.amazonaws.com", "Decrypt", "VpceAccessDenied"),
  networkActivity("s3.amazonaws.com", "ListBuckets"),
  insight(),
  {
    eventVersion: "1.0",
    eventSource: "ec2.amazonaws.com",
    eventName: "StartInstances",
    awsRegion: "us-east-2",
  },
  {},
];

/** The shared corpus sits beside the repository clone (CI copies it there too). */
export const CORPUS_URL = new URL("../../../shared/corpus/aws-docs-records.json", import.meta.url);

export function loadCorpus(): SelectorRecord[] | undefined {
  if (!existsSync(CORPUS_URL)) return undefined;
  return JSON.parse(readFileSync(CORPUS_URL, "utf8")) as SelectorRecord[];
}
