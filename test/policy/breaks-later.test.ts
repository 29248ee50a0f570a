import {
  CancelKeyDeletionCommand,
  CreateKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SetTopicAttributesCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { POLICY_MAX_AGE_MS } from "../../src/pipeline/delivery-policy.ts";
import { ACCOUNT, managementRecord, wholeSecond } from "../delivery/fixtures.ts";
import { takeMessages } from "../support/queues.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import {
  bucketKeys,
  cloudTrailKeyPolicy,
  cloudTrailTopicPolicy,
  createCloudTrailBucket,
  deliveredIds,
  grantAndSubscribe,
} from "./policies.ts";

/*
 * Issue 12, a policy that breaks later, against moto as S3, KMS, SNS and SQS: a trail's KMS key
 * that stops being usable after CreateTrail fails delivery with the code S3 gives an SSE-KMS put
 * (GetTrailStatus LatestDeliveryError) while the records wait, and once the key is enabled again
 * every ingested record is in exactly one log file; a topic policy that stops letting CloudTrail
 * publish fails the notification (LatestNotificationError AuthorizationError) while the log file is
 * still delivered, and once it is back every file is announced exactly once.
 *
 * moto's S3 neither applies key state nor policies to opentrail's puts (it stores SSE-KMS objects
 * whatever the key's state, and its KMS makes data keys with a disabled key), and its SNS applies
 * no topic policy to Publish: so S3's own refusal of a put while opentrail still trusts its last
 * read of the key cannot be shown here (test/adapters/s3.test.ts reads S3's codes off the wire),
 * and the refusals are
 * opentrail's delivery gate and topic gate reading the key and the policy. Those reads are trusted
 * for POLICY_MAX_AGE_MS while puts succeed, so the server's clock is moved past that once the key
 * or the policy has changed; after a refusal they are read again at every retry.
 */

const REGION = "us-east-1";
const KMS_BUCKET = "ot-breaks-later-kms";
const SNS_BUCKET = "ot-breaks-later-sns";
const topicArnOf = (name: string) => `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;

let ahead = 0;
const clock = { now: () => new Date(Date.now() + ahead) };
/** Moves the server's clock past the age at which policy and key reads are trusted. */
const outliveCachedReads = () => {
  ahead += POLICY_MAX_AGE_MS + 1_000;
};

let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let kms: KMSClient;
let sns: SNSClient;
let sqs: SQSClient;
const api = () => httpClient({ endpoint: server.url });

/**
 * Ingests `count` records numbered from `from`, of the server's time (a trail takes the records of
 * the time it logs); their acknowledged event ids.
 */
async function ingest(from: number, count: number): Promise<string[]> {
  const eventTime = wholeSecond(clock.now());
  const records = Array.from({ length: count }, (_, i) => managementRecord(from + i, { eventTime }));
  return (await ingestClient({ endpoint: server.url }).send(records)).eventIds;
}

/** Every acknowledged id in exactly one of the bucket's files, and nothing else there. */
async function expectEachOnce(bucket: string, ingested: string[]): Promise<void> {
  const delivered = await deliveredIds(s3, bucket);
  expect(
    ingested.filter((id) => delivered.get(id) !== 1).map((id) => [id, delivered.get(id) ?? 0]),
    "records not in exactly one file (id, files)",
  ).toEqual([]);
  expect([...delivered.keys()].sort()).toEqual([...ingested].sort());
}

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
  s3 = s3Client(moto);
  kms = new KMSClient(clientConfig);
  sns = new SNSClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  for (const bucket of [KMS_BUCKET, SNS_BUCKET]) {
    await createCloudTrailBucket(moto, s3, bucket);
  }
  server = await startTestServer(
    {
      deliveryIntervalMs: 3_600_000,
      policyChecks: "aws",
      s3: s3Settings(moto),
      upstreams: { services: { kms: moto.endpoint, sns: moto.endpoint } },
    },
    { clock },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const c of [s3, kms, sns, sqs]) c?.destroy();
  await moto?.stop();
});

// a trail records every trail's calls: each case's bucket holds its own trail's files only
afterEach(async () => {
  for (const t of (await api().listTrails({})).Trails ?? []) await api().deleteTrail({ Name: t.TrailARN });
  await server.app.delivery.drain();
});

describe("a trail's KMS key that stops being usable after CreateTrail (moto KMS)", () => {
  it("fails delivery with S3's KMS code while the key is disabled or pending deletion, and delivers every record once when it is enabled", async () => {
    const key = await kms.send(new CreateKeyCommand({ Policy: cloudTrailKeyPolicy() }));
    const keyArn = key.KeyMetadata!.Arn!;
    const keyId = key.KeyMetadata!.KeyId!;
    await api().createTrail({ Name: "kms-breaks", S3BucketName: KMS_BUCKET, KmsKeyId: keyArn });
    await api().startLogging({ Name: "kms-breaks" });
    const status = () => api().getTrailStatus({ Name: "kms-breaks" });

    const ingested = await ingest(1, 5);
    await server.app.delivery.drain();
    const healthy = await status();
    expect(healthy.LatestDeliveryError).toBeUndefined();
    const before = await bucketKeys(s3, KMS_BUCKET);
    expect(before.length).toBeGreaterThanOrEqual(1);
    for (const k of before) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: KMS_BUCKET, Key: k }));
      expect(head.ServerSideEncryption).toBe("aws:kms");
      expect(head.SSEKMSKeyId).toBe(keyArn);
    }

    // disabled: the key read for the first file is trusted until it is older than the cache age
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    ingested.push(...(await ingest(100, 5)));
    outliveCachedReads();
    await server.app.delivery.drain();
    const disabled = await status();
    expect(disabled.IsLogging).toBe(true);
    expect(disabled.LatestDeliveryError).toBe("KMS.DisabledException");
    expect(disabled.LatestDeliveryTime).toEqual(healthy.LatestDeliveryTime);
    expect(await bucketKeys(s3, KMS_BUCKET)).toEqual(before);

    // pending deletion: re-read at the retry after the refusal
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    ingested.push(...(await ingest(200, 5)));
    await server.app.delivery.drain();
    expect((await status()).LatestDeliveryError).toBe("KMS.KMSInvalidStateException");
    expect(await bucketKeys(s3, KMS_BUCKET)).toEqual(before);

    // deletion cancelled: the key is disabled again, as on AWS
    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    ingested.push(...(await ingest(300, 5)));
    await server.app.delivery.drain();
    expect((await status()).LatestDeliveryError).toBe("KMS.DisabledException");
    expect(await bucketKeys(s3, KMS_BUCKET)).toEqual(before);

    // enabled: what waited is delivered, the error goes, and nothing is lost or doubled
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    ingested.push(...(await ingest(400, 5)));
    outliveCachedReads();
    await server.app.delivery.drain();
    const resumed = await status();
    expect(resumed.LatestDeliveryError).toBeUndefined();
    expect(resumed.LatestDeliveryTime!.getTime()).toBeGreaterThan(healthy.LatestDeliveryTime!.getTime());
    expect(ingested).toHaveLength(25);
    await expectEachOnce(KMS_BUCKET, ingested);
  });
});

describe("a topic policy that stops letting CloudTrail publish after CreateTrail (moto SNS → SQS)", () => {
  it("fails the notification with AuthorizationError while the file is delivered, and announces every file once when the policy is back", async () => {
    const topic = "breaks-later-topic";
    await sns.send(new CreateTopicCommand({ Name: topic }));
    const queue = await grantAndSubscribe(sns, sqs, topicArnOf(topic), `${topic}-queue`);
    await api().createTrail({ Name: "sns-breaks", S3BucketName: SNS_BUCKET, SnsTopicName: topic });
    await api().startLogging({ Name: "sns-breaks" });
    const status = () => api().getTrailStatus({ Name: "sns-breaks" });
    const deliverAndNotify = async () => {
      await server.app.delivery.drain();
      await server.app.notify!.drain();
    };
    const announced: string[] = [];
    const take = async () => {
      const envelopes = await takeMessages<{ Type: string; Message: string }>(sqs, queue);
      const messages = envelopes.map(
        (e) => JSON.parse(e.Message) as { s3Bucket: string; s3ObjectKey: string[] },
      );
      for (const m of messages) expect(m.s3Bucket).toBe(SNS_BUCKET);
      announced.push(...messages.flatMap((m) => m.s3ObjectKey));
      return messages.length;
    };

    const ingested = await ingest(1_000, 3);
    await deliverAndNotify();
    expect(await take()).toBeGreaterThanOrEqual(1);
    const healthy = await status();
    expect(healthy.LatestNotificationError).toBeUndefined();
    expect(healthy.LatestNotificationTime).toBeInstanceOf(Date);

    // the topic's owner may publish, CloudTrail may not
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: topicArnOf(topic),
        AttributeName: "Policy",
        AttributeValue: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
              Action: "SNS:Publish",
              Resource: topicArnOf(topic),
            },
          ],
        }),
      }),
    );
    const before = await bucketKeys(s3, SNS_BUCKET);
    ingested.push(...(await ingest(1_100, 3)));
    outliveCachedReads();
    await deliverAndNotify();
    const refused = await status();
    expect(refused.LatestNotificationError).toBe("AuthorizationError");
    expect(refused.LatestNotificationTime).toEqual(healthy.LatestNotificationTime);
    expect(refused.LatestDeliveryError).toBeUndefined();
    expect((await bucketKeys(s3, SNS_BUCKET)).length).toBeGreaterThan(before.length);
    expect(await take()).toBe(0);

    // CloudTrail's grant again: the waiting files are announced, the error goes
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: topicArnOf(topic),
        AttributeName: "Policy",
        AttributeValue: cloudTrailTopicPolicy(topicArnOf(topic)),
      }),
    );
    ingested.push(...(await ingest(1_200, 3)));
    await deliverAndNotify();
    await take();
    const recovered = await status();
    expect(recovered.LatestNotificationError).toBeUndefined();
    expect(recovered.LatestNotificationTime!.getTime()).toBeGreaterThan(
      healthy.LatestNotificationTime!.getTime(),
    );
    await server.app.notify!.drain();
    expect(await take()).toBe(0);
    expect([...announced].sort()).toEqual(await bucketKeys(s3, SNS_BUCKET));
    await expectEachOnce(SNS_BUCKET, ingested);
  });
});
