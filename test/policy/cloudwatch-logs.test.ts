import { promisify } from "node:util";
import { gunzip as gunzipCallback } from "node:zlib";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { ACCOUNT, type CloudTrailRecord, managementRecord } from "../delivery/fixtures.ts";
import { createBucket, type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * CloudWatch Logs delivery against moto as S3 and CloudWatch Logs: the log group is checked at
 * CreateTrail, the trail's stream holds exactly the records of the files in the bucket, one log
 * event each in eventTime order, and a group that goes away loses nothing.
 */

const gunzip = promisify(gunzipCallback);
const REGION = "us-east-1";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role`;
const STREAM = `${ACCOUNT}_CloudTrail_${REGION}`;
const groupArn = (name: string) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`;

let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let logs: CloudWatchLogsClient;
const api = () => httpClient({ endpoint: server.url });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto);
  logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.credentials });
  server = await startTestServer({
    deliveryIntervalMs: 3_600_000,
    // the bucket policy checks have their own tests
    policyChecks: "off",
    s3: s3Settings(moto),
    upstreams: { services: { logs: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  s3?.destroy();
  logs?.destroy();
  await moto?.stop();
});

/** Every record in the bucket's log files, in file order. */
async function bucketRecords(bucket: string): Promise<CloudTrailRecord[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const out: CloudTrailRecord[] = [];
  for (const { Key } of listed.Contents ?? []) {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    const body = await gunzip(Buffer.from(await res.Body!.transformToByteArray()));
    out.push(...(JSON.parse(body.toString("utf8")) as { Records: CloudTrailRecord[] }).Records);
  }
  return out;
}

async function streamRecords(group: string): Promise<CloudTrailRecord[]> {
  const res = await logs.send(
    new GetLogEventsCommand({ logGroupName: group, logStreamName: STREAM, startFromHead: true }),
  );
  return (res.events ?? []).map((e) => JSON.parse(e.message!) as CloudTrailRecord);
}

const byId = (records: CloudTrailRecord[]) => records.map((r) => r.eventID as string).sort();

describe("CreateTrail checks the log group (moto)", () => {
  it("refuses a log group that does not exist", async () => {
    await createBucket(moto, "ot-cwl-missing");
    await expect(
      api().createTrail({
        Name: "no-group",
        S3BucketName: "ot-cwl-missing",
        CloudWatchLogsLogGroupArn: groupArn("missing-group"),
        CloudWatchLogsRoleArn: ROLE,
      }),
    ).rejects.toMatchObject({
      name: "InvalidCloudWatchLogsLogGroupArnException",
      message: "CloudTrail cannot validate the specified log group ARN.",
    });
  });

  it("accepts the ARN DescribeLogGroups gives and echoes it", async () => {
    await createBucket(moto, "ot-cwl-echo");
    await logs.send(new CreateLogGroupCommand({ logGroupName: "echo-group" }));
    const described = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "echo-group" }));
    const arn = described.logGroups?.[0]?.arn;
    expect(arn).toBe(groupArn("echo-group"));
    const created = await api().createTrail({
      Name: "echo",
      S3BucketName: "ot-cwl-echo",
      CloudWatchLogsLogGroupArn: arn,
      CloudWatchLogsRoleArn: ROLE,
    });
    expect(created.CloudWatchLogsLogGroupArn).toBe(arn);
    expect(created.CloudWatchLogsRoleArn).toBe(ROLE);
    await api().deleteTrail({ Name: "echo" });
  });
});

describe("records to CloudWatch Logs (moto)", () => {
  it("puts exactly the delivered records in the trail's stream, in eventTime order", async () => {
    await createBucket(moto, "ot-cwl-logs");
    await logs.send(new CreateLogGroupCommand({ logGroupName: "trail-group" }));
    await api().createTrail({
      Name: "streamed",
      S3BucketName: "ot-cwl-logs",
      CloudWatchLogsLogGroupArn: groupArn("trail-group"),
      CloudWatchLogsRoleArn: ROLE,
    });
    await api().startLogging({ Name: "streamed" });
    await ingest(Array.from({ length: 30 }, (_, i) => managementRecord(500 + i)));
    await server.app.delivery.drain();
    await ingest([managementRecord(600)]);
    await server.app.delivery.drain();
    await server.app.cloudWatch!.drain();

    const delivered = await bucketRecords("ot-cwl-logs");
    const streamed = await streamRecords("trail-group");
    expect(delivered.length).toBeGreaterThanOrEqual(31);
    expect(byId(streamed)).toEqual(byId(delivered));
    // within each file's run the events are in eventTime order
    const times = streamed.map((r) => r.eventTime as string);
    expect(times.slice(0, 30)).toEqual([...times.slice(0, 30)].sort());
    const status = await api().getTrailStatus({ Name: "streamed" });
    expect(status.LatestCloudWatchLogsDeliveryTime).toBeInstanceOf(Date);
    expect(status.LatestCloudWatchLogsDeliveryError).toBeUndefined();

    // a second drain sends nothing again
    await server.app.cloudWatch!.drain();
    expect((await streamRecords("trail-group")).length).toBe(streamed.length);
  });

  it("keeps the records while the log group is gone and sends them once it is back", async () => {
    await logs.send(new DeleteLogGroupCommand({ logGroupName: "trail-group" }));
    await ingest([managementRecord(700), managementRecord(701)]);
    await server.app.delivery.drain();
    await server.app.cloudWatch!.drain();
    const failing = await api().getTrailStatus({ Name: "streamed" });
    expect(failing.LatestCloudWatchLogsDeliveryError).toBe("ResourceNotFoundException");
    expect(failing.LatestDeliveryError).toBeUndefined();

    await logs.send(new CreateLogGroupCommand({ logGroupName: "trail-group" }));
    await server.app.cloudWatch!.drain();
    const ids = byId(await streamRecords("trail-group"));
    expect(ids).toEqual(expect.arrayContaining(byId([managementRecord(700), managementRecord(701)])));
    expect(
      (await api().getTrailStatus({ Name: "streamed" })).LatestCloudWatchLogsDeliveryError,
    ).toBeUndefined();
  });
});
