/**
 * Management records shaped like the ones CloudTrail writes (about 1 KB each as JSON), for load
 * and crash runs. Seeded: one seed gives one sequence of records.
 */

/** mulberry32: small, fast and good enough to pick shapes and moments. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hex(random: () => number, digits: number): string {
  let out = "";
  while (out.length < digits)
    out += Math.floor(random() * 0x10000)
      .toString(16)
      .padStart(4, "0");
  return out.slice(0, digits);
}

function uuid(random: () => number): string {
  const h = hex(random, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

interface Call {
  source: string;
  name: string;
  readOnly: boolean;
  params: (random: () => number) => Record<string, unknown> | null;
  response?: (random: () => number) => Record<string, unknown> | null;
  resources?: (accountId: string, random: () => number) => { ARN: string; accountId: string; type: string }[];
}

const CALLS: readonly Call[] = [
  {
    source: "ec2.amazonaws.com",
    name: "DescribeInstances",
    readOnly: true,
    params: (r) => ({
      instancesSet: { items: [{ instanceId: `i-${hex(r, 17)}` }] },
      filterSet: { items: [{ name: "instance-state-name", valueSet: { items: [{ value: "running" }] } }] },
    }),
  },
  {
    source: "s3.amazonaws.com",
    name: "CreateBucket",
    readOnly: false,
    params: (r) => ({ bucketName: `logs-${hex(r, 10)}`, Host: "s3.us-east-1.amazonaws.com" }),
    resources: (accountId, r) => [
      { ARN: `arn:aws:s3:::logs-${hex(r, 10)}`, accountId, type: "AWS::S3::Bucket" },
    ],
  },
  {
    source: "iam.amazonaws.com",
    name: "ListRoles",
    readOnly: true,
    params: () => ({ maxItems: 100 }),
  },
  {
    source: "sts.amazonaws.com",
    name: "AssumeRole",
    readOnly: false,
    params: (r) => ({
      roleArn: "arn:aws:iam::123456789012:role/deploy",
      roleSessionName: `ci-${hex(r, 8)}`,
      durationSeconds: 3600,
    }),
    response: (r) => ({
      credentials: { accessKeyId: `ASIA${hex(r, 16).toUpperCase()}`, expiration: "Jan 1, 2030, 12:00:00 AM" },
      assumedRoleUser: {
        assumedRoleId: `AROA${hex(r, 17).toUpperCase()}:ci`,
        arn: "arn:aws:sts::assumed-role/deploy/ci",
      },
    }),
  },
  {
    source: "lambda.amazonaws.com",
    name: "UpdateFunctionConfiguration20150331v2",
    readOnly: false,
    params: (r) => ({ functionName: `handler-${hex(r, 6)}`, memorySize: 512, timeout: 30 }),
    response: (r) => ({ functionName: `handler-${hex(r, 6)}`, runtime: "nodejs20.x", state: "Active" }),
  },
  {
    source: "kms.amazonaws.com",
    name: "DescribeKey",
    readOnly: true,
    params: (r) => ({ keyId: uuid(r) }),
    resources: (accountId, r) => [
      { ARN: `arn:aws:kms:us-east-1:${accountId}:key/${uuid(r)}`, accountId, type: "AWS::KMS::Key" },
    ],
  },
];

const AGENTS = [
  "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances",
  "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.1.79 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
  "aws-sdk-js/3.540.0 ua/2.0 os/linux#5.10.210 lang/js md/nodejs#20.11.1 api/cloudtrail#3.540.0",
  "console.amazonaws.com",
];

function userIdentity(accountId: string, random: () => number): Record<string, unknown> {
  const user = `user-${Math.floor(random() * 20)}`;
  return {
    type: "IAMUser",
    principalId: `AIDA${hex(random, 17).toUpperCase()}`,
    arn: `arn:aws:iam::${accountId}:user/${user}`,
    accountId,
    accessKeyId: `AKIA${hex(random, 16).toUpperCase()}`,
    userName: user,
  };
}

function sessionIdentity(accountId: string, time: string, random: () => number): Record<string, unknown> {
  const session = `session-${Math.floor(random() * 40)}`;
  const principalId = `AROA${hex(random, 17).toUpperCase()}`;
  return {
    type: "AssumedRole",
    principalId: `${principalId}:${session}`,
    arn: `arn:aws:sts::${accountId}:assumed-role/Admin/${session}`,
    accountId,
    accessKeyId: `ASIA${hex(random, 16).toUpperCase()}`,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId,
        arn: `arn:aws:iam::${accountId}:role/Admin`,
        accountId,
        userName: "Admin",
      },
      attributes: { creationDate: time, mfaAuthenticated: "false" },
    },
  };
}

export interface RecordSource {
  /** The next record; ids are unique for the life of this source. */
  next(eventTime: Date): Record<string, unknown>;
}

export interface RecordSourceOptions {
  seed: number;
  accountId: string;
  region: string;
}

/**
 * Records with unique eventIDs: a per-source prefix and a counter, so uniqueness does not depend
 * on the generator (a 32-bit PRNG state would repeat ids within a few hundred thousand).
 */
export function recordSource(opts: RecordSourceOptions): RecordSource {
  const random = prng(opts.seed);
  const prefix = uuid(random).slice(0, 23);
  let counter = 0;
  const { accountId, region } = opts;
  return {
    next(eventTime) {
      const call = pick(CALLS, random);
      // the format of log-files.md: seconds, UTC, no fraction
      const time = `${eventTime.toISOString().slice(0, 19)}Z`;
      const record: Record<string, unknown> = {
        eventVersion: "1.09",
        userIdentity:
          random() < 0.5 ? userIdentity(accountId, random) : sessionIdentity(accountId, time, random),
        eventTime: time,
        eventSource: call.source,
        eventName: call.name,
        awsRegion: region,
        sourceIPAddress: `198.51.100.${Math.floor(random() * 250) + 1}`,
        userAgent: pick(AGENTS, random),
        requestParameters: call.params(random),
        responseElements: call.response ? call.response(random) : null,
        requestID: uuid(random),
        eventID: `${prefix}-${(counter++).toString(16).padStart(12, "0")}`,
        readOnly: call.readOnly,
        eventType: "AwsApiCall",
        managementEvent: true,
        recipientAccountId: accountId,
        eventCategory: "Management",
        tlsDetails: {
          tlsVersion: "TLSv1.3",
          cipherSuite: "TLS_AES_128_GCM_SHA256",
          clientProvidedHostHeader: `${call.source.split(".")[0]}.${region}.amazonaws.com`,
        },
      };
      if (call.resources) record.resources = call.resources(accountId, random);
      return record;
    },
  };
}
