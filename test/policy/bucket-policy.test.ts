import { DeleteBucketPolicyCommand, PutBucketPolicyCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { createBucket, type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/*
 * The bucket policy check of CreateTrail and UpdateTrail (policy-checks.md §2, §7) against moto's
 * S3, which stores bucket policies as given: the policies of AWS's documentation pass, each way of
 * getting them wrong is refused with AWS's exception and message.
 */

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const PRINCIPAL = { Service: "cloudtrail.amazonaws.com" };
const arnOf = (trail: string) => `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trail}`;

interface PolicyOpts {
  prefix?: string;
  sourceArn?: string;
  sourceAccount?: string;
  acl?: boolean;
  aclCheck?: boolean;
  write?: boolean;
  extra?: object[];
}

/** The policy of the CloudTrail User Guide, with parts changed or left out. */
function policy(bucket: string, trail: string, o: PolicyOpts = {}): string {
  const source = o.sourceAccount
    ? { "aws:SourceAccount": o.sourceAccount }
    : { "aws:SourceArn": o.sourceArn ?? arnOf(trail) };
  const prefix = o.prefix === undefined ? "" : `${o.prefix}/`;
  const statements: object[] = [];
  if (o.aclCheck !== false) {
    statements.push({
      Sid: "AWSCloudTrailAclCheck20150319",
      Effect: "Allow",
      Principal: PRINCIPAL,
      Action: "s3:GetBucketAcl",
      Resource: `arn:aws:s3:::${bucket}`,
      Condition: { StringEquals: source },
    });
  }
  if (o.write !== false) {
    statements.push({
      Sid: "AWSCloudTrailWrite20150319",
      Effect: "Allow",
      Principal: PRINCIPAL,
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${bucket}/${prefix}AWSLogs/${ACCOUNT}/*`,
      Condition: {
        StringEquals: o.acl === false ? source : { "s3:x-amz-acl": "bucket-owner-full-control", ...source },
      },
    });
  }
  return JSON.stringify({ Version: "2012-10-17", Statement: [...statements, ...(o.extra ?? [])] });
}

/** The older form without conditions on the source, still in the documentation and in Terraform examples. */
function legacyPolicy(bucket: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: PRINCIPAL,
        Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Effect: "Allow",
        Principal: PRINCIPAL,
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${ACCOUNT}/*`,
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
      },
    ],
  });
}

let s3: S3TestServer;
let server: TestServer;
let client: S3Client;
let n = 0;
const api = () => httpClient({ endpoint: server.url });

beforeAll(async () => {
  s3 = await startMoto();
  client = s3Client(s3);
  server = await startTestServer({
    policyChecks: "aws",
    s3: s3Settings(s3),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  client?.destroy();
  await s3?.stop();
});

// five trails per region: each test starts without any
afterEach(async () => {
  for (const t of (await api().listTrails({})).Trails ?? []) await api().deleteTrail({ Name: t.TrailARN });
});

/** A fresh bucket with `document` as its policy (none when undefined). */
async function bucketWith(document: ((bucket: string, trail: string) => string) | undefined) {
  n++;
  const bucket = `ot-policy-${n}`;
  const trail = `trail-${n}`;
  await createBucket(s3, bucket);
  if (document)
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: document(bucket, trail) }));
  return { bucket, trail };
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    const err = e as Error;
    return { name: err.name, message: err.message };
  }
}

const ACCEPTED: [string, (b: string, t: string) => string, string | undefined][] = [
  ["the User Guide's policy with aws:SourceArn", (b, t) => policy(b, t), undefined],
  [
    "aws:SourceAccount instead of aws:SourceArn",
    (b, t) => policy(b, t, { sourceAccount: ACCOUNT }),
    undefined,
  ],
  [
    "a list of trail ARNs in aws:SourceArn",
    (b, t) => policy(b, t).replaceAll(`"${arnOf(t)}"`, JSON.stringify([arnOf("other"), arnOf(t)])),
    undefined,
  ],
  ["the older policy without source conditions", (b) => legacyPolicy(b), undefined],
  ["a prefix granted for a trail with that prefix", (b, t) => policy(b, t, { prefix: "logs" }), "logs"],
  [
    "a Deny on aws:SecureTransport false (CloudTrail writes over TLS)",
    (b, t) =>
      policy(b, t, {
        extra: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    undefined,
  ],
];

const REFUSED: [string, ((b: string, t: string) => string) | undefined, string | undefined][] = [
  ["no bucket policy", undefined, undefined],
  ["no GetBucketAcl statement", (b, t) => policy(b, t, { aclCheck: false }), undefined],
  ["no PutObject statement", (b, t) => policy(b, t, { write: false }), undefined],
  ["PutObject without the trail's prefix", (b, t) => policy(b, t), "logs"],
  ["PutObject under another prefix", (b, t) => policy(b, t, { prefix: "other" }), "logs"],
  ["aws:SourceArn of another trail", (b, t) => policy(b, t, { sourceArn: arnOf(`${t}-old`) }), undefined],
  [
    "aws:SourceAccount of another account",
    (b, t) => policy(b, t, { sourceAccount: "210987654321" }),
    undefined,
  ],
  [
    "an explicit Deny of PutObject for CloudTrail",
    (b, t) =>
      policy(b, t, {
        extra: [
          { Effect: "Deny", Principal: PRINCIPAL, Action: "s3:PutObject", Resource: `arn:aws:s3:::${b}/*` },
        ],
      }),
    undefined,
  ],
  ["PutObject without the ACL condition", (b, t) => policy(b, t, { acl: false }), undefined],
];

describe("CreateTrail evaluates the bucket policy (moto)", () => {
  it.each(ACCEPTED)("accepts %s", async (_what, document, prefix) => {
    const { bucket, trail } = await bucketWith(document);
    const created = await api().createTrail({ Name: trail, S3BucketName: bucket, S3KeyPrefix: prefix });
    expect(created.TrailARN).toBe(arnOf(trail));
  });

  it.each(REFUSED)("refuses %s", async (_what, document, prefix) => {
    const { bucket, trail } = await bucketWith(document);
    const error = await refusal(
      api().createTrail({ Name: trail, S3BucketName: bucket, S3KeyPrefix: prefix }),
    );
    expect(error).toEqual({
      name: "InsufficientS3BucketPolicyException",
      message: `Incorrect S3 bucket policy is detected for bucket: ${bucket}`,
    });
    const listed = await api().listTrails({});
    expect(listed.Trails?.map((t) => t.Name)).not.toContain(trail);
  });

  it("refuses a missing bucket with S3BucketDoesNotExistException before any policy", async () => {
    const error = await refusal(api().createTrail({ Name: "no-bucket", S3BucketName: "ot-policy-none" }));
    expect(error?.name).toBe("S3BucketDoesNotExistException");
  });
});

describe("UpdateTrail evaluates the bucket policy (moto)", () => {
  it("refuses a new prefix the policy does not grant, accepts it once granted", async () => {
    const { bucket, trail } = await bucketWith((b, t) => policy(b, t));
    await api().createTrail({ Name: trail, S3BucketName: bucket });
    const error = await refusal(api().updateTrail({ Name: trail, S3KeyPrefix: "moved" }));
    expect(error?.name).toBe("InsufficientS3BucketPolicyException");
    expect((await api().getTrail({ Name: trail })).Trail?.S3KeyPrefix).toBeUndefined();

    await client.send(
      new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy(bucket, trail, { prefix: "moved" }) }),
    );
    const updated = await api().updateTrail({ Name: trail, S3KeyPrefix: "moved" });
    expect(updated.S3KeyPrefix).toBe("moved");
  });

  it("refuses a new bucket whose policy was removed", async () => {
    const first = await bucketWith((b, t) => policy(b, t));
    await api().createTrail({ Name: first.trail, S3BucketName: first.bucket });
    n++;
    const other = `ot-policy-${n}`;
    await createBucket(s3, other);
    await client.send(new PutBucketPolicyCommand({ Bucket: other, Policy: policy(other, first.trail) }));
    await client.send(new DeleteBucketPolicyCommand({ Bucket: other }));
    const error = await refusal(api().updateTrail({ Name: first.trail, S3BucketName: other }));
    expect(error).toEqual({
      name: "InsufficientS3BucketPolicyException",
      message: `Incorrect S3 bucket policy is detected for bucket: ${other}`,
    });
  });
});
