import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ACCOUNT } from "../delivery/fixtures.ts";
import { type S3TestServer, s3Client, s3Settings, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import {
  cloudTrailLogsRolePolicy,
  cloudTrailTrustPolicy,
  createCloudTrailBucket,
  createCloudTrailLogsRole,
} from "./policies.ts";

/*
 * The CloudWatch Logs role against moto's IAM, with policy checks aws: CloudTrail must be able to
 * assume the role (its trust policy) and, as the role, create the trail's stream and put events
 * (its inline and attached policies); else CreateTrail and UpdateTrail fail as AWS does. Without
 * an IAM endpoint the role is recorded unchecked, as before.
 */

const REGION = "us-east-1";
const BUCKET = "ot-cwl-role-logs";
const GROUP = "role-group";
const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:*`;
const DENIED = {
  name: "InvalidCloudWatchLogsLogGroupArnException",
  message: "Access denied. Check the permissions for your role.",
};

let moto: S3TestServer;
let server: TestServer;
let s3: S3Client;
let iam: IAMClient;
let logs: CloudWatchLogsClient;
const api = () => httpClient({ endpoint: server.url });

beforeAll(async () => {
  moto = await startMoto();
  s3 = s3Client(moto);
  iam = new IAMClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.credentials });
  logs = new CloudWatchLogsClient({ endpoint: moto.endpoint, region: REGION, credentials: moto.credentials });
  await createCloudTrailBucket(moto, s3, BUCKET);
  await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
  server = await startTestServer({
    deliveryIntervalMs: 3_600_000,
    policyChecks: "aws",
    s3: s3Settings(moto),
    upstreams: { services: { logs: moto.endpoint, iam: moto.endpoint } },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  s3?.destroy();
  iam?.destroy();
  logs?.destroy();
  await moto?.stop();
});

afterEach(async () => {
  for (const t of (await api().listTrails({})).Trails ?? []) await api().deleteTrail({ Name: t.TrailARN });
});

const withLogs = (name: string, roleArn: string) => ({
  Name: name,
  S3BucketName: BUCKET,
  CloudWatchLogsLogGroupArn: GROUP_ARN,
  CloudWatchLogsRoleArn: roleArn,
});

/** The roles a trail must not be able to use, each made once. */
const badRoles: [string, () => Promise<string>][] = [
  ["a role that does not exist", async () => `arn:aws:iam::${ACCOUNT}:role/no-such-role`],
  [
    "a role only another service may assume",
    () =>
      createCloudTrailLogsRole(iam, "ec2-trusted", GROUP_ARN, REGION, {
        trustPolicy: cloudTrailTrustPolicy("ec2.amazonaws.com"),
      }),
  ],
  [
    "a role without logs:PutLogEvents",
    () =>
      createCloudTrailLogsRole(iam, "no-put", GROUP_ARN, REGION, {
        rolePolicy: cloudTrailLogsRolePolicy(GROUP_ARN, REGION, ACCOUNT, ["logs:CreateLogStream"]),
      }),
  ],
  [
    "a role whose policy names another log group",
    () =>
      createCloudTrailLogsRole(iam, "other-group", GROUP_ARN, REGION, {
        rolePolicy: cloudTrailLogsRolePolicy(`arn:aws:logs:${REGION}:${ACCOUNT}:log-group:other:*`, REGION),
      }),
  ],
  [
    "a role at another path than its ARN says",
    async () => {
      await iam.send(
        new CreateRoleCommand({
          RoleName: "pathed",
          Path: "/service-role/",
          AssumeRolePolicyDocument: cloudTrailTrustPolicy(),
        }),
      );
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: "pathed",
          PolicyName: "cloudtrail-logs",
          PolicyDocument: cloudTrailLogsRolePolicy(GROUP_ARN, REGION),
        }),
      );
      return `arn:aws:iam::${ACCOUNT}:role/pathed`;
    },
  ],
];
const made = new Map<string, string>();
async function badRole(label: string, make: () => Promise<string>): Promise<string> {
  if (!made.has(label)) made.set(label, await make());
  return made.get(label)!;
}

describe("CreateTrail assumes the CloudWatch Logs role (moto IAM)", () => {
  it("accepts the User Guide's role and echoes it", async () => {
    const role = await createCloudTrailLogsRole(iam, "CloudTrail_CloudWatchLogs_Role", GROUP_ARN, REGION);
    expect(role).toBe(`arn:aws:iam::${ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role`);
    const created = await api().createTrail(withLogs("good-role", role));
    expect(created).toMatchObject({ CloudWatchLogsLogGroupArn: GROUP_ARN, CloudWatchLogsRoleArn: role });
  });

  it("accepts a role under a path whose permissions come from an attached managed policy", async () => {
    const role = await iam.send(
      new CreateRoleCommand({
        RoleName: "managed-role",
        Path: "/service-role/",
        AssumeRolePolicyDocument: cloudTrailTrustPolicy(),
      }),
    );
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: "cloudtrail-logs-managed",
        PolicyDocument: cloudTrailLogsRolePolicy(GROUP_ARN, REGION),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: "managed-role", PolicyArn: policy.Policy!.Arn! }));
    const arn = role.Role!.Arn!;
    expect(arn).toBe(`arn:aws:iam::${ACCOUNT}:role/service-role/managed-role`);
    const created = await api().createTrail(withLogs("managed", arn));
    expect(created.CloudWatchLogsRoleArn).toBe(arn);
  });

  for (const [label, make] of badRoles) {
    it(`refuses ${label} with AWS's Access denied, creating nothing`, async () => {
      const role = await badRole(label, make);
      await expect(api().createTrail(withLogs("bad-role", role))).rejects.toMatchObject(DENIED);
      expect((await api().listTrails({})).Trails).toEqual([]);
    });
  }
});

describe("UpdateTrail assumes the CloudWatch Logs role (moto IAM)", () => {
  it("sets a log group with the User Guide's role", async () => {
    const role = await createCloudTrailLogsRole(iam, "update-good", GROUP_ARN, REGION);
    await api().createTrail({ Name: "update-good", S3BucketName: BUCKET });
    const updated = await api().updateTrail(withLogs("update-good", role));
    expect(updated).toMatchObject({ CloudWatchLogsLogGroupArn: GROUP_ARN, CloudWatchLogsRoleArn: role });
  });

  for (const [label, make] of badRoles) {
    it(`refuses ${label}, leaving the trail as it was`, async () => {
      const role = await badRole(label, make);
      await api().createTrail({ Name: "update-bad", S3BucketName: BUCKET });
      await expect(api().updateTrail(withLogs("update-bad", role))).rejects.toMatchObject(DENIED);
      const { Trail } = await api().getTrail({ Name: "update-bad" });
      expect(Trail?.CloudWatchLogsLogGroupArn).toBeUndefined();
      expect(Trail?.CloudWatchLogsRoleArn).toBeUndefined();
    });
  }

  it("refuses a new role alone when it cannot be used, keeping the good one", async () => {
    const good = await createCloudTrailLogsRole(iam, "kept-role", GROUP_ARN, REGION);
    await api().createTrail(withLogs("role-only", good));
    const bad = await badRole(badRoles[2]![0], badRoles[2]![1]);
    await expect(api().updateTrail({ Name: "role-only", CloudWatchLogsRoleArn: bad })).rejects.toMatchObject(
      DENIED,
    );
    expect((await api().getTrail({ Name: "role-only" })).Trail?.CloudWatchLogsRoleArn).toBe(good);
  });
});

describe("without an IAM endpoint", () => {
  let unchecked: TestServer;
  beforeAll(async () => {
    unchecked = await startTestServer({
      deliveryIntervalMs: 3_600_000,
      policyChecks: "aws",
      s3: s3Settings(moto),
      upstreams: { services: { logs: moto.endpoint } },
    });
  }, 60_000);
  afterAll(async () => {
    await unchecked?.close();
  });

  it("records the role unchecked, as before", async () => {
    const role = `arn:aws:iam::${ACCOUNT}:role/never-created`;
    const client = httpClient({ endpoint: unchecked.url });
    const created = await client.createTrail(withLogs("unchecked", role));
    expect(created.CloudWatchLogsRoleArn).toBe(role);
    await client.deleteTrail({ Name: "unchecked" });
  });
});
