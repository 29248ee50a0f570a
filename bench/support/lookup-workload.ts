/**
 * The event history of bench:lookup: ~1 KB management records (a few Insights events among them)
 * of three accounts and four regions, whose event names, users and resource types follow Zipf's
 * law, and LookupEvents-shaped queries over them, for the store-level run and the HTTP one alike.
 */
import type { LookupKey, LookupQuery, StoredEvent } from "../../src/ports/index.ts";
import { prng } from "./records.ts";

/** Picks index i with weight 1/(i+1)^s: a few names, users and sources carry most events. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cumulative.push(total);
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function weighted<T>(items: readonly (readonly [T, number])[], random: () => number): () => T {
  return () => {
    let x = random();
    for (const [item, weight] of items) {
      x -= weight;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  };
}

export const ACCOUNTS = [
  ["111122223333", 0.6],
  ["444455556666", 0.3],
  ["777788889999", 0.1],
] as const;
export const REGIONS = [
  ["us-east-1", 0.5],
  ["eu-west-1", 0.25],
  ["us-west-2", 0.15],
  ["ap-southeast-2", 0.1],
] as const;
const SERVICES = [
  "ec2",
  "s3",
  "iam",
  "sts",
  "lambda",
  "dynamodb",
  "rds",
  "cloudtrail",
  "kms",
  "logs",
  "monitoring",
  "sns",
  "sqs",
  "ecs",
  "eks",
  "elasticloadbalancing",
  "autoscaling",
  "cloudformation",
  "route53",
  "secretsmanager",
  "ssm",
  "config",
  "events",
  "apigateway",
  "glue",
  "athena",
  "kinesis",
  "ecr",
  "organizations",
  "signin",
].map((s) => `${s}.amazonaws.com`);
const VERBS = ["Describe", "List", "Get", "Create", "Delete", "Update", "Put", "Start", "Stop", "Tag"];
const NOUNS = [
  "Instances",
  "Buckets",
  "Roles",
  "Functions",
  "Tables",
  "Keys",
  "Trails",
  "Queues",
  "Stacks",
  "Policies",
];
/** ~200 event names, each of one service, read-only when the verb is. */
const NAMES = Array.from({ length: 200 }, (_, i) => ({
  name: `${VERBS[i % 10]}${NOUNS[Math.floor(i / 10) % 10]}${i >= 100 ? "V2" : ""}`,
  source: SERVICES[(i * 7) % SERVICES.length]!,
  readOnly: i % 10 < 3,
}));
const RESOURCE_TYPES = Array.from(
  { length: 20 },
  (_, i) => `AWS::${["EC2", "S3", "IAM", "Lambda"][i % 4]}::Type${i}`,
);

/** A record as a service would send it, and the columns event history keeps of it. */
export interface Generated {
  record: Record<string, unknown>;
  columns: Omit<StoredEvent, "json">;
}

export interface Workload {
  next(time: number): Generated;
  /** next() as the store is given it. */
  event(time: number): StoredEvent;
  /** A value of `key` as the workload produces them, for queries. */
  value(key: Exclude<LookupKey, "EventId">, account: string, region: string): string;
}

export interface WorkloadOptions {
  /**
   * eventIDs made elsewhere instead of random ones: ingest skips an id already stored for the
   * account, and random ids from a 32-bit generator repeat within a few million.
   */
  eventId?: () => string;
}

export function workload(seed: number, opts: WorkloadOptions = {}): Workload {
  const random = prng(seed);
  const account = weighted(ACCOUNTS, random);
  const region = weighted(REGIONS, random);
  const name = zipf(NAMES.length, 1.1, random);
  const user = zipf(1000, 1.0, random);
  const resourceType = zipf(RESOURCE_TYPES.length, 1.0, random);
  const hex = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[Math.floor(random() * 16)];
    return s;
  };
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;
  const accessKey = (u: number, k: number) => `ASIA${String(u * 2 + k).padStart(16, "0")}`;
  const resourceName = (acct: string, reg: string) =>
    `arn:aws:ec2:${reg}:${acct}:instance/i-${String(Math.floor(random() * 20_000)).padStart(17, "0")}`;

  function management(time: number): Generated {
    const acct = account();
    const reg = region();
    const op = NAMES[name()]!;
    const u = user();
    const username = `user-${u}`;
    const accessKeyId = accessKey(u, random() < 0.5 ? 0 : 1);
    const resources: { type: string; name: string }[] = [];
    if (random() < 0.35) {
      const count = random() < 0.8 ? 1 : 2;
      for (let i = 0; i < count; i++) {
        resources.push({ type: RESOURCE_TYPES[resourceType()]!, name: resourceName(acct, reg) });
      }
    }
    const eventId = opts.eventId?.() ?? uuid();
    const iso = new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
    const failed = random() < 0.03;
    const record = {
      eventVersion: "1.08",
      userIdentity: {
        type: "AssumedRole",
        principalId: `AROA${hex(16).toUpperCase()}:${username}`,
        arn: `arn:aws:sts::${acct}:assumed-role/Operators/${username}`,
        accountId: acct,
        accessKeyId,
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: "AROAEXAMPLEROLEID0001",
            arn: `arn:aws:iam::${acct}:role/Operators`,
            accountId: acct,
            userName: "Operators",
          },
          attributes: { creationDate: iso, mfaAuthenticated: "false" },
        },
      },
      eventTime: iso,
      eventSource: op.source,
      eventName: op.name,
      awsRegion: reg,
      sourceIPAddress: `198.51.100.${Math.floor(random() * 255)}`,
      userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
      ...(failed && {
        errorCode: "AccessDenied",
        errorMessage: "User is not authorized to perform this action",
      }),
      requestParameters: { maxResults: 100, filter: { name: "tag:team", values: [hex(6)] } },
      responseElements: null,
      requestID: uuid(),
      eventID: eventId,
      readOnly: op.readOnly,
      ...(resources.length > 0 && {
        resources: resources.map((r) => ({ ARN: r.name, accountId: acct, type: r.type })),
      }),
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: acct,
      eventCategory: "Management",
      tlsDetails: {
        tlsVersion: "TLSv1.3",
        cipherSuite: "TLS_AES_128_GCM_SHA256",
        clientProvidedHostHeader: `${op.source.split(".")[0]}.${reg}.amazonaws.com`,
      },
    };
    return {
      record,
      columns: {
        accountId: acct,
        region: reg,
        eventId,
        eventTime: new Date(time),
        category: "Management",
        eventName: op.name,
        eventSource: op.source,
        readOnly: op.readOnly,
        username,
        accessKeyId,
        resources,
      },
    };
  }

  function insight(time: number): Generated {
    const acct = account();
    const reg = region();
    const op = NAMES[name()]!;
    const eventId = opts.eventId?.() ?? uuid();
    const iso = new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
    const record = {
      eventVersion: "1.08",
      eventTime: iso,
      awsRegion: reg,
      eventID: eventId,
      eventType: "AwsCloudTrailInsight",
      recipientAccountId: acct,
      sharedEventID: uuid(),
      insightDetails: {
        state: random() < 0.5 ? "Start" : "End",
        eventSource: op.source,
        eventName: op.name,
        insightType: "ApiCallRateInsight",
        insightContext: { statistics: { baseline: { average: 0.5 }, insight: { average: 12.5 } } },
      },
      eventCategory: "Insight",
    };
    return {
      record,
      columns: {
        accountId: acct,
        region: reg,
        eventId,
        eventTime: new Date(time),
        category: "Insight",
        eventName: op.name,
        eventSource: op.source,
        resources: [],
      },
    };
  }

  const next = (time: number) => (random() < 0.002 ? insight(time) : management(time));
  return {
    next,
    event(time) {
      const { record, columns } = next(time);
      return { ...columns, json: JSON.stringify(record) };
    },
    value(key, acct, reg) {
      switch (key) {
        case "EventName":
          return NAMES[name()]!.name;
        case "EventSource":
          return NAMES[name()]!.source;
        case "ReadOnly":
          return random() < 0.5 ? "true" : "false";
        case "Username":
          return `user-${user()}`;
        case "AccessKeyId":
          return accessKey(user(), random() < 0.5 ? 0 : 1);
        case "ResourceType":
          return RESOURCE_TYPES[resourceType()]!;
        case "ResourceName":
          return resourceName(acct, reg);
      }
    },
  };
}

/** An event known to be stored, for EventId lookups. */
export interface Known {
  accountId: string;
  region: string;
  eventId: string;
  category: string;
}

export type QueryKind = LookupKey | "none";

export const KINDS: QueryKind[] = [
  "none",
  "EventId",
  "EventName",
  "EventSource",
  "ReadOnly",
  "Username",
  "AccessKeyId",
  "ResourceType",
  "ResourceName",
];

/**
 * A first page: a random attribute (or none) and value, a random time range within
 * [first, now], 50 results; an EventId lookup of a known event over the whole range. One in
 * twenty of the others asks for Insights events.
 */
export function firstPage(
  work: Workload,
  known: readonly Known[],
  random: () => number,
  [first, now]: [number, number],
): { kind: QueryKind; query: LookupQuery } {
  const kind = KINDS[Math.floor(random() * KINDS.length)]!;
  const sample = known[Math.floor(random() * known.length)]!;
  const insight = kind !== "EventId" && random() < 0.05;
  const accountId = kind === "EventId" ? sample.accountId : weighted(ACCOUNTS, random)();
  const region = kind === "EventId" ? sample.region : weighted(REGIONS, random)();
  const a = first + random() * (now - first);
  const b = first + random() * (now - first);
  const query: LookupQuery = {
    accountId,
    region,
    category: insight || (kind === "EventId" && sample.category === "Insight") ? "Insight" : "Management",
    start: new Date(Math.floor(Math.min(a, b))),
    end: new Date(Math.ceil(Math.max(a, b))),
    limit: 50,
  };
  if (kind === "EventId") {
    query.attribute = { key: kind, value: sample.eventId };
    query.start = new Date(first);
    query.end = new Date(now);
  } else if (kind !== "none") {
    query.attribute = { key: kind, value: work.value(kind, accountId, region) };
  }
  return { kind, query };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const ms = (n: number) => n.toFixed(2).padStart(7);

/** Lines of a table of latencies (ms) by attribute, with the rows each kind returned, and all of them. */
export function latencyTable(
  latencies: ReadonlyMap<string, readonly number[]>,
  rowsOf: ReadonlyMap<string, number>,
): string[] {
  const line = (label: string, list: readonly number[], returned: number) => {
    const sorted = [...list].sort((x, y) => x - y);
    return (
      `  ${label.padEnd(14)} ${String(list.length).padStart(6)} ${(returned / list.length).toFixed(1).padStart(7)} ` +
      `${ms(percentile(sorted, 0.5))}   ${ms(percentile(sorted, 0.95))}   ${ms(percentile(sorted, 0.99))}   ` +
      `${ms(sorted[sorted.length - 1] ?? Number.NaN)}`
    );
  };
  const lines = ["  attribute       count  rows/q    p50 ms    p95 ms    p99 ms    max ms"];
  for (const [kind, list] of latencies)
    if (list.length > 0) lines.push(line(kind, list, rowsOf.get(kind) ?? 0));
  const all = [...latencies.values()].flat();
  const rows = [...rowsOf.values()].reduce((a, b) => a + b, 0);
  lines.push(line("all", all, rows));
  return lines;
}
