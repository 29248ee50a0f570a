import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateUserCommand, IAMClient, ListUsersCommand } from "@aws-sdk/client-iam";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateFunctionCommand, LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { NodeSha256 } from "../../src/wire/sigv4.ts";
import { DEV_KEY, type ProxyRig, REGION, startProxyRig } from "../support/proxy.ts";

/**
 * JSON, query and rest-json services through the proxy to moto with their official clients: the
 * answers are moto's, refusals are in each service's own format, and the calls are in event history.
 */

let rig: ProxyRig;
const clients: { destroy(): void }[] = [];

function client<T extends { destroy(): void }>(
  Client: new (config: Record<string, unknown>) => T,
  credentials: { accessKeyId: string; secretAccessKey: string } = DEV_KEY,
): T {
  const c = new Client({ endpoint: rig.endpoint, region: REGION, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
}

async function history(): Promise<{ name: string; source: string; record: Record<string, unknown> }[]> {
  const api = httpClient({ endpoint: rig.endpoint, clientConfig: { maxAttempts: 1 } });
  clients.push(api.client);
  const found = await api.lookupEvents({ MaxResults: 50 });
  return (found.Events ?? []).map((e) => ({
    name: e.EventName ?? "",
    source: e.EventSource ?? "",
    record: JSON.parse(e.CloudTrailEvent ?? "{}") as Record<string, unknown>,
  }));
}

/** One signed JSON call by hand, to compare raw bytes through the proxy and straight to moto. */
async function rawJson(
  endpoint: string,
  target: string,
  body: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(endpoint);
  const headers = {
    host: url.host,
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": target,
  };
  const signer = new SignatureV4({
    credentials: DEV_KEY,
    region: REGION,
    service: "dynamodb",
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: "/",
    query: {},
    headers,
    body,
  });
  const res = await fetch(url, { method: "POST", headers: signed.headers as Record<string, string>, body });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  rig = await startProxyRig();
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await rig?.close();
});

describe("json services", () => {
  it("DynamoDB: tables and items through the proxy, answers identical to moto's", async () => {
    const ddb = client(DynamoDBClient);
    await ddb.send(
      new CreateTableCommand({
        TableName: "Music",
        KeySchema: [{ AttributeName: "Artist", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "Artist", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    await ddb.send(new PutItemCommand({ TableName: "Music", Item: { Artist: { S: "No One You Know" } } }));
    const got = await ddb.send(
      new GetItemCommand({ TableName: "Music", Key: { Artist: { S: "No One You Know" } } }),
    );
    expect(got.Item?.Artist?.S).toBe("No One You Know");
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toEqual(["Music"]);

    const body = JSON.stringify({ TableName: "Music", Key: { Artist: { S: "No One You Know" } } });
    const viaProxy = await rawJson(rig.endpoint, "DynamoDB_20120810.GetItem", body);
    const direct = await rawJson(rig.moto.endpoint, "DynamoDB_20120810.GetItem", body);
    expect(viaProxy).toEqual(direct);

    const names = (await history()).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["CreateTable", "ListTables"]));
  });

  it("DynamoDB refuses a wrong secret with InvalidSignatureException, unrecorded", async () => {
    const before = (await history()).filter((e) => e.source !== "cloudtrail.amazonaws.com").length;
    await expect(
      client(DynamoDBClient, { accessKeyId: "test", secretAccessKey: "wrong" }).send(
        new ListTablesCommand({}),
      ),
    ).rejects.toMatchObject({ name: "InvalidSignatureException", $metadata: { httpStatusCode: 400 } });
    await expect(
      client(DynamoDBClient, { accessKeyId: "NOSUCHKEY", secretAccessKey: "x" }).send(
        new ListTablesCommand({}),
      ),
    ).rejects.toMatchObject({ name: "UnrecognizedClientException" });
    expect((await history()).filter((e) => e.source !== "cloudtrail.amazonaws.com").length).toBe(before);
  });

  it("SSM, KMS, Secrets Manager and SQS answer through the proxy", async () => {
    const ssm = client(SSMClient);
    await ssm.send(new PutParameterCommand({ Name: "/app/db", Value: "v1", Type: "String" }));
    expect((await ssm.send(new GetParameterCommand({ Name: "/app/db" }))).Parameter?.Value).toBe("v1");
    expect((await client(KMSClient).send(new CreateKeyCommand({}))).KeyMetadata?.KeyId).toBeTruthy();
    const sm = client(SecretsManagerClient);
    await sm.send(new CreateSecretCommand({ Name: "db-password", SecretString: "hunter2" }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: "db-password" }))).SecretString).toBe(
      "hunter2",
    );
    expect((await client(SQSClient).send(new CreateQueueCommand({ QueueName: "jobs" }))).QueueUrl).toContain(
      "jobs",
    );
  });
});

describe("query services", () => {
  it("STS, IAM and SNS answer through the proxy, with the caller's identity", async () => {
    const who = await client(STSClient).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBeTruthy();
    const iam = client(IAMClient);
    await iam.send(new CreateUserCommand({ UserName: "alice" }));
    expect((await iam.send(new ListUsersCommand({}))).Users?.map((u) => u.UserName)).toContain("alice");
    expect((await client(SNSClient).send(new CreateTopicCommand({ Name: "alerts" }))).TopicArn).toContain(
      "alerts",
    );

    const created = (await history()).find((e) => e.name === "CreateUser");
    expect(created?.source).toBe("iam.amazonaws.com");
    expect(created?.record.userIdentity).toMatchObject({
      type: "IAMUser",
      userName: "test",
      accessKeyId: "test",
    });
  });

  it("STS and IAM refuse a wrong secret with SignatureDoesNotMatch (403)", async () => {
    const wrong = { accessKeyId: "test", secretAccessKey: "wrong" };
    await expect(client(STSClient, wrong).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(client(IAMClient, wrong).send(new ListUsersCommand({}))).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
  });

  it("forwards an unsigned AssumeRoleWithWebIdentity and answers moto's credentials", async () => {
    const sts = new STSClient({
      endpoint: rig.endpoint,
      region: REGION,
      maxAttempts: 1,
      // no credentials at all: the SDK sends this operation unsigned
      credentials: async () => {
        throw new Error("unsigned operation asked for credentials");
      },
    });
    clients.push(sts);
    const out = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: "arn:aws:iam::123456789012:role/web",
        RoleSessionName: "web-session",
        WebIdentityToken: "token",
      }),
    );
    expect(out.Credentials?.AccessKeyId).toBeTruthy();
    const recorded = (await history()).find((e) => e.name === "AssumeRoleWithWebIdentity");
    // an unsigned call: no key, as AWS records anonymous callers
    expect(recorded?.record.userIdentity).toEqual({
      type: "AWSAccount",
      principalId: "",
      accountId: "anonymous",
    });
  });
});

describe("requests the models cannot place", () => {
  it("are forwarded and answered, counted, and not recorded", async () => {
    const before = rig.server.app.proxyStats()!;
    const call = async (endpoint: string) => {
      const url = new URL(endpoint);
      const signer = new SignatureV4({
        credentials: DEV_KEY,
        region: REGION,
        service: "nosuchservice",
        sha256: NodeSha256,
      });
      const body = "{}";
      const headers = {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "NoSuchService_20990101.DoThing",
      };
      const signed = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        query: {},
        headers,
        body,
      });
      const res = await fetch(url, {
        method: "POST",
        headers: signed.headers as Record<string, string>,
        body,
      });
      return { status: res.status, body: await res.text() };
    };
    // moto's own answer, whatever it is, comes back as moto gave it
    expect(await call(rig.endpoint)).toEqual(await call(rig.moto.endpoint));
    const after = rig.server.app.proxyStats()!;
    expect(after.unplaced).toBe(before.unplaced + 1);
    expect(after.recorded).toBe(before.recorded);
  });
});

describe("rest-json services", () => {
  it("Lambda answers through the proxy", async () => {
    const lambda = client(LambdaClient);
    expect((await lambda.send(new ListFunctionsCommand({}))).Functions).toEqual([]);
    await expect(
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: "MyLambdaFunction",
          Role: "arn:aws:iam::123456789012:role/nope",
          Runtime: "python3.12",
          Handler: "index.handler",
          Code: { ZipFile: Buffer.from("not a zip") },
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: expect.any(Number) } });
  });
});
