import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  IAMClient,
  ListUsersCommand,
} from "@aws-sdk/client-iam";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { CreateTopicCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  GetParametersCommand,
  PutParameterCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RenderedCall } from "../../src/proxy/call.ts";
import { createCallRenderer, type ProxyCallRenderer } from "../../src/proxy/render.ts";
import { type S3TestServer, startMoto } from "../support/s3-servers.ts";
import { startTap, type Tap } from "./tap.ts";

/**
 * Rendering of real answers: official clients call moto through a tap; each request and moto's
 * answer are rendered as the proxy will, and the record fields are checked against the rules of
 * recording-other-services.md §2.
 */

const ACCOUNT = "123456789012";
let moto: S3TestServer;
let tap: Tap;
let renderer: ProxyCallRenderer;

beforeAll(async () => {
  moto = await startMoto();
  tap = await startTap(moto.endpoint);
  renderer = createCallRenderer();
}, 60_000);
afterAll(async () => {
  await tap?.stop();
  await moto?.stop();
});

const config = () => ({
  endpoint: tap.endpoint,
  region: "eu-west-1",
  credentials: moto.credentials,
  maxAttempts: 1,
});

// biome-ignore lint/suspicious/noExplicitAny: any official client and command
type Client = { send(command: any): Promise<unknown> };

/** The rendered record fields of the one call a command makes. */
async function record(client: Client, command: unknown): Promise<RenderedCall> {
  await client.send(command).catch(() => undefined);
  const exchanges = tap.take();
  expect(exchanges.length).toBe(1);
  const { req, answer } = exchanges[0]!;
  const placed = renderer.place(req);
  const rendered = renderer.render(placed, req, answer, { accountId: ACCOUNT });
  expect(rendered).toBeDefined();
  return rendered!;
}

describe("S3 against moto", () => {
  const s3 = () => new S3Client({ ...config(), forcePathStyle: true });
  it("object calls are data events naming the object and its bucket", async () => {
    await record(
      s3(),
      new CreateBucketCommand({
        Bucket: "bucket-1",
        CreateBucketConfiguration: { LocationConstraint: "eu-west-1" },
      }),
    );
    const put = await record(
      s3(),
      new PutObjectCommand({ Bucket: "bucket-1", Key: "a/b.txt", Body: "hello" }),
    );
    expect(put).toMatchObject({
      eventSource: "s3.amazonaws.com",
      eventName: "PutObject",
      readOnly: false,
      category: "Data",
    });
    expect(put.requestParameters).toMatchObject({
      bucketName: "bucket-1",
      key: "a/b.txt",
      "x-id": "PutObject",
    });
    expect(put.resources).toEqual([
      { type: "AWS::S3::Object", ARN: "arn:aws:s3:::bucket-1/a/b.txt" },
      { accountId: ACCOUNT, type: "AWS::S3::Bucket", ARN: "arn:aws:s3:::bucket-1" },
    ]);
    expect(put.additionalEventData).toMatchObject({
      SignatureVersion: "SigV4",
      AuthenticationMethod: "AuthHeader",
      bytesTransferredIn: 5,
    });
    const get = await record(s3(), new GetObjectCommand({ Bucket: "bucket-1", Key: "a/b.txt" }));
    expect(get).toMatchObject({
      eventName: "GetObject",
      readOnly: true,
      category: "Data",
      responseElements: null,
    });
    expect(get.additionalEventData).toMatchObject({ bytesTransferredOut: 5 });
  });

  it("errors carry S3's code and message", async () => {
    const missing = await record(s3(), new GetObjectCommand({ Bucket: "bucket-1", Key: "missing" }));
    expect(missing.error).toEqual({ code: "NoSuchKey", message: "The specified key does not exist." });
  });

  it("ListObjectsV2 is logged as ListObjects, a data event on the listed prefix; DeleteObjects logs no keys", async () => {
    const list = await record(s3(), new ListObjectsV2Command({ Bucket: "bucket-1", Prefix: "a/" }));
    expect(list).toMatchObject({ eventName: "ListObjects", readOnly: true, category: "Data" });
    expect(list.requestParameters).toMatchObject({ "list-type": "2", prefix: "a/" });
    expect(list.resources?.[0]).toEqual({ type: "AWS::S3::Object", ARNPrefix: "arn:aws:s3:::bucket-1/a/" });
    const del = await record(
      s3(),
      new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: [{ Key: "a/b.txt" }] } }),
    );
    expect(del.requestParameters).toMatchObject({ bucketName: "bucket-1", delete: "" });
    expect(JSON.stringify(del.requestParameters)).not.toContain("a/b.txt");
  });
});

describe("DynamoDB against moto", () => {
  const ddb = () => new DynamoDBClient(config());
  it("item calls: keys unwrapped, item reduced to its attribute names, apiVersion, the table as resource", async () => {
    const create = await record(
      ddb(),
      new CreateTableCommand({
        TableName: "Music",
        KeySchema: [{ AttributeName: "Artist", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "Artist", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    expect(create).toMatchObject({ eventName: "CreateTable", apiVersion: "2012-08-10" });
    expect(create.category).toBeUndefined();
    expect(create.responseElements?.tableDescription).toMatchObject({ tableName: "Music" });
    const put = await record(
      ddb(),
      new PutItemCommand({
        TableName: "Music",
        Item: { Artist: { S: "No One" }, Album: { S: "x" } },
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    expect(put).toMatchObject({
      eventName: "PutItem",
      readOnly: false,
      category: "Data",
      responseElements: null,
    });
    // the key schema learnt from CreateTable's answer names the item's key, as AWS's record does
    expect(put.requestParameters).toEqual({
      tableName: "Music",
      key: { Artist: "No One" },
      item: ["Artist", "Album"],
      returnConsumedCapacity: "TOTAL",
    });
    expect(put.resources).toEqual([
      {
        accountId: ACCOUNT,
        type: "AWS::DynamoDB::Table",
        ARN: `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/Music`,
      },
    ]);
    const get = await record(
      ddb(),
      new GetItemCommand({ TableName: "Music", Key: { Artist: { S: "No One" } } }),
    );
    expect(get).toMatchObject({
      readOnly: true,
      requestParameters: { tableName: "Music", key: { Artist: "No One" } },
    });
  });
});

describe("IAM and STS against moto", () => {
  const iam = () => new IAMClient(config());
  const sts = () => new STSClient(config());
  it("IAM: us-east-1, tags rebuilt from the query form, IAM's date style, secrets left out", async () => {
    const user = await record(
      iam(),
      new CreateUserCommand({ UserName: "u1", Tags: [{ Key: "team", Value: "a" }] }),
    );
    expect(user).toMatchObject({ eventSource: "iam.amazonaws.com", awsRegion: "us-east-1", readOnly: false });
    expect(user.requestParameters).toEqual({ tags: [{ key: "team", value: "a" }], userName: "u1" });
    expect(String((user.responseElements?.user as Record<string, unknown> | undefined)?.createDate)).toMatch(
      /^[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d:\d\d [AP]M$/,
    );
    const again = await record(iam(), new CreateUserCommand({ UserName: "u1" }));
    expect(again.error?.code).toBe("EntityAlreadyExistsException");
    expect(again.responseElements).toBeNull();
    const key = await record(iam(), new CreateAccessKeyCommand({ UserName: "u1" }));
    expect(key.responseElements?.accessKey).toHaveProperty("accessKeyId");
    expect(key.responseElements?.accessKey).not.toHaveProperty("secretAccessKey");
    const login = await record(
      iam(),
      new CreateLoginProfileCommand({ UserName: "u1", Password: "Secret-123!" }),
    );
    expect(login.requestParameters).toEqual({ userName: "u1" });
    const list = await record(iam(), new ListUsersCommand({}));
    expect(list).toMatchObject({ readOnly: true, requestParameters: null, responseElements: null });
  });

  it("STS: AssumeRole is read-only yet keeps its answer (without the secret), and names the role", async () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/r`;
    const assumed = await record(
      sts(),
      new AssumeRoleCommand({ RoleArn: role, RoleSessionName: "s", DurationSeconds: 900 }),
    );
    expect(assumed).toMatchObject({ eventName: "AssumeRole", readOnly: true });
    expect(assumed.requestParameters).toEqual({ durationSeconds: 900, roleArn: role, roleSessionName: "s" });
    const credentials = assumed.responseElements?.credentials as Record<string, unknown>;
    expect(Object.keys(credentials).sort()).toEqual(["accessKeyId", "expiration", "sessionToken"]);
    expect(String(credentials.expiration)).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d:\d\d [AP]M$/);
    expect(assumed.resources).toEqual([{ ARN: role, accountId: ACCOUNT, type: "AWS::IAM::Role" }]);
    const who = await record(sts(), new GetCallerIdentityCommand({}));
    expect(who).toMatchObject({ readOnly: true, requestParameters: null, responseElements: null });
  });
});

describe("SSM, Secrets Manager, SNS and SQS against moto", () => {
  it("SSM hides sensitive members with AWS's literal; GetParameters names each parameter", async () => {
    const ssm = () => new SSMClient(config());
    const put = await record(
      ssm(),
      new PutParameterCommand({ Name: "/p/1", Value: "v", Type: "SecureString" }),
    );
    expect(put.requestParameters).toMatchObject({ value: "HIDDEN_DUE_TO_SECURITY_REASONS" });
    const get = await record(ssm(), new GetParametersCommand({ Names: ["/p/1"], WithDecryption: true }));
    expect(get).toMatchObject({ readOnly: true, responseElements: null });
    expect(get.resources).toEqual([
      { ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/p/1`, accountId: ACCOUNT },
    ]);
    const send = await record(
      ssm(),
      new SendCommandCommand({
        DocumentName: "AWS-RunShellScript",
        InstanceIds: ["i-1"],
        Parameters: { commands: ["id"] },
      }),
    );
    expect(send.requestParameters).toMatchObject({ parameters: "HIDDEN_DUE_TO_SECURITY_REASONS" });
    expect((send.responseElements?.command as Record<string, unknown> | undefined)?.parameters).toBe(
      "HIDDEN_DUE_TO_SECURITY_REASONS",
    );
  });

  it("Secrets Manager: the secret is left out of CreateSecret, GetSecretValue has no responseElements", async () => {
    const sm = () => new SecretsManagerClient(config());
    const created = await record(sm(), new CreateSecretCommand({ Name: "s1", SecretString: "hunter2" }));
    expect(created.requestParameters).toMatchObject({ name: "s1" });
    expect(created.requestParameters).not.toHaveProperty("secretString");
    const value = await record(sm(), new GetSecretValueCommand({ SecretId: "s1" }));
    expect(value).toMatchObject({
      readOnly: true,
      responseElements: null,
      requestParameters: { secretId: "s1" },
    });
  });

  it("SNS Publish hides the message; SQS SendMessage is a queue data event", async () => {
    const sns = () => new SNSClient(config());
    await record(sns(), new CreateTopicCommand({ Name: "t" }));
    const published = await record(
      sns(),
      new PublishCommand({ TopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:t`, Message: "m" }),
    );
    expect(published).toMatchObject({
      category: "Data",
      requestParameters: { message: "HIDDEN_DUE_TO_SECURITY_REASONS" },
    });
    const sqs = () => new SQSClient(config());
    await record(sqs(), new CreateQueueCommand({ QueueName: "q" }));
    const sent = await record(
      sqs(),
      new SendMessageCommand({ QueueUrl: `${tap.endpoint}/${ACCOUNT}/q`, MessageBody: "b" }),
    );
    expect(sent).toMatchObject({ eventName: "SendMessage", category: "Data" });
    expect(sent.resources).toEqual([
      { accountId: ACCOUNT, type: "AWS::SQS::Queue", ARN: `arn:aws:sqs:eu-west-1:${ACCOUNT}:q` },
    ]);
  });
});
