import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { ACCOUNT, managementRecord } from "../delivery/fixtures.ts";
import { describePostgres } from "../support/postgres.ts";
import { createQueue, takeMessages } from "../support/queues.ts";
import { createBucket, type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { closeNodes, startTwoNodes, type TestServer, usePostgresServer } from "../support/server.ts";

/*
 * Two opentrail nodes on one PostgreSQL database, S3, SNS and SQS on moto: both run the
 * notification worker, and each delivered file is announced once (the node holding a lane's lease
 * sends its files), not once per node.
 */

const REGION = "us-east-1";
const BUCKET = "ot-sns-nodes";
const TRAILS = ["first", "second", "third"];

describePostgres("SNS notifications from two nodes on one PostgreSQL database", (url) => {
  let moto: S3TestServer;
  let one: TestServer;
  let two: TestServer;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
    s3 = s3Client(moto);
    sns = new SNSClient(clientConfig);
    sqs = new SQSClient(clientConfig);
    await createBucket(moto, BUCKET);
    usePostgresServer(url);
    const settings = {
      deliveryIntervalMs: 3_600_000,
      policyChecks: "off" as const,
      s3: s3Settings(moto),
      upstreams: { services: { sns: moto.endpoint } },
    };
    [one, two] = await startTwoNodes(settings);
  }, 60_000);

  afterAll(async () => {
    await closeNodes(one, two);
    for (const c of [s3, sns, sqs]) c?.destroy();
    await moto?.stop();
  });

  it("announces each delivered file once, whichever node sends it", async () => {
    const topic = await sns.send(new CreateTopicCommand({ Name: "nodes-topic" }));
    const queue = await createQueue(sqs, "nodes-queue");
    await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: "sqs", Endpoint: queue.arn }));
    const api = httpClient({ endpoint: one.url });
    for (const name of TRAILS) {
      await api.createTrail({
        Name: name,
        S3BucketName: BUCKET,
        S3KeyPrefix: name,
        SnsTopicName: "nodes-topic",
      });
      await api.startLogging({ Name: name });
    }
    let n = 0;
    for (let round = 0; round < 4; round++) {
      await ingestClient({ endpoint: (round % 2 ? two : one).url }).send([
        managementRecord(++n),
        managementRecord(++n),
      ]);
      await Promise.all([one.app.delivery.drain(), two.app.delivery.drain()]);
    }
    // both nodes work the notification outbox at once, twice over
    for (let pass = 0; pass < 2; pass++)
      await Promise.all([one.app.notify!.drain(), two.app.notify!.drain()]);

    const envelopes = await takeMessages<{ Type: string; Message: string }>(sqs, queue.url);
    const keys = envelopes.flatMap((e) => (JSON.parse(e.Message) as { s3ObjectKey: string[] }).s3ObjectKey);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const written = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.includes("/CloudTrail/"));
    // every trail's files: 3 trails × 4 rounds at least
    expect(written.length).toBeGreaterThanOrEqual(TRAILS.length * 4);
    expect(keys.sort()).toEqual(written.sort());
    for (const name of TRAILS) {
      for (const server of [one, two]) {
        const status = await httpClient({ endpoint: server.url }).getTrailStatus({ Name: name });
        expect(status.LatestNotificationTime).toBeInstanceOf(Date);
        expect(status.LatestNotificationError).toBeUndefined();
      }
    }
    for (const key of keys) expect(key).toMatch(new RegExp(`^(${TRAILS.join("|")})/AWSLogs/${ACCOUNT}/`));
  }, 120_000);
});
