import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDeliveryServer } from "../../bench/support/delivery-server.ts";
import { prng, recordSource } from "../../bench/support/records.ts";
import { assertBuilt, type ServerProcess } from "../../bench/support/server-process.ts";
import { httpClient } from "../../src/client/http.ts";
import { IngestError, ingestClient } from "../../src/client/ingest.ts";
import { createCloudTrailBucket } from "../policy/policies.ts";
import { createQueue, takeMessages } from "../support/queues.ts";
import { type S3TestServer, s3Client, startMoto } from "../support/s3-servers.ts";

/*
 * kill -9 while log files are delivered and announced: the built server delivers to moto's S3
 * every 0.2 s and publishes each delivered file to a moto SNS topic with an SQS queue subscribed;
 * it is killed at seeded moments and restarted on the same data directory and port. At the end
 * every file in the bucket was announced at least once with CloudTrail's body, nothing announced
 * is missing from the bucket, and the duplicates (a kill between Publish and the commit that takes
 * the file out of the outbox) are counted and printed.
 *
 * Runs the built server (`npm run build` first; the test command does).
 */

const SEED = 20261204;
const ROUNDS = 5;
const SENDERS = 2;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const BUCKET = "crash-notify";
const TOPIC = "crash-notify-topic";
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:${TOPIC}`;
const INTERVAL_SECONDS = 0.2;
const MAX_KILL_DELAY_MS = 1_500;
/** Bound on waiting for the last restart to empty both outboxes: 300 × 100 ms. */
const DRAIN_TRIES = 300;

/** What waits in the database: records for a file, files pending, files not yet announced. */
function waiting(dataDir: string): { rows: number; pending: number; unannounced: number } {
  const db = new Database(join(dataDir, "opentrail.db"), { readonly: true, fileMustExist: true });
  try {
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      rows: count("SELECT count(*) AS n FROM outbox"),
      pending: count("SELECT count(*) AS n FROM pending_files"),
      unannounced: count("SELECT count(*) AS n FROM file_outbox WHERE consumer = 'sns'"),
    };
  } finally {
    db.close();
  }
}

function topicPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "cloudtrail.amazonaws.com" },
        Action: "SNS:Publish",
        Resource: TOPIC_ARN,
      },
    ],
  });
}

async function bucketKeys(s3: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const o of res.Contents ?? []) keys.push(o.Key!);
    token = res.NextContinuationToken;
  } while (token);
  return keys.sort();
}

describe("kill -9 while notifications are published (moto S3, SNS, SQS)", () => {
  let dataDir: string;
  let moto: S3TestServer;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let queueUrl: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    assertBuilt();
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-crash-notify-"));
    moto = await startMoto();
    const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
    s3 = s3Client(moto);
    sns = new SNSClient(clientConfig);
    sqs = new SQSClient(clientConfig);
    await createCloudTrailBucket(moto, s3, BUCKET);
    await sns.send(new CreateTopicCommand({ Name: TOPIC }));
    await sns.send(
      new SetTopicAttributesCommand({
        TopicArn: TOPIC_ARN,
        AttributeName: "Policy",
        AttributeValue: topicPolicy(),
      }),
    );
    const queue = await createQueue(sqs, `${TOPIC}-queue`);
    queueUrl = queue.url;
    await sns.send(new SubscribeCommand({ TopicArn: TOPIC_ARN, Protocol: "sqs", Endpoint: queue.arn }));
  }, 60_000);

  afterAll(async () => {
    await server?.stop("SIGKILL");
    for (const c of [s3, sns, sqs]) c?.destroy();
    await moto?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`announces every delivered file at least once across restarts (seed ${SEED})`, async () => {
    const killMoments = prng(SEED);
    const sizes = prng(SEED + 1);
    const source = recordSource({ seed: SEED + 2, accountId: ACCOUNT, region: REGION });
    let port = 0;
    const start = () =>
      startDeliveryServer({
        dataDir,
        port,
        deliveryIntervalSeconds: INTERVAL_SECONDS,
        serveArgs: ["--s3-endpoint", moto.endpoint, "--upstream", `sns=${moto.endpoint}`],
      });
    server = await start();
    port = server.port;

    const api = httpClient({ endpoint: server.url, region: REGION });
    const created = await api.createTrail({ Name: "crash", S3BucketName: BUCKET, SnsTopicName: TOPIC });
    expect(created.SnsTopicARN).toBe(TOPIC_ARN);
    await api.startLogging({ Name: "crash" });
    api.client.destroy();

    let sent = 0;
    let stopping = false;
    let serverUp = Promise.resolve();
    const client = ingestClient({ endpoint: server.url, region: REGION });
    const sender = async () => {
      while (!stopping) {
        const records = Array.from({ length: 5 + Math.floor(sizes() * 46) }, () => source.next(new Date()));
        try {
          await client.send(records);
          sent++;
        } catch (e) {
          if (e instanceof IngestError && e.status < 500) throw e;
          if (!(e instanceof IngestError) && !(e instanceof TypeError)) throw e;
          await serverUp;
        }
      }
    };
    const senders = Promise.all(Array.from({ length: SENDERS }, () => sender()));

    const unannouncedAtKills: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // the pause picks the moment of the kill; nothing waits for work by the clock
      await sleep(200 + Math.floor(killMoments() * MAX_KILL_DELAY_MS));
      let restarted = () => {};
      serverUp = new Promise((resolve) => {
        restarted = resolve;
      });
      expect((await server.stop("SIGKILL")).signal).toBe("SIGKILL");
      unannouncedAtKills.push(waiting(dataDir).unannounced);
      server = await start();
      restarted();
    }
    stopping = true;
    await senders;

    // a last kill and restart, then the running loops empty both outboxes on their own
    await server.stop("SIGKILL");
    server = await start();
    let state = waiting(dataDir);
    for (let i = 0; i < DRAIN_TRIES && (state.rows > 0 || state.pending > 0 || state.unannounced > 0); i++) {
      await sleep(100);
      state = waiting(dataDir);
    }
    expect(state, "outboxes after the last restart").toEqual({ rows: 0, pending: 0, unannounced: 0 });
    const status = await httpClient({ endpoint: server.url, region: REGION }).getTrailStatus({
      Name: "crash",
    });
    expect(status.LatestNotificationError).toBeUndefined();
    expect(status.LatestNotificationTime).toBeInstanceOf(Date);
    expect((await server.stop("SIGTERM")).code).toBe(0);
    server = undefined;

    const envelopes = await takeMessages<{ Type: string; TopicArn: string; Message: string }>(sqs, queueUrl);
    const announced = new Map<string, number>();
    for (const envelope of envelopes) {
      expect(envelope.Type).toBe("Notification");
      expect(envelope.TopicArn).toBe(TOPIC_ARN);
      // CloudTrail's body exactly: compact JSON of the bucket and the keys
      const message = JSON.parse(envelope.Message) as { s3Bucket: string; s3ObjectKey: string[] };
      expect(Object.keys(message)).toEqual(["s3Bucket", "s3ObjectKey"]);
      expect(envelope.Message).toBe(JSON.stringify(message));
      expect(message.s3Bucket).toBe(BUCKET);
      for (const key of message.s3ObjectKey) announced.set(key, (announced.get(key) ?? 0) + 1);
    }
    const delivered = await bucketKeys(s3);
    expect(delivered.length).toBeGreaterThan(ROUNDS);
    const lost = delivered.filter((k) => !announced.has(k));
    expect(lost, "delivered files never announced").toEqual([]);
    const strangers = [...announced.keys()].filter((k) => !delivered.includes(k));
    expect(strangers, "announced files the bucket does not hold").toEqual([]);
    const duplicates = [...announced.values()].reduce((n, times) => n + times - 1, 0);
    expect(sent).toBeGreaterThan(0);

    console.log(
      `notification crash test (seed ${SEED}): ${ROUNDS} kills, files waiting for SNS at the kills ` +
        `${unannouncedAtKills.join("/")}; ${delivered.length} files delivered, ${envelopes.length} messages, ` +
        `0 files lost, ${duplicates} announced more than once`,
    );
  }, 180_000);
});
