import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ACCOUNT } from "../delivery/fixtures.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { cloudTrailKeyPolicy, createCloudTrailBucket } from "./policies.ts";

/*
 * KmsKeyId against moto's KMS: every form resolves to the key's ARN, a missing or disabled key
 * is refused, and with policy checks on the key policy must let CloudTrail use the key.
 */

const REGION = "us-east-1";
const BUCKET = "ot-kms-logs";

let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let kms: KMSClient;
const api = () => httpClient({ endpoint: server.url });

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto);
  kms = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.credentials });
  await createCloudTrailBucket(moto, s3, BUCKET);
  server = await startTestServer({
    policyChecks: "aws",
    s3: s3Settings(moto),
    upstreams: { services: { kms: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  s3?.destroy();
  kms?.destroy();
  await moto?.stop();
});

afterEach(async () => {
  for (const t of (await api().listTrails({})).Trails ?? []) await api().deleteTrail({ Name: t.TrailARN });
});

async function newKey(policy?: string): Promise<{ id: string; arn: string }> {
  const res = await kms.send(new CreateKeyCommand(policy ? { Policy: policy } : {}));
  return { id: res.KeyMetadata!.KeyId!, arn: res.KeyMetadata!.Arn! };
}

describe("KmsKeyId with a KMS endpoint (moto)", () => {
  it("answers with the key ARN for a key id, key ARN, alias name and alias ARN", async () => {
    const key = await newKey(cloudTrailKeyPolicy());
    await kms.send(new CreateAliasCommand({ AliasName: "alias/ct-logs", TargetKeyId: key.id }));
    const forms = [key.id, key.arn, "alias/ct-logs", `arn:aws:kms:${REGION}:${ACCOUNT}:alias/ct-logs`];
    for (const [i, form] of forms.entries()) {
      const created = await api().createTrail({ Name: `kms-${i}`, S3BucketName: BUCKET, KmsKeyId: form });
      expect(created.KmsKeyId).toBe(key.arn);
      expect((await api().getTrail({ Name: `kms-${i}` })).Trail?.KmsKeyId).toBe(key.arn);
      await api().deleteTrail({ Name: `kms-${i}` });
    }
  });

  it("refuses a key that does not exist with KmsKeyNotFoundException", async () => {
    await expect(
      api().createTrail({ Name: "no-key", S3BucketName: BUCKET, KmsKeyId: "alias/no-such-alias" }),
    ).rejects.toMatchObject({ name: "KmsKeyNotFoundException" });
  });

  it("refuses a disabled key with KmsException", async () => {
    const key = await newKey(cloudTrailKeyPolicy());
    await kms.send(new DisableKeyCommand({ KeyId: key.id }));
    await expect(
      api().createTrail({ Name: "disabled-key", S3BucketName: BUCKET, KmsKeyId: key.arn }),
    ).rejects.toMatchObject({ name: "KmsException" });
  });

  it("refuses a key whose policy does not let CloudTrail use it (KMS's default policy)", async () => {
    const key = await newKey();
    await expect(
      api().createTrail({ Name: "default-key", S3BucketName: BUCKET, KmsKeyId: key.arn }),
    ).rejects.toMatchObject({
      name: "InsufficientEncryptionPolicyException",
      message: `Insufficient permissions to access S3 bucket ${BUCKET} or KMS key ${key.arn}.`,
    });
  });

  it("refuses a key whose encryption-context condition names another account's trails", async () => {
    const key = await newKey(cloudTrailKeyPolicy("210987654321"));
    await expect(
      api().createTrail({ Name: "other-context", S3BucketName: BUCKET, KmsKeyId: key.arn }),
    ).rejects.toMatchObject({ name: "InsufficientEncryptionPolicyException" });
  });

  it("resolves the key given to UpdateTrail", async () => {
    const key = await newKey(cloudTrailKeyPolicy());
    await kms.send(new CreateAliasCommand({ AliasName: "alias/ct-update", TargetKeyId: key.id }));
    await api().createTrail({ Name: "later-key", S3BucketName: BUCKET });
    const updated = await api().updateTrail({ Name: "later-key", KmsKeyId: "alias/ct-update" });
    expect(updated.KmsKeyId).toBe(key.arn);
  });
});
