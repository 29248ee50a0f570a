import { CreateKeyCommand, DisableKeyCommand, EnableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { POLICY_MAX_AGE_MS } from "../../src/pipeline/delivery-policy.ts";
import { ACCOUNT, type CloudTrailRecord, managementRecord } from "../delivery/fixtures.ts";
import { takeMessages } from "../support/queues.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createCloudTrailBucket, grantAndSubscribe, bucketKeys as listKeys } from "./policies.ts";

/*
 * KMS-encrypted SNS topics against moto as S3, SNS, SQS and KMS (policy-checks.md §3): CreateTrail
 * refuses a topic whose key does not let CloudTrail make and decrypt data keys, or that names no
 * key; once the trail exists, a key that becomes unusable keeps its notifications waiting with
 * SNS's KMS error as LatestNotificationError, and they go out once the key is usable again.
 */

const REGION = "us-east-1";
const BUCKET = "ot-sns-kms-logs";
const topicArnOf = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

/** The account's own use of the key, and (with `cloudTrail`) the grant the User Guide asks for. */
function keyPolicy(cloudTrail: boolean): string {
  const statements: unknown[] = [
    { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "kms:*", Resource: "*" },
  ];
  if (cloudTrail) {
    statements.push({
      Effect: "Allow",
      Principal: { Service: "cloudtrail.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The server's clock: moved past the key read's cache age where a test changes the key. */
let ahead = 0;
const clock = { now: () => new Date(Date.now() + ahead) };
let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let sns: SNSClient;
let sqs: SQSClient;
let kms: KMSClient;
const api = () => httpClient({ endpoint: server.url });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
  s3 = s3Client(moto);
  sns = new SNSClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  kms = new KMSClient(clientConfig);
  await createCloudTrailBucket(moto, s3, BUCKET);
  server = await startTestServer(
    {
      deliveryIntervalMs: 3_600_000,
      policyChecks: "aws",
      s3: s3Settings(moto),
      upstreams: { services: { sns: moto.endpoint, kms: moto.endpoint } },
    },
    { clock },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const c of [s3, sns, sqs, kms]) c?.destroy();
  await moto?.stop();
});

async function newKey(cloudTrail: boolean): Promise<string> {
  const res = await kms.send(new CreateKeyCommand({ Policy: keyPolicy(cloudTrail) }));
  return res.KeyMetadata!.KeyId!;
}

/** A topic with CloudTrail's grant, encrypted with `keyId`, and a queue subscribed to it. */
async function encryptedTopic(topic: string, keyId: string): Promise<string> {
  await sns.send(new CreateTopicCommand({ Name: topic, Attributes: { KmsMasterKeyId: keyId } }));
  return grantAndSubscribe(sns, sqs, topicArnOf(topic), `${topic}-queue`);
}

async function notifiedKeys(queueUrl: string): Promise<string[]> {
  const envelopes = await takeMessages<{ Message: string }>(sqs, queueUrl);
  return envelopes.flatMap((e) => (JSON.parse(e.Message) as { s3ObjectKey: string[] }).s3ObjectKey);
}

const bucketKeys = async () => new Set(await listKeys(s3, BUCKET));

describe("CreateTrail with a KMS-encrypted topic (moto)", () => {
  it("refuses a topic whose key policy does not let CloudTrail use the key", async () => {
    await encryptedTopic("locked-topic", await newKey(false));
    await expect(
      api().createTrail({ Name: "locked", S3BucketName: BUCKET, SnsTopicName: "locked-topic" }),
    ).rejects.toMatchObject({
      name: "InsufficientSnsTopicPolicyException",
      message: "SNS Topic does not exist or the topic policy is incorrect!",
    });
  });

  it("refuses a topic whose key does not exist", async () => {
    await encryptedTopic("keyless-topic", "0b1e2c3d-0000-4000-8000-000000000000");
    await expect(
      api().createTrail({ Name: "keyless", S3BucketName: BUCKET, SnsTopicName: "keyless-topic" }),
    ).rejects.toMatchObject({ name: "KmsKeyNotFoundException" });
  });

  it("refuses a topic whose key is disabled", async () => {
    const key = await newKey(true);
    await kms.send(new DisableKeyCommand({ KeyId: key }));
    await encryptedTopic("disabled-topic", key);
    await expect(
      api().createTrail({ Name: "disabled", S3BucketName: BUCKET, SnsTopicName: "disabled-topic" }),
    ).rejects.toMatchObject({ name: "InsufficientSnsTopicPolicyException" });
  });
});

describe("notifications to a KMS-encrypted topic (moto)", () => {
  it("are published while the key allows, wait while it is disabled, and go out once it is back", async () => {
    const key = await newKey(true);
    const queue = await encryptedTopic("sealed-topic", key);
    await api().createTrail({ Name: "sealed", S3BucketName: BUCKET, SnsTopicName: "sealed-topic" });
    await api().startLogging({ Name: "sealed" });
    const before = await bucketKeys();
    await ingest([managementRecord(300)]);
    await server.app.delivery.drain();
    await server.app.notify!.drain();
    const first = await notifiedKeys(queue);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect((await api().getTrailStatus({ Name: "sealed" })).LatestNotificationError).toBeUndefined();

    await kms.send(new DisableKeyCommand({ KeyId: key }));
    // a key read is trusted for a minute while publishing succeeds, as AWS's own changes take a while
    ahead += POLICY_MAX_AGE_MS + 1_000;
    await ingest([managementRecord(301)]);
    await server.app.delivery.drain();
    await server.app.notify!.drain();
    let announced = await notifiedKeys(queue);
    expect(announced).toEqual([]);
    const failing = await api().getTrailStatus({ Name: "sealed" });
    expect(failing.LatestNotificationError).toBe("KMSDisabled");
    // the log files are still delivered
    expect(failing.LatestDeliveryError).toBeUndefined();

    await kms.send(new EnableKeyCommand({ KeyId: key }));
    await server.app.notify!.drain();
    announced = announced.concat(await notifiedKeys(queue));
    expect((await api().getTrailStatus({ Name: "sealed" })).LatestNotificationError).toBeUndefined();
    // every file delivered since the trail began is announced exactly once
    const written = [...(await bucketKeys())].filter((k) => !before.has(k)).sort();
    expect([...first, ...announced].sort()).toEqual(written);
  });
});
