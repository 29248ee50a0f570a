import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { ACCOUNT, managementRecord } from "../delivery/fixtures.ts";
import { createQueue, takeMessages } from "../support/queues.ts";
import { createBucket, type S3TestServer, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer, usingPostgres } from "../support/server.ts";

/*
 * A trail deleted and created again under the same name is another trail, as on AWS: its
 * GetTrailStatus shows nothing of the first one's notifications, CloudWatch Logs deliveries or
 * digests, and the first one's final log file is not announced for it (moto as S3, SNS, SQS and
 * CloudWatch Logs; SQLite, or PostgreSQL from recreated-outputs-postgres.test.ts).
 */

const REGION = "us-east-1";
const BUCKET = "ot-recreated-outputs";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role`;
const GROUP = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:recreated-group:*`;

let moto: S3TestServer;
let server: TestServer;
let sns: SNSClient;
let sqs: SQSClient;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
  sns = new SNSClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  logs = new CloudWatchLogsClient(clientConfig);
  await createBucket(moto, BUCKET);
  server = await startTestServer({
    deliveryIntervalMs: 3_600_000,
    policyChecks: "off",
    s3: s3Settings(moto),
    upstreams: { services: { sns: moto.endpoint, logs: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  for (const c of [sns, sqs, logs]) c?.destroy();
  await moto?.stop();
});

describe(`a trail created again under a deleted trail's name (${usingPostgres() ? "PostgreSQL" : "SQLite"})`, () => {
  it("shows none of the deleted trail's output and digest status, and is not sent its final file", async () => {
    await sns.send(new CreateTopicCommand({ Name: "recreated-topic" }));
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:recreated-topic`;
    const queue = await createQueue(sqs, "recreated-queue");
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: "sqs", Endpoint: queue.arn }));
    await logs.send(new CreateLogGroupCommand({ logGroupName: "recreated-group" }));
    const api = httpClient({ endpoint: server.url, region: REGION });
    const ingest = ingestClient({ endpoint: server.url });
    const settings = {
      Name: "again",
      S3BucketName: BUCKET,
      SnsTopicName: "recreated-topic",
      CloudWatchLogsLogGroupArn: GROUP,
      CloudWatchLogsRoleArn: ROLE,
      EnableLogFileValidation: true,
    };
    const drainOutputs = async () => {
      await server.app.notify!.drain();
      await server.app.cloudWatch!.drain();
    };

    await api.createTrail(settings);
    await api.startLogging({ Name: "again" });
    await ingest.send([managementRecord(1)]);
    await server.app.delivery.drain();
    await server.app.digests.drain();
    await drainOutputs();
    // stopping ends the digest chain: its final digest is written at once
    await api.stopLogging({ Name: "again" });
    await server.app.delivery.drain();
    await server.app.digests.drain();
    const first = await api.getTrailStatus({ Name: "again" });
    expect(first.LatestNotificationTime).toBeInstanceOf(Date);
    expect(first.LatestCloudWatchLogsDeliveryTime).toBeInstanceOf(Date);
    expect(first.LatestDigestDeliveryTime).toBeInstanceOf(Date);
    expect(first.LatestNotificationAttemptTime).not.toBe("");
    const announced = await takeMessages<{ Message: string }>(sqs, queue.url);
    expect(announced.length).toBeGreaterThanOrEqual(1);

    // records left in the outbox at DeleteTrail go in the deleted trail's final file
    await api.startLogging({ Name: "again" });
    await ingest.send([managementRecord(2)]);
    await api.deleteTrail({ Name: "again" });
    await api.createTrail(settings);
    const fresh = await api.getTrailStatus({ Name: "again" });
    for (const member of [
      "LatestNotificationTime",
      "LatestNotificationError",
      "LatestCloudWatchLogsDeliveryTime",
      "LatestCloudWatchLogsDeliveryError",
      "LatestDigestDeliveryTime",
      "LatestDigestDeliveryError",
      "LatestDeliveryTime",
    ] as const) {
      expect(fresh[member], member).toBeUndefined();
    }
    expect(fresh.LatestNotificationAttemptTime).toBe("");
    expect(fresh.LatestNotificationAttemptSucceeded).toBe("");

    // the deleted trail's final file is delivered now, and not announced for the new trail
    await server.app.delivery.drain();
    await drainOutputs();
    expect(await takeMessages(sqs, queue.url)).toEqual([]);
    const after = await api.getTrailStatus({ Name: "again" });
    expect(after.LatestNotificationTime).toBeUndefined();
    expect(after.LatestCloudWatchLogsDeliveryTime).toBeUndefined();
    api.client.destroy();
  }, 60_000);
});
