import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { type CloudTrailRecord, managementRecord } from "../delivery/fixtures.ts";
import { createQueue, takeMessages } from "../support/queues.ts";
import { createBucket, type S3TestServer, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * EventBridge against moto: with eventBridge on, delivered records reach the default bus as
 * "AWS API Call via CloudTrail" events, and a rule on detail.eventName with an SQS target gets
 * the events its pattern matches, once each even when two trails deliver them.
 */

const REGION = "us-east-1";
const BUCKET = "ot-events-logs";

let moto: S3TestServer;
let server: TestServer;
let events: EventBridgeClient;
let sqs: SQSClient;
const api = () => httpClient({ endpoint: server.url });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
  events = new EventBridgeClient(clientConfig);
  sqs = new SQSClient(clientConfig);
  await createBucket(moto, BUCKET);
  server = await startTestServer({
    deliveryIntervalMs: 3_600_000,
    policyChecks: "off",
    eventBridge: "on",
    s3: s3Settings(moto),
    upstreams: { services: { events: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  events?.destroy();
  sqs?.destroy();
  await moto?.stop();
});

interface BusMessage {
  "detail-type": string;
  source: string;
  account: string;
  region: string;
  time: string;
  resources: string[];
  detail: CloudTrailRecord;
}

describe("EventBridge (moto rule → SQS)", () => {
  it("delivers the events a detail.eventName pattern matches, once each, in AWS's shape", async () => {
    const queue = await createQueue(sqs, "bus-target");
    await events.send(
      new PutRuleCommand({
        Name: "run-instances",
        EventPattern: JSON.stringify({
          "detail-type": ["AWS API Call via CloudTrail"],
          detail: { eventName: ["RunInstances"] },
        }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: "run-instances",
        Targets: [{ Id: "q", Arn: queue.arn }],
      }),
    );
    // two trails select the same management events: the bus still gets each once
    for (const name of ["first", "second"]) {
      await api().createTrail({ Name: name, S3BucketName: BUCKET });
      await api().startLogging({ Name: name });
    }
    const matching = [
      managementRecord(900, { eventName: "RunInstances" }),
      managementRecord(901, { eventName: "RunInstances" }),
    ];
    await ingest([...matching, managementRecord(902, { eventName: "DescribeInstances" })]);
    await server.app.delivery.drain();
    await server.app.eventBridge!.drain();

    const messages = await takeMessages<BusMessage>(sqs, queue.url);
    expect(messages.map((m) => m.detail.eventID).sort()).toEqual(matching.map((r) => r.eventID).sort());
    const first = messages[0]!;
    const record = matching.find((r) => r.eventID === first.detail.eventID)!;
    expect(first["detail-type"]).toBe("AWS API Call via CloudTrail");
    expect(first.source).toBe(`aws.${String(record.eventSource).replace(".amazonaws.com", "")}`);
    expect(first.region).toBe(record.awsRegion);
    expect(first.resources).toEqual([]);
    expect(first.detail).toEqual(record);
  });
});
