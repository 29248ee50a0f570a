import { expect, it } from "vitest";
import { OPERATIONS, type OperationName } from "../../src/api/index.ts";
import { INPUT_SHAPES, type Shape } from "../../src/wire/shapes.ts";
import type { RawRequest, RawResponse } from "../../src/wire/types.ts";
import { BOTO_PREFIX, JS_PREFIX, NOW, signed } from "./sign.ts";

/**
 * Property: whatever a correctly signed client sends, the answer is a 2xx, or a 4xx in the AWS
 * error shape — never a 5xx. Bodies come from a seeded PRNG, so a failure names its seed and
 * index and can be replayed.
 */

/** mulberry32: a tiny PRNG with a 32-bit state, good enough to spread test cases. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly next: () => number;
  constructor(next: () => number) {
    this.next = next;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Strings the service gives meaning to, so that generated requests also get past validation. */
const MEANINGFUL = [
  "",
  "t",
  "ab",
  "fuzz-trail",
  "fuzz-trail-2",
  "Fuzz_Trail.3",
  "192.168.5.4",
  "-bad",
  "a--b",
  "fuzz-bucket",
  "Bad_Bucket",
  "prefix/",
  "arn:aws:cloudtrail:us-east-1:111122223333:trail/fuzz-trail",
  "arn:aws:cloudtrail:us-west-2:111122223333:trail/fuzz-trail",
  "arn:aws:cloudtrail:us-east-1:999999999999:trail/other",
  "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x",
  "arn:aws:s3:::fuzz-bucket/",
  "arn:aws:sns:us-east-1:111122223333:topic",
  "alias/fuzz",
  "arn:aws:logs:us-east-1:111122223333:log-group:g:*",
  "arn:aws:iam::111122223333:role/r",
  "All",
  "ReadOnly",
  "WriteOnly",
  "AWS::S3::Object",
  "AWS::Lambda::Function",
  "AWS::DynamoDB::Table",
  "eventCategory",
  "Management",
  "Data",
  "resources.type",
  "eventName",
  "ApiCallRateInsight",
  "ApiErrorRateInsight",
  "insight",
  "EventName",
  "ReadOnly",
  "Username",
  "EventId",
  "true",
  "aws:reserved",
  "kms.amazonaws.com",
  "x".repeat(129),
  "y".repeat(257),
  "z".repeat(2001),
  "ünïcødé ✓ \u0000 \ud83d\ude00",
  "\ud800",
  "__proto__",
  "constructor",
];

const AWKWARD_NUMBERS = [
  0, -0, 1, -1, 0.5, 7.9, 50, 51, 2147483647, 2147483648, -2147483649, 1e21, 1e308, -1e308, 5e-324,
];

function randomString(g: Gen): string {
  if (g.chance(0.6)) return g.pick(MEANINGFUL);
  const length = g.pick([0, 1, 3, 10, 64, 300]);
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(g.chance(0.9) ? 32 + g.int(95) : g.int(0xffff));
  return s;
}

/** Any JSON value, of any type. */
function randomJson(g: Gen, depth: number): unknown {
  const kind = g.int(depth <= 0 ? 5 : 7);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return g.chance(0.5);
    case 2:
      return g.pick(AWKWARD_NUMBERS);
    case 3:
      return (g.next() - 0.5) * 10 ** g.int(12);
    case 4:
      return randomString(g);
    case 5:
      return Array.from({ length: g.int(5) }, () => randomJson(g, depth - 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = g.int(5); i > 0; i--) out[randomString(g)] = randomJson(g, depth - 1);
      return out;
    }
  }
}

function randomTimestamp(g: Gen): unknown {
  const now = NOW.getTime() / 1000;
  return g.pick([
    () => Math.floor(now - g.int(200 * 86400)),
    () => now - g.next() * 86400 * 100,
    () => new Date((now - g.int(86400 * 120)) * 1000).toISOString(),
    () => 0,
    () => -1e12,
    () => 8.64e12,
    () => "2020-02-30T00:00:00Z",
  ])();
}

const TRAIL_REFS = [
  "fuzz-trail",
  "fuzz-trail",
  "fuzz-trail-2",
  "arn:aws:cloudtrail:us-east-1:111122223333:trail/fuzz-trail",
  "arn:aws:cloudtrail:us-west-2:111122223333:trail/fuzz-trail-2",
];
const TRAIL_ARNS = TRAIL_REFS.filter((r) => r.startsWith("arn:"));

/** Values the service accepts, by member name, so that trails get created and then found. */
const PLAUSIBLE: Readonly<Record<string, readonly unknown[]>> = {
  Name: TRAIL_REFS,
  TrailName: TRAIL_REFS,
  trailNameList: TRAIL_REFS,
  ResourceId: TRAIL_ARNS,
  ResourceIdList: TRAIL_ARNS,
  S3BucketName: ["fuzz-bucket"],
  S3KeyPrefix: ["", "logs", "a/b"],
  Key: ["env", "team", "owner"],
  Value: ["prod", "x"],
  ReadWriteType: ["All", "ReadOnly", "WriteOnly"],
  InsightType: ["ApiCallRateInsight", "ApiErrorRateInsight"],
  EventCategories: ["Management", "Data"],
  AttributeKey: ["EventName", "Username", "ReadOnly", "EventSource"],
  AttributeValue: ["CreateTrail", "true", "tester"],
  EventCategory: ["insight"],
  Field: ["eventCategory", "resources.type", "eventName", "readOnly"],
  Equals: ["Management", "Data", "AWS::S3::Object", "true"],
  Type: ["AWS::S3::Object", "AWS::Lambda::Function"],
  Values: ["arn:aws:s3:::fuzz-bucket/", "arn:aws:s3"],
  IsOrganizationTrail: [false],
  IncludeGlobalServiceEvents: [true],
};
/** Members a plausible request nearly always carries. */
const ESSENTIAL = new Set([
  "Name",
  "TrailName",
  "S3BucketName",
  "ResourceId",
  "ResourceIdList",
  "Key",
  "InsightSelectors",
]);
/** Members that usually make a request fail; sent rarely in plausible requests. */
const TROUBLESOME = new Set([
  "SnsTopicName",
  "KmsKeyId",
  "CloudWatchLogsLogGroupArn",
  "CloudWatchLogsRoleArn",
  "EventDataStore",
  "InsightsDestination",
  "NextToken",
]);

/**
 * A value of the right type most of the time, and of any type otherwise. With `plausible`, members
 * the service gives meaning to mostly get values it accepts.
 */
function fromShape(
  g: Gen,
  shape: Shape,
  depth: number,
  corruption: number,
  plausible = false,
  name = "",
): unknown {
  if (g.chance(corruption)) return randomJson(g, 2);
  const known = plausible ? PLAUSIBLE[name] : undefined;
  if (known && typeof shape === "string" && g.chance(0.8)) return g.pick(known);
  if (shape === "string") return randomString(g);
  if (shape === "boolean") return g.chance(0.5);
  if (shape === "integer") return g.chance(0.7) ? 1 + g.int(60) : g.pick(AWKWARD_NUMBERS);
  if (shape === "timestamp") return randomTimestamp(g);
  if ("list" in shape) {
    const length = g.pick(plausible ? [0, 1, 1, 2] : [0, 1, 1, 2, 3, 6, 21, 60]);
    return Array.from({ length: depth > 4 ? 0 : length }, () =>
      fromShape(g, shape.list, depth + 1, corruption, plausible, name),
    );
  }
  const out: Record<string, unknown> = {};
  for (const [member, memberShape] of Object.entries(shape.members)) {
    const presence = !plausible ? 0.65 : TROUBLESOME.has(member) ? 0.05 : ESSENTIAL.has(member) ? 0.95 : 0.5;
    if (g.chance(presence)) out[member] = fromShape(g, memberShape, depth + 1, corruption, plausible, member);
  }
  if (g.chance(0.1)) out[randomString(g)] = randomJson(g, 2);
  return out;
}

function deepNesting(g: Gen, member: string): string {
  const depth = g.pick([50, 1000, 20000, 100000]);
  const [open, close] = g.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
  const inner = g.chance(0.5) ? "1" : "";
  return `{"${member}":${open.repeat(depth)}${inner}${close.repeat(g.chance(0.8) ? depth : depth - 1)}}`;
}

function hugeNumbers(g: Gen, member: string): string {
  const number = g.pick([
    "1e400",
    "-1e400",
    "123456789012345678901234567890123",
    "0.0000000000000000000000001",
    "-0",
    "1E+2",
  ]);
  return `{"${member}":${number}}`;
}

function garbage(g: Gen): Buffer {
  const bytes = Buffer.alloc(g.int(200));
  for (let i = 0; i < bytes.length; i++) bytes[i] = g.int(256);
  if (g.chance(0.3) && bytes.length > 0) bytes[0] = 0x7b;
  return bytes;
}

function invalidUtf8(g: Gen, member: string): Buffer {
  return Buffer.concat([
    Buffer.from(`{"${member}":"`),
    Buffer.from([g.pick([0xff, 0xc0, 0xe2, 0xed]), 0x80 + g.int(64)]),
    Buffer.from('"}'),
  ]);
}

export interface FuzzCase {
  index: number;
  operation: OperationName;
  body: Buffer;
  request: RawRequest;
}

/** Builds case `index` of the sequence for `seed`; deterministic, so failures can be replayed. */
export async function fuzzCase(seed: number, index: number): Promise<FuzzCase> {
  const g = new Gen(mulberry32(seed ^ Math.imul(index + 1, 0x9e3779b1)));
  const operation = OPERATIONS[index % OPERATIONS.length]!;
  const members = Object.keys(INPUT_SHAPES[operation].members);
  const member = g.pick(members);
  const strategy = g.int(10);
  let body: Buffer;
  if (strategy <= 3) {
    body = Buffer.from(JSON.stringify(fromShape(g, INPUT_SHAPES[operation], 0, 0.02, g.chance(0.7))));
  } else if (strategy <= 5) {
    body = Buffer.from(JSON.stringify(fromShape(g, INPUT_SHAPES[operation], 0, 0.35)));
  } else if (strategy === 6) {
    body = Buffer.from(JSON.stringify({ [member]: randomJson(g, 4) }));
  } else if (strategy === 7) {
    body = Buffer.from(g.chance(0.5) ? deepNesting(g, member) : hugeNumbers(g, member));
  } else if (strategy === 8) {
    body = g.chance(0.5) ? garbage(g) : invalidUtf8(g, member);
  } else {
    body = Buffer.from(JSON.stringify(randomJson(g, 3)));
  }
  const request = await signed({
    target: `${g.chance(0.5) ? JS_PREFIX : BOTO_PREFIX}.${operation}`,
    body,
    region: g.chance(0.8) ? "us-east-1" : "us-west-2",
    style: g.chance(0.5) ? "sdk" : "botocore",
    contentType: g.chance(0.9) ? "application/x-amz-json-1.1" : "application/json",
  });
  return { index, operation, body, request };
}

function problem(res: RawResponse): string | undefined {
  if (!res.headers["x-amzn-requestid"]) return "no x-amzn-RequestId";
  if (res.status >= 200 && res.status < 300) {
    try {
      const body: unknown = JSON.parse(res.body);
      return typeof body === "object" && body !== null && !Array.isArray(body)
        ? undefined
        : "2xx body not an object";
    } catch {
      return "2xx body not JSON";
    }
  }
  if (res.status < 400 || res.status >= 500) return `status ${res.status}`;
  try {
    const body = JSON.parse(res.body) as Record<string, unknown>;
    if (typeof body.__type !== "string" || typeof body.message !== "string")
      return "4xx without __type/message";
    if (res.headers["x-amzn-errortype"] !== body.__type) return "x-amzn-ErrorType differs from __type";
  } catch {
    return "4xx body not JSON";
  }
  return undefined;
}

/**
 * Registers one test that sends `count` fuzzed, correctly signed bodies (spread over all 18
 * operations) to a handler built by `makeHandler`, and fails listing every non-conforming answer.
 */
export function fuzzWire(
  makeHandler: () => Promise<(req: RawRequest) => Promise<RawResponse>>,
  count: number,
  seed = 20131101,
): void {
  it(`${count} fuzzed requests (seed ${seed}) get a 2xx or an AWS-shaped 4xx, never a 5xx`, async () => {
    const handle = await makeHandler();
    const failures: string[] = [];
    let pastTypeChecks = 0;
    for (let i = 0; i < count; i++) {
      const c = await fuzzCase(seed, i);
      const res = await handle(c.request);
      if (res.headers["x-amzn-errortype"] !== "SerializationException") pastTypeChecks++;
      const why = problem(res);
      if (why) {
        failures.push(
          `#${i} ${c.operation}: ${why}; body ${JSON.stringify(c.body.toString("utf8").slice(0, 200))} → ${res.status} ${res.body.slice(0, 300)}`,
        );
      }
    }
    expect(failures).toEqual([]);
    // The generator must reach the service too, not only bounce off the type checks.
    expect(pastTypeChecks).toBeGreaterThan(count / 4);
  });
}
