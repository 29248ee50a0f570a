import { DeleteBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runValidateLogs } from "../../src/cli/validate-logs.ts";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { POLICY_MAX_AGE_MS } from "../../src/pipeline/delivery-policy.ts";
import { ACCOUNT, type CloudTrailRecord, managementRecord } from "../delivery/fixtures.ts";
import { createBucket, type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { deliveredIds as idsInFiles, bucketKeys as listKeys } from "./policies.ts";

/*
 * A bucket policy that breaks after CreateTrail (policy-checks.md §6): moto stores policies but
 * applies none of them to opentrail's puts (only a Deny of everyone refuses them), as no
 * S3-compatible server treats opentrail as CloudTrail's service principal. So delivery evaluates
 * the policy before each put: removed, or naming another trail in aws:SourceArn, the put fails
 * with AccessDenied, GetTrailStatus shows it while IsLogging stays true, and the records wait;
 * once the policy is back every record arrives in exactly one file. Delivery reads a policy that
 * allowed at most every POLICY_MAX_AGE_MS, and again after a refusal: the server's clock is moved
 * past that once, after the policy is removed. Digest files are asked about as log files are:
 * refused, LatestDigestDeliveryError shows AccessDenied and the chain waits, and once the policy
 * is back the digests that were due are written and validate-logs accepts the whole chain.
 */

const REGION = "us-east-1";
const BUCKET = "ot-policy-removed";
const TRAIL = "breaks-later";
const arnOf = (trail: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trail}`;

/** The User Guide's policy, for the trail of `sourceArn`. */
function policy(sourceArn: string, bucket = BUCKET): string {
  const principal = { Service: "cloudtrail.amazonaws.com" };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringEquals: { "aws:SourceArn": sourceArn } },
      },
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${ACCOUNT}/*`,
        Condition: {
          StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": sourceArn },
        },
      },
    ],
  });
}

let ahead = 0;
const clock = { now: () => new Date(Date.now() + ahead) };
let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
const api = () => httpClient({ endpoint: server.url });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto);
  await createBucket(moto, BUCKET);
  await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy(arnOf(TRAIL)) }));
  server = await startTestServer(
    {
      deliveryIntervalMs: 3_600_000,
      digestIntervalMs: 60_000,
      policyChecks: "aws",
      s3: s3Settings(moto),
    },
    { clock },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  s3?.destroy();
  await moto?.stop();
});

const bucketKeys = (bucket = BUCKET) => listKeys(s3, bucket);
const deliveredIds = () => idsInFiles(s3, BUCKET);

describe("a bucket policy that breaks after CreateTrail (moto S3)", () => {
  it("fails delivery with AccessDenied while it is broken, and delivers everything once it is back", async () => {
    await api().createTrail({ Name: TRAIL, S3BucketName: BUCKET });
    await api().startLogging({ Name: TRAIL });
    const ingested: string[] = [];
    const send = async (from: number, count: number) => {
      const records = Array.from({ length: count }, (_, i) => managementRecord(from + i));
      ingested.push(...(await ingest(records)).eventIds);
    };

    await send(1, 5);
    await server.app.delivery.drain();
    const healthy = await api().getTrailStatus({ Name: TRAIL });
    expect(healthy.LatestDeliveryError).toBeUndefined();
    expect(healthy.LatestDeliveryTime).toBeInstanceOf(Date);
    const before = await bucketKeys();
    expect(before.length).toBeGreaterThanOrEqual(1);

    // the policy goes away: the put is refused, the file waits
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    await send(100, 5);
    // the policy read for the first file is still trusted: the change shows once it is older
    ahead += POLICY_MAX_AGE_MS + 1_000;
    await server.app.delivery.drain();
    const removed = await api().getTrailStatus({ Name: TRAIL });
    expect(removed.IsLogging).toBe(true);
    expect(removed.LatestDeliveryError).toBe("AccessDenied");
    expect(removed.LatestDeliveryTime).toEqual(healthy.LatestDeliveryTime);
    expect(await bucketKeys()).toEqual(before);

    // back, but for another trail (the lab's case of a policy naming an old trail): still refused
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy(arnOf("another-trail")) }));
    await send(200, 5);
    await server.app.delivery.drain();
    expect((await api().getTrailStatus({ Name: TRAIL })).LatestDeliveryError).toBe("AccessDenied");
    expect(await bucketKeys()).toEqual(before);

    // the right policy again: what waited is delivered, the error goes
    await s3.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: policy(arnOf(TRAIL)) }));
    await send(300, 5);
    await server.app.delivery.drain();
    const resumed = await api().getTrailStatus({ Name: TRAIL });
    expect(resumed.LatestDeliveryError).toBeUndefined();
    expect(resumed.LatestDeliveryTime!.getTime()).toBeGreaterThan(healthy.LatestDeliveryTime!.getTime());
    expect((await bucketKeys()).length).toBeGreaterThan(before.length);

    const delivered = await deliveredIds();
    expect(ingested).toHaveLength(20);
    expect(
      ingested.filter((id) => delivered.get(id) !== 1),
      "records not in exactly one file",
    ).toEqual([]);
    expect([...delivered.keys()].sort()).toEqual([...ingested].sort());
  });
});

describe("digests under a bucket policy that breaks after CreateTrail (moto S3)", () => {
  it("fail with AccessDenied while it is broken, and the chain goes on unbroken once it is back", async () => {
    // a bucket of its own: validate-logs flags files of another trail in the same folder
    const name = "validated";
    const bucket = "ot-policy-removed-digests";
    await createBucket(moto, bucket);
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy(arnOf(name), bucket) }));
    const startedAt = new Date(Date.now() + ahead);
    await api().createTrail({ Name: name, S3BucketName: bucket, EnableLogFileValidation: true });
    await api().startLogging({ Name: name });
    const digestKeys = async () =>
      (await bucketKeys(bucket)).filter((k) => k.includes("/CloudTrail-Digest/"));
    const deliverAll = async () => {
      await server.app.delivery.drain();
      await server.app.digests.drain();
    };
    // a minute's digest period passes (and the policy read for the last put ages out)
    const step = async () => {
      ahead += Math.max(60_000, POLICY_MAX_AGE_MS) + 1_000;
      await ingest([managementRecord(900 + Math.floor(ahead / 1000))]);
      await deliverAll();
    };

    await deliverAll();
    await step();
    const healthy = await api().getTrailStatus({ Name: name });
    expect(healthy.LatestDigestDeliveryError).toBeUndefined();
    expect(healthy.LatestDigestDeliveryTime).toBeInstanceOf(Date);
    const digestsBefore = await digestKeys();
    expect(digestsBefore.length).toBeGreaterThanOrEqual(1);

    // the status call above is a record of the trail's: delivered first, so that the digest is due
    // over lanes with nothing waiting (a digest waits for its period's log files)
    await server.app.delivery.drain();
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    ahead += Math.max(60_000, POLICY_MAX_AGE_MS) + 1_000;
    await server.app.digests.drain();
    const broken = await api().getTrailStatus({ Name: name });
    expect(broken.LatestDigestDeliveryError).toBe("AccessDenied");
    expect(broken.LatestDigestDeliveryTime).toEqual(healthy.LatestDigestDeliveryTime);
    expect(await digestKeys()).toEqual(digestsBefore);

    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy(arnOf(name), bucket) }));
    await step();
    const resumed = await api().getTrailStatus({ Name: name });
    expect(resumed.LatestDigestDeliveryError).toBeUndefined();
    expect((await digestKeys()).length).toBeGreaterThan(digestsBefore.length + 1);

    await api().stopLogging({ Name: name });
    await deliverAll();
    await deliverAll();
    let out = "";
    const code = await runValidateLogs(
      {
        trailArn: arnOf(name),
        startTime: new Date(startedAt.getTime() - 60_000).toISOString(),
        endTime: new Date(Date.now() + ahead + 3_600_000).toISOString(),
        endpoint: server.url,
        s3Endpoint: moto.endpoint,
        verbose: true,
        concurrency: "4",
      },
      {
        env: { AWS_DEFAULT_REGION: REGION, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
        cwd: process.cwd(),
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (out += s) },
      },
    );
    expect(code, out).toBe(0);
    expect(out).toMatch(/^(\d+)\/\1 digest files valid$/m);
  });
});
