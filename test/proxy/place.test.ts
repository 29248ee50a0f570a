import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateUserCommand, GetUserCommand, IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { DecryptCommand, KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxiedRequest, UpstreamAnswer } from "../../src/proxy/call.ts";
import { loadModelTable } from "../../src/proxy/models.ts";
import { createPlacer, type Placer } from "../../src/proxy/place.ts";
import { createCallRenderer } from "../../src/proxy/render.ts";
import { startTap, type Tap } from "./tap.ts";

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "secret" };
let tap: Tap;
let placer: Placer;

beforeAll(async () => {
  placer = createPlacer(loadModelTable());
  tap = await startTap(undefined);
});
afterAll(async () => {
  await tap?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: any official client and command
type Sendable = { send(command: any): Promise<unknown>; destroy(): void };

/** Sends one command through the tap and places the request the client sent. */
async function placeOf(client: Sendable, command: unknown) {
  await client.send(command).catch(() => undefined);
  client.destroy();
  const sent = tap.take();
  expect(sent.length).toBeGreaterThan(0);
  const { req } = sent[0]!;
  const { service, operation, protocol } = placer.place(req);
  return { service, operation, protocol };
}

const common = () => ({ endpoint: tap.endpoint, region: "eu-west-1", credentials, maxAttempts: 1 });

describe("placement: json (X-Amz-Target)", () => {
  it.each([
    [
      "dynamodb",
      () => new DynamoDBClient(common()),
      new PutItemCommand({ TableName: "t", Item: { k: { S: "v" } } }),
      "PutItem",
    ],
    [
      "dynamodb",
      () => new DynamoDBClient(common()),
      new GetItemCommand({ TableName: "t", Key: { k: { S: "v" } } }),
      "GetItem",
    ],
    ["dynamodb", () => new DynamoDBClient(common()), new ListTablesCommand({}), "ListTables"],
    [
      "kms",
      () => new KMSClient(common()),
      new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2]) }),
      "Decrypt",
    ],
    ["kms", () => new KMSClient(common()), new ListKeysCommand({}), "ListKeys"],
    ["ssm", () => new SSMClient(common()), new GetParametersCommand({ Names: ["a"] }), "GetParameters"],
    [
      "secretsmanager",
      () => new SecretsManagerClient(common()),
      new GetSecretValueCommand({ SecretId: "s" }),
      "GetSecretValue",
    ],
    [
      "sqs",
      () => new SQSClient(common()),
      new SendMessageCommand({ QueueUrl: "http://x/1/q", MessageBody: "m" }),
      "SendMessage",
    ],
  ])("%s %s", async (service, client, command, operation) => {
    expect(await placeOf(client(), command)).toEqual({ service, operation, protocol: "json" });
  });
});

describe("placement: query (Action / Version)", () => {
  it.each([
    ["sts", () => new STSClient(common()), new GetCallerIdentityCommand({}), "GetCallerIdentity"],
    [
      "sts",
      () => new STSClient(common()),
      new AssumeRoleCommand({ RoleArn: "arn:aws:iam::1:role/r", RoleSessionName: "s" }),
      "AssumeRole",
    ],
    [
      "iam",
      () => new IAMClient({ ...common(), region: "us-east-1" }),
      new CreateUserCommand({ UserName: "u" }),
      "CreateUser",
    ],
    ["iam", () => new IAMClient({ ...common(), region: "us-east-1" }), new GetUserCommand({}), "GetUser"],
    ["iam", () => new IAMClient({ ...common(), region: "us-east-1" }), new ListUsersCommand({}), "ListUsers"],
    [
      "sns",
      () => new SNSClient(common()),
      new PublishCommand({ TopicArn: "arn:aws:sns:eu-west-1:1:t", Message: "m" }),
      "Publish",
    ],
  ])("%s %s", async (service, client, command, operation) => {
    expect(await placeOf(client(), command)).toEqual({ service, operation, protocol: "query" });
  });

  it("a GET with Action in the query string, and SQS's legacy query form", () => {
    const head = {
      method: "GET",
      path: "/",
      headers: { host: "sts.amazonaws.com" },
      body: undefined,
      region: "us-east-1",
    };
    expect(
      placer.place({ ...head, query: "Action=GetCallerIdentity&Version=2011-06-15", signingName: "sts" }),
    ).toMatchObject({ service: "sts", operation: "GetCallerIdentity", protocol: "query" });
    const form = new TextEncoder().encode("Action=SendMessage&Version=2012-11-05&QueueUrl=q&MessageBody=m");
    expect(
      placer.place({
        ...head,
        method: "POST",
        query: "",
        body: form,
        signingName: "sqs",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
    ).toMatchObject({ service: "sqs", operation: "SendMessage" });
  });

  it("ELB's two APIs share a signing name and differ by Version", () => {
    const form = (v: string) => new TextEncoder().encode(`Action=DescribeLoadBalancers&Version=${v}`);
    const head = {
      method: "POST",
      path: "/",
      query: "",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      region: "us-east-1",
      signingName: "elasticloadbalancing",
    };
    expect(placer.place({ ...head, body: form("2012-06-01") }).service).toBe("elb");
    expect(placer.place({ ...head, body: form("2015-12-01") }).service).toBe("elbv2");
  });

  it("EC2 is the ec2 protocol", () => {
    const body = new TextEncoder().encode("Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1");
    expect(
      placer.place({
        method: "POST",
        path: "/",
        query: "",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
        region: "us-east-1",
        signingName: "ec2",
      }),
    ).toMatchObject({ service: "ec2", operation: "DescribeInstances", protocol: "ec2" });
  });
});

describe("placement: signing names shared by several models (spec §1.2)", () => {
  const signed = (
    signingName: string,
    host: string,
    extra: Partial<ProxiedRequest> = {},
  ): ProxiedRequest => ({
    method: "POST",
    path: "/",
    query: "",
    headers: { host },
    body: undefined,
    region: "eu-west-1",
    signingName,
    ...extra,
  });
  const form = (text: string) => ({
    headers: { host: "rds.eu-west-1.amazonaws.com", "content-type": "application/x-www-form-urlencoded" },
    body: new TextEncoder().encode(text),
  });
  const target = (host: string, value: string) => ({
    headers: { host, "x-amz-target": value, "content-type": "application/x-amz-json-1.0" },
  });

  it.each([
    ["rds", signed("rds", "", form("Action=DescribeDBClusters&Version=2014-10-31")), "DescribeDBClusters"],
    [
      "dynamodbstreams",
      signed(
        "dynamodb",
        "",
        target("streams.dynamodb.eu-west-1.amazonaws.com", "DynamoDBStreams_20120810.GetRecords"),
      ),
      "GetRecords",
    ],
    [
      "timestream-query",
      signed(
        "timestream",
        "",
        target("query.timestream.eu-west-1.amazonaws.com", "Timestream_20181101.DescribeEndpoints"),
      ),
      "DescribeEndpoints",
    ],
    [
      "timestream-write",
      signed(
        "timestream",
        "",
        target("ingest.timestream.eu-west-1.amazonaws.com", "Timestream_20181101.DescribeEndpoints"),
      ),
      "DescribeEndpoints",
    ],
    [
      "es",
      signed("es", "es.eu-west-1.amazonaws.com", { method: "GET", path: "/2015-01-01/domain" }),
      "ListDomainNames",
    ],
    [
      "opensearch",
      signed("es", "es.eu-west-1.amazonaws.com", { method: "GET", path: "/2021-01-01/domain" }),
      "ListDomainNames",
    ],
    [
      "apigateway",
      signed("apigateway", "apigateway.eu-west-1.amazonaws.com", { method: "GET", path: "/restapis" }),
      "GetRestApis",
    ],
    [
      "apigatewayv2",
      signed("apigateway", "apigateway.eu-west-1.amazonaws.com", { method: "GET", path: "/v2/apis" }),
      "GetApis",
    ],
    [
      "sesv2",
      signed("ses", "email.eu-west-1.amazonaws.com", { method: "GET", path: "/v2/email/identities" }),
      "ListEmailIdentities",
    ],
    [
      "bedrock-runtime",
      signed("bedrock", "bedrock-runtime.eu-west-1.amazonaws.com", { path: "/model/m/invoke" }),
      "InvokeModel",
    ],
  ])("%s %s", (service, req, operation) => {
    expect(placer.place(req)).toMatchObject({ service, operation });
  });
});

describe("placement never throws", () => {
  it.each([
    [
      {
        method: "GET",
        path: "/",
        query: "",
        headers: {},
        body: undefined,
        region: "us-east-1",
        signingName: undefined,
      },
    ],
    [
      {
        method: "POST",
        path: "/",
        query: "",
        headers: { "x-amz-target": "Nope.Op" },
        body: undefined,
        region: "us-east-1",
        signingName: "x",
      },
    ],
    [
      {
        method: "POST",
        path: "/%zz/",
        query: "%%",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new Uint8Array([0xff]),
        region: "r",
        signingName: "sts",
      },
    ],
  ])("%o", (req) => {
    const placed = placer.place(req);
    expect(placed.service === "unknown" || placed.operation === undefined).toBe(true);
  });
});

describe("fuzzed requests never throw", () => {
  it("random heads and bodies go through place, keeps* and render", () => {
    const renderer = createCallRenderer(placer.table);
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(items: readonly T[]): T => items[rand(items.length)]!;
    const bytes = () => Uint8Array.from({ length: rand(64) }, () => rand(256));
    const texts = [
      "",
      "{}",
      '{"TableName":1}',
      "Action=CreateUser&Version=2010-05-08&Tags.member.x.Key=1",
      "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i&Filter.1.Name",
      "<a><b>",
      "<Tagging><TagSet><Tag/></TagSet></Tagging>",
      "[1,2]",
      "null",
    ];
    for (let i = 0; i < 2000; i++) {
      const body = rand(2) === 0 ? bytes() : new TextEncoder().encode(pick(texts));
      const req: ProxiedRequest = {
        method: pick(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "weird"]),
        path: pick([
          "/",
          "/b",
          "/b/k",
          "/%zz",
          "/2015-03-31/functions/f/invocations",
          "/service/X/operation/Y",
          "//",
          "/v20180820/x",
        ]),
        query: pick([
          "",
          "uploads",
          "x-id=PutObject",
          "list-type=2",
          "Action=GetCallerIdentity&Version=2011-06-15",
          "%%",
          "a=b&a=c",
        ]),
        headers: {
          host: pick([
            "",
            "b.s3.amazonaws.com",
            "127.0.0.1:1",
            "[::1]:5",
            "x.localhost",
            "sts.amazonaws.com",
          ]),
          "content-type": pick([
            "",
            "application/x-www-form-urlencoded",
            "application/x-amz-json-1.0",
            "application/cbor",
          ]),
          ...(rand(3) === 0
            ? { "x-amz-target": pick(["DynamoDB_20120810.PutItem", "Nope", ".", "AmazonSSM."]) }
            : {}),
          ...(rand(4) === 0 ? { "smithy-protocol": "rpc-v2-cbor" } : {}),
        },
        body,
        region: pick(["us-east-1", ""]),
        signingName: pick([undefined, "s3", "dynamodb", "sts", "iam", "ec2", "lambda", "monitoring", "nope"]),
      };
      const answer: UpstreamAnswer = {
        status: pick([200, 204, 400, 403, 404, 500]),
        headers: pick<Record<string, string>>([
          {},
          { "x-amzn-errortype": "X:y" },
          { "content-length": "zz" },
        ]),
        body: rand(2) === 0 ? bytes() : new TextEncoder().encode(pick(texts)),
      };
      expect(() => {
        renderer.keepsRequestBody(req);
        const placed = renderer.place(req);
        renderer.keepsResponseBody(placed, answer);
        renderer.render(placed, req, answer, { accountId: "123456789012" });
      }).not.toThrow();
    }
  });
});

describe("members the models do not know", () => {
  it("numbers and booleans are logged (as AWS logs what newer clients send); unknown strings are not", () => {
    const renderer = createCallRenderer(placer.table);
    const req: ProxiedRequest = {
      method: "POST",
      path: "/",
      query: "",
      headers: { "x-amz-target": "AmazonSSM.SendCommand", "content-type": "application/x-amz-json-1.1" },
      body: new TextEncoder().encode(
        JSON.stringify({ DocumentName: "d", InstanceIds: ["i-1"], Interactive: false, NewToken: "s3cr3t" }),
      ),
      region: "eu-west-1",
      signingName: "ssm",
    };
    const r = renderer.render(renderer.place(req), req, { status: 200, headers: {}, body: undefined });
    expect(r?.requestParameters).toEqual({ documentName: "d", instanceIds: ["i-1"], interactive: false });
  });
});
