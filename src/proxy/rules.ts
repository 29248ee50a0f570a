import type { MemberTransform, TimestampStyle } from "./record-members.ts";

/**
 * CloudTrail's rendering rules that no service model carries (recording-other-services.md §2),
 * as data: one entry per service (botocore name), read by render.ts. Evidence for each value is
 * in the spec; entries marked there as unverified are kept to the documented pattern.
 */

/** How a data event's resources are named. */
export type DataResource =
  | "s3Object"
  | "s3Bucket"
  | "dynamodbTable"
  | "dynamodbStream"
  | "lambdaFunction"
  | "snsTopic"
  | "sqsQueue"
  | "eventBus";

/** EC2's own request forms for an operation (observed in real records). */
export interface Ec2RequestForm {
  /** Record keys moved into `<into>.items[0]` (RunInstances' instancesSet). */
  fold?: { into: string; keys: readonly string[] };
  /** Record keys written as `{}` when the request sent none. */
  emptyWhenAbsent?: readonly string[];
  /** Lists of ids EC2 writes as `{"<into>": {"items": [{"<key>": id}, …]}}` (StartInstances' instancesSet). */
  itemSets?: Readonly<Record<string, { into: string; key: string }>>;
  /** Record keys EC2 writes under another name (ModifySnapshotAttribute's `attributeType`). */
  rename?: Readonly<Record<string, string>>;
  /** The raw form: `{"<Op>Request": {"<Param>": {"content": v, "tag": n}}}` and `{"<Op>Response": {…}}`. */
  raw?: boolean;
}

export interface ServiceRules {
  /** eventSource when it is not `<signingName>.amazonaws.com`. */
  eventSource?: string;
  /** eventName per operation when it is not the operation name. */
  eventNames?: Readonly<Record<string, string>>;
  /**
   * Lambda's versioned event names: the date of the operation's URI (`/2015-03-31/…` →
   * `20150331`) appended, with `v2` after it for the operations listed; `except` keep their name.
   */
  uriDateSuffix?: { v2: readonly string[]; except: readonly string[] };
  /** readOnly per operation, winning over the name heuristic. */
  readOnly?: Readonly<Record<string, boolean>>;
  /** Data events: operation → the kind of resource its record names. */
  dataEvents?: Readonly<Record<string, DataResource>>;
  /** Read-only operations whose records still carry responseElements (sts:AssumeRole). */
  keepsResponse?: readonly string[];
  /** Operations whose responseElements are always null (secretsmanager:GetSecretValue). */
  nullResponse?: readonly string[];
  /** Literal written for sensitive members; default: the member is left out. */
  sensitiveAs?: string;
  /** Per operation, members (model names) replaced by a literal in requests and responses. */
  hidden?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Top-level request member rewrites, for all operations of the service. */
  requestTransforms?: Readonly<Record<string, MemberTransform>>;
  timestamps?: TimestampStyle;
  /** The record carries `apiVersion` (DynamoDB). */
  apiVersion?: boolean;
  /** Region the records are written in, whatever the request's scope (IAM: us-east-1). */
  awsRegion?: string;
  /** Denials keep the request's parameters (EC2); elsewhere a 401/403 nulls them. */
  deniedKeepsParameters?: boolean;
  ec2Forms?: Readonly<Record<string, Ec2RequestForm>>;
}

const HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";

const INSTANCES_SET = { instanceId: { into: "instancesSet", key: "instanceId" } } as const;

const DYNAMODB_ITEM_OPERATIONS = [
  "BatchExecuteStatement",
  "BatchGetItem",
  "BatchWriteItem",
  "DeleteItem",
  "ExecuteStatement",
  "ExecuteTransaction",
  "GetItem",
  "PutItem",
  "Query",
  "Scan",
  "TransactGetItems",
  "TransactWriteItems",
  "UpdateItem",
] as const;

const S3_OBJECT_OPERATIONS = [
  "AbortMultipartUpload",
  "CompleteMultipartUpload",
  "CopyObject",
  "CreateMultipartUpload",
  "DeleteObject",
  "DeleteObjects",
  "GetObject",
  "GetObjectAcl",
  "GetObjectAttributes",
  "GetObjectTagging",
  "GetObjectLegalHold",
  "GetObjectRetention",
  "HeadObject",
  "ListParts",
  "PutObject",
  "PutObjectAcl",
  "PutObjectTagging",
  "PutObjectLegalHold",
  "PutObjectRetention",
  "DeleteObjectTagging",
  "RestoreObject",
  "SelectObjectContent",
  "UploadPart",
  "UploadPartCopy",
] as const;

const S3_BUCKET_DATA_OPERATIONS = [
  "ListObjects",
  "ListObjectsV2",
  "ListObjectVersions",
  "HeadBucket",
] as const;

function each<T>(names: readonly string[], value: T): Record<string, T> {
  return Object.fromEntries(names.map((n) => [n, value]));
}

export const SERVICE_RULES: Readonly<Record<string, ServiceRules>> = {
  s3: {
    eventNames: {
      ListObjectsV2: "ListObjects",
      PutBucketLifecycleConfiguration: "PutBucketLifecycle",
      GetBucketLifecycleConfiguration: "GetBucketLifecycle",
      PutBucketNotificationConfiguration: "PutBucketNotification",
      GetBucketNotificationConfiguration: "GetBucketNotification",
      PutPublicAccessBlock: "PutBucketPublicAccessBlock",
      GetPublicAccessBlock: "GetBucketPublicAccessBlock",
      DeletePublicAccessBlock: "DeleteBucketPublicAccessBlock",
    },
    dataEvents: { ...each(S3_OBJECT_OPERATIONS, "s3Object"), ...each(S3_BUCKET_DATA_OPERATIONS, "s3Bucket") },
    readOnly: { ListParts: true, SelectObjectContent: true, RestoreObject: false },
    deniedKeepsParameters: true,
  },
  s3control: {
    eventSource: "s3.amazonaws.com",
    eventNames: {
      DeletePublicAccessBlock: "DeleteAccountPublicAccessBlock",
      GetPublicAccessBlock: "GetAccountPublicAccessBlock",
      PutPublicAccessBlock: "PutAccountPublicAccessBlock",
    },
  },
  dynamodb: {
    apiVersion: true,
    nullResponse: DYNAMODB_ITEM_OPERATIONS,
    dataEvents: each(DYNAMODB_ITEM_OPERATIONS, "dynamodbTable"),
    readOnly: { ExecuteStatement: false, BatchExecuteStatement: false, ExecuteTransaction: false },
    // Keys unwrapped, no non-key value anywhere (spec §2.6): items and the legacy conditions
    // (Expected, QueryFilter, ScanFilter, whose values are not keys) reduced to attribute names.
    requestTransforms: {
      Key: "unwrapAttributes",
      Keys: "unwrapAttributeList",
      Item: "attributeNames",
      ExpressionAttributeValues: "omit",
      AttributeUpdates: "attributeNames",
      Expected: "attributeNames",
      QueryFilter: "attributeNames",
      ScanFilter: "attributeNames",
    },
  },
  dynamodbstreams: {
    eventSource: "dynamodb.amazonaws.com",
    apiVersion: true,
    dataEvents: { GetRecords: "dynamodbStream", GetShardIterator: "dynamodbStream" },
  },
  lambda: {
    uriDateSuffix: {
      v2: ["AddPermission", "RemovePermission", "UpdateFunctionCode", "UpdateFunctionConfiguration"],
      except: ["Invoke", "InvokeAsync", "InvokeWithResponseStream"],
    },
    dataEvents: { Invoke: "lambdaFunction", InvokeWithResponseStream: "lambdaFunction" },
    nullResponse: ["Invoke", "InvokeWithResponseStream", "InvokeAsync"],
    readOnly: { Invoke: false },
    timestamps: "iso",
  },
  sts: {
    readOnly: {
      AssumeRole: true,
      GetCallerIdentity: true,
      GetFederationToken: false,
      GetSessionToken: false,
    },
    keepsResponse: ["AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot"],
  },
  iam: { timestamps: "iam", awsRegion: "us-east-1", readOnly: { UpdateAssumeRolePolicy: false } },
  ec2: {
    deniedKeepsParameters: true,
    sensitiveAs: "<sensitiveDataRemoved>",
    readOnly: { GetPasswordData: true },
    ec2Forms: {
      RunInstances: {
        fold: { into: "instancesSet", keys: ["imageId", "minCount", "maxCount", "keyName"] },
        emptyWhenAbsent: ["blockDeviceMapping"],
      },
      AuthorizeSecurityGroupIngress: { emptyWhenAbsent: ["ipPermissions"] },
      DeleteFlowLogs: { raw: true },
      StartInstances: { itemSets: INSTANCES_SET },
      StopInstances: { itemSets: INSTANCES_SET },
      RebootInstances: { itemSets: INSTANCES_SET },
      TerminateInstances: { itemSets: INSTANCES_SET },
      DescribeInstances: {
        itemSets: INSTANCES_SET,
        rename: { filter: "filterSet" },
        emptyWhenAbsent: ["filterSet", "instancesSet"],
      },
      ModifySnapshotAttribute: { rename: { attribute: "attributeType" } },
    },
  },
  ssm: {
    sensitiveAs: HIDDEN,
    readOnly: { GetParameters: true, GetParameter: true, StartSession: false },
    hidden: { StartSession: { TokenValue: "Value hidden due to security reasons." } },
  },
  secretsmanager: {
    readOnly: { GetSecretValue: true, BatchGetSecretValue: true },
    nullResponse: ["GetSecretValue", "BatchGetSecretValue"],
  },
  kms: {
    readOnly: { Decrypt: true, Encrypt: true, GenerateDataKey: true, GenerateDataKeyWithoutPlaintext: true },
  },
  sns: {
    hidden: { Publish: { Message: HIDDEN, Subject: HIDDEN, MessageAttributes: HIDDEN } },
    dataEvents: { Publish: "snsTopic", PublishBatch: "snsTopic" },
  },
  // EventBridge's PutEvents is a data event on the buses it sends to (AWS's serverless pattern
  // "EventBridge data plane logging with CloudTrail" selects it by resources.type).
  events: { dataEvents: { PutEvents: "eventBus" } },
  sqs: {
    dataEvents: each(
      [
        "SendMessage",
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
      ],
      "sqsQueue",
    ),
  },
  rolesanywhere: { sensitiveAs: HIDDEN, timestamps: "iso" },
  transfer: { sensitiveAs: HIDDEN },
  "ec2-instance-connect": { readOnly: { SendSSHPublicKey: false } },
  bedrock: { readOnly: { InvokeModel: true } },
  "bedrock-runtime": {
    eventSource: "bedrock.amazonaws.com",
    readOnly: { InvokeModel: true, Converse: true },
  },
  "rds-data": { eventSource: "rdsdata.amazonaws.com" },
  organizations: { awsRegion: "us-east-1" },
  route53: { awsRegion: "us-east-1" },
  cloudfront: { awsRegion: "us-east-1" },
};

/** Operation-name prefixes of read-only calls (spec §2.4 heuristic). */
export const READ_ONLY_PREFIXES = [
  "Get",
  "List",
  "Describe",
  "Head",
  "BatchGet",
  "Lookup",
  "Search",
  "Select",
  "Scan",
  "Query",
  "Check",
  "Test",
  "Validate",
  "Estimate",
  "Preview",
  "Simulate",
  "Detect",
] as const;
