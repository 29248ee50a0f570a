import { CreateKeyCommand, DisableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { POLICY_MAX_AGE_MS } from "../../src/pipeline/delivery-policy.ts";
import { managementRecord, wholeSecond } from "../delivery/fixtures.ts";
import { type FaultyS3Front, startFaultyS3Front } from "../support/faulty-s3.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { cloudTrailKeyPolicy, createCloudTrailBucket, deliveredIds } from "./policies.ts";

/*
 * A log file whose put wrote it but answered 500, and whose retry is then refused because the
 * trail's KMS key was disabled (a failure that says that try wrote nothing): when the trail moves
 * to another key, the records waiting at the old destination go to the new one, but not those of
 * the file already written, which would then be in two files. opentrail puts to moto through a
 * front that answers the first put 500 after moto took it.
 */

const REGION = "us-east-1";
const BUCKET = "ot-kms-written-moved";
const TRAIL = "written-then-moved";

let ahead = 0;
const clock = { now: () => new Date(Date.now() + ahead) };
let moto: S3TestServer;
let front: FaultyS3Front;
let server: TestServer;
let s3: S3Client;
let kms: KMSClient;
const api = () => httpClient({ endpoint: server.url });

async function ingest(from: number, count: number): Promise<string[]> {
  const eventTime = wholeSecond(clock.now());
  const records = Array.from({ length: count }, (_, i) => managementRecord(from + i, { eventTime }));
  return (await ingestClient({ endpoint: server.url }).send(records)).eventIds;
}

async function newKey(): Promise<{ id: string; arn: string }> {
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Policy: cloudTrailKeyPolicy() }));
  return { id: KeyMetadata!.KeyId!, arn: KeyMetadata!.Arn! };
}

beforeAll(async () => {
  moto = await startMoto();
  front = await startFaultyS3Front(moto.endpoint);
  s3 = s3Client(moto);
  kms = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.credentials });
  await createCloudTrailBucket(moto, s3, BUCKET);
  server = await startTestServer(
    {
      deliveryIntervalMs: 3_600_000,
      policyChecks: "aws",
      s3: { ...s3Settings(moto), endpoint: front.endpoint },
      upstreams: { services: { kms: moto.endpoint } },
    },
    { clock },
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  await front?.close();
  s3?.destroy();
  kms?.destroy();
  await moto?.stop();
});

describe("a file written by a put that looked failed, then refused for its key, when the trail moves to another key", () => {
  it("is recorded as delivered, and its records are not delivered again at the new key", async () => {
    const first = await newKey();
    await api().createTrail({ Name: TRAIL, S3BucketName: BUCKET, KmsKeyId: first.arn });
    await api().startLogging({ Name: TRAIL });
    const status = () => api().getTrailStatus({ Name: TRAIL });

    // the put writes the file, and answers 500: the file stays pending
    front.failPuts = true;
    const ingested = await ingest(1, 5);
    await server.app.delivery.drain();
    expect((await status()).LatestDeliveryError).toBe("InternalError");
    expect([...(await deliveredIds(s3, BUCKET)).values()]).toEqual([1, 1, 1, 1, 1]);
    front.failPuts = false;

    // its retry is refused: the key is disabled
    await kms.send(new DisableKeyCommand({ KeyId: first.id }));
    ahead += POLICY_MAX_AGE_MS + 1_000;
    await server.app.delivery.drain();
    expect((await status()).LatestDeliveryError).toBe("KMS.DisabledException");

    // the trail moves to another key: what waits goes there, what was written stays delivered
    const second = await newKey();
    expect((await api().updateTrail({ Name: TRAIL, KmsKeyId: second.arn })).KmsKeyId).toBe(second.arn);
    ingested.push(...(await ingest(100, 5)));
    await server.app.delivery.drain();
    await server.app.delivery.drain();
    expect((await status()).LatestDeliveryError).toBeUndefined();

    const delivered = await deliveredIds(s3, BUCKET);
    expect(
      ingested.filter((id) => delivered.get(id) !== 1).map((id) => [id, delivered.get(id) ?? 0]),
      "records not in exactly one file (id, files)",
    ).toEqual([]);
    expect([...delivered.keys()].sort()).toEqual([...ingested].sort());
  });
});
