import type { S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, DeleteTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { ACCOUNT, type CloudTrailRecord, managementRecord } from "../delivery/fixtures.ts";
import { takeMessages } from "../support/queues.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { createCloudTrailBucket, grantAndSubscribe, bucketKeys as listKeys } from "./policies.ts";

/*
 * SNS notifications against moto as S3, SNS and SQS: CreateTrail checks the topic and its policy,
 * every delivered log file is announced once with CloudTrail's body to a subscribed queue, and a
 * topic that goes away keeps the notifications waiting (LatestNotificationError) until it is back.
 */

const REGION = "us-east-1";
const BUCKET = "ot-sns-logs";
const topicArnOf = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let sns: SNSClient;
let sqs: SQSClient;
const api = () => httpClient({ endpoint: server.url });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
  s3 = s3Client(moto);
  sns = new SNSClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  await createCloudTrailBucket(moto, s3, BUCKET);
  server = await startTestServer({
    deliveryIntervalMs: 3_600_000,
    policyChecks: "aws",
    s3: s3Settings(moto),
    upstreams: { services: { sns: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const c of [s3, sns, sqs]) c?.destroy();
  await moto?.stop();
});

/** A topic with CloudTrail's grant and a queue subscribed to it; the queue's URL. */
async function topicWithQueue(topic: string): Promise<string> {
  await sns.send(new CreateTopicCommand({ Name: topic }));
  return grantAndSubscribe(sns, sqs, topicArnOf(topic), `${topic}-queue`);
}

/** Every message waiting in the queue, as the SNS envelopes' Message objects. */
async function received(queueUrl: string): Promise<{ s3Bucket: string; s3ObjectKey: string[] }[]> {
  const envelopes = await takeMessages<{ Type: string; Message: string }>(sqs, queueUrl);
  for (const envelope of envelopes) expect(envelope.Type).toBe("Notification");
  return envelopes.map((e) => JSON.parse(e.Message));
}

const bucketKeys = () => listKeys(s3, BUCKET);

async function deliverAndNotify(): Promise<void> {
  await server.app.delivery.drain();
  await server.app.notify!.drain();
}

describe("CreateTrail checks the SNS topic (moto)", () => {
  it("refuses a topic that does not exist", async () => {
    await expect(
      api().createTrail({ Name: "no-topic", S3BucketName: BUCKET, SnsTopicName: "missing-topic" }),
    ).rejects.toMatchObject({
      name: "InsufficientSnsTopicPolicyException",
      message: "SNS Topic does not exist or the topic policy is incorrect!",
    });
  });

  it("refuses a topic whose policy does not let CloudTrail publish (SNS's default policy)", async () => {
    await sns.send(new CreateTopicCommand({ Name: "default-policy" }));
    await expect(
      api().createTrail({ Name: "default-topic", S3BucketName: BUCKET, SnsTopicName: "default-policy" }),
    ).rejects.toMatchObject({ name: "InsufficientSnsTopicPolicyException" });
  });
});

describe("notifications after delivery (moto SNS → SQS)", () => {
  it("announces every delivered file once with CloudTrail's body; status shows the time", async () => {
    const queue = await topicWithQueue("trail-topic");
    const created = await api().createTrail({
      Name: "notified",
      S3BucketName: BUCKET,
      SnsTopicName: "trail-topic",
    });
    expect(created.SnsTopicName).toBe("trail-topic");
    expect(created.SnsTopicARN).toBe(topicArnOf("trail-topic"));
    await api().startLogging({ Name: "notified" });
    const before = new Set(await bucketKeys());

    const keys: string[] = [];
    for (let round = 0; round < 3; round++) {
      await ingest([managementRecord(100 + round)]);
      await server.app.delivery.drain();
      const listed = await api().getTrailStatus({ Name: "notified" });
      expect(listed.LatestDeliveryError).toBeUndefined();
    }
    await server.app.notify!.drain();
    const messages = await received(queue);
    for (const m of messages) {
      expect(m.s3Bucket).toBe(BUCKET);
      keys.push(...m.s3ObjectKey);
    }
    // exactly the files the three rounds wrote, each once
    const written = (await bucketKeys()).filter((k) => !before.has(k));
    expect(written.length).toBeGreaterThanOrEqual(3);
    expect([...keys].sort()).toEqual(written);
    for (const key of keys) expect(key).toMatch(new RegExp(`^AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`));
    const status = await api().getTrailStatus({ Name: "notified" });
    expect(status.LatestNotificationTime).toBeInstanceOf(Date);
    expect(status.LatestNotificationError).toBeUndefined();

    await server.app.notify!.drain();
    expect(await received(queue)).toEqual([]);
  });

  it("keeps notifications waiting while the topic is gone, and sends them once it is back", async () => {
    const queue = await topicWithQueue("flaky-topic");
    await api().createTrail({ Name: "flaky", S3BucketName: BUCKET, SnsTopicName: "flaky-topic" });
    await api().startLogging({ Name: "flaky" });
    await deliverAndNotify();
    await received(queue);

    await sns.send(new DeleteTopicCommand({ TopicArn: topicArnOf("flaky-topic") }));
    await ingest([managementRecord(200)]);
    await deliverAndNotify();
    const failing = await api().getTrailStatus({ Name: "flaky" });
    expect(failing.LatestNotificationError).toBe("NotFoundException");
    expect(failing.LatestDeliveryError).toBeUndefined();
    // and /metrics counts it
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(
      Number(/^opentrail_notification_failures_total (\d+)$/m.exec(metrics)?.[1]),
    ).toBeGreaterThanOrEqual(1);

    const again = await topicWithQueue("flaky-topic");
    expect(again).toBe(queue);
    await server.app.notify!.drain();
    const messages = await received(queue);
    expect(messages.flatMap((m) => m.s3ObjectKey).length).toBeGreaterThanOrEqual(1);
    const recovered = await api().getTrailStatus({ Name: "flaky" });
    expect(recovered.LatestNotificationError).toBeUndefined();
  });
});
