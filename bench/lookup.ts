/**
 * Event history at scale: fills a file database through `EventStore.append` (batches of 500
 * synthetic ~1 KB records) and then times LookupEvents-like queries. Prints figures only.
 *
 *   npx tsc -p tsconfig.bench.json && node .bench-dist/bench/lookup.js [--events N] [--queries N]
 *     [--dir D] [--keep] [--skip-fill]
 *
 * Without --dir the database goes to a fresh temporary directory that is removed at the end.
 * --skip-fill runs the queries only, on the database an earlier `--dir D` run left.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSqlite, type SqliteDb } from "../src/adapters/sqlite/index.ts";
import type { LookupKey, LookupQuery, StoredEvent } from "../src/ports/index.ts";
import { prng } from "./support/records.ts";

const BATCH = 500;
const DAYS = 90;
const DAY_MS = 86_400_000;

/** Picks index i with weight 1/(i+1)^s: a few names, users and sources carry most events. */
function zipf(n: number, s: number, random: () => number): () => number {
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

function weighted<T>(items: readonly (readonly [T, number])[], random: () => number): () => T {
  return () => {
    let x = random();
    for (const [item, weight] of items) {
      x -= weight;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  };
}

const ACCOUNTS = [
  ["111122223333", 0.6],
  ["444455556666", 0.3],
  ["777788889999", 0.1],
] as const;
const REGIONS = [
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

interface Workload {
  event(time: number): StoredEvent;
  /** A value of `key` as the workload produces them, for queries. */
  value(key: Exclude<LookupKey, "EventId">, account: string, region: string): string;
}

function workload(seed: number): Workload {
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

  function management(time: number): StoredEvent {
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
    const eventId = uuid();
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
      json: JSON.stringify(record),
    };
  }

  function insight(time: number): StoredEvent {
    const acct = account();
    const reg = region();
    const op = NAMES[name()]!;
    const eventId = uuid();
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
      accountId: acct,
      region: reg,
      eventId,
      eventTime: new Date(time),
      category: "Insight",
      eventName: op.name,
      eventSource: op.source,
      resources: [],
      json: JSON.stringify(record),
    };
  }

  return {
    event: (time) => (random() < 0.002 ? insight(time) : management(time)),
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

const ms = (n: number) => n.toFixed(2).padStart(7);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface Known {
  accountId: string;
  region: string;
  eventId: string;
  category: string;
}

/** Appends `total` events over the 90 days before `now`; returns a sample of them for EventId lookups. */
async function fill(sqlite: SqliteDb, total: number, work: Workload, random: () => number, now: number) {
  const first = now - DAYS * DAY_MS;
  const step = (DAYS * DAY_MS) / total;
  const known: Known[] = [];
  let appendMs = 0;
  let cpuMicros = 0;
  let bytes = 0;
  let lastReport = performance.now();
  const fillStart = lastReport;
  for (let done = 0; done < total; ) {
    const batch: StoredEvent[] = [];
    for (let i = 0; i < BATCH && done < total; i++, done++) {
      // Mostly in time order, as events arrive; 1% are late records from anywhere in the 90 days.
      const time =
        random() < 0.01
          ? first + Math.floor(random() * (now - first))
          : Math.floor(first + done * step + random() * 1000);
      const event = work.event(Math.min(time, now));
      bytes += event.json.length;
      batch.push(event);
      if (random() < 2000 / total) {
        const { accountId, region, eventId, category } = event;
        known.push({ accountId, region, eventId, category });
      }
    }
    const cpu = process.cpuUsage();
    const t = performance.now();
    await sqlite.events.append(batch);
    appendMs += performance.now() - t;
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    sampleRss();
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      console.log(
        `  ${done} events, ${Math.round(done / (appendMs / 1000))} records/s in append, rss ${mib(peakRss)}`,
      );
    }
  }
  const fillMs = performance.now() - fillStart;
  console.log(
    `append: ${total} records (avg ${Math.round(bytes / total)} B of JSON) in ${(appendMs / 1000).toFixed(1)} s ` +
      `inside append = ${Math.round(total / (appendMs / 1000))} records/s; ` +
      `CPU ${(cpuMicros / total).toFixed(1)} µs/record (user+system, all threads); ` +
      `fill with generation ${(fillMs / 1000).toFixed(1)} s`,
  );
  return known;
}

/** For a database filled by an earlier run: its time span and a sample of its events. */
function survey(sqlite: SqliteDb, random: () => number): { first: number; now: number; known: Known[] } {
  const span = sqlite.db
    .prepare<[], { first: number; now: number }>(
      "SELECT min(id) >> 21 AS first, max(id) >> 21 AS now FROM events",
    )
    .get()!;
  const at = sqlite.db.prepare<[number], Known>(
    `SELECT s.account_id AS accountId, s.region, s.category, e.event_id AS eventId
     FROM events AS e JOIN event_scopes AS s ON s.id = e.scope
     WHERE e.id >= (CAST(? AS INTEGER) << 21) ORDER BY e.id LIMIT 1`,
  );
  const known: Known[] = [];
  for (let i = 0; i < 2000; i++) {
    const row = at.get(Math.floor(span.first + random() * (span.now - span.first)));
    if (row !== undefined) known.push(row);
  }
  return { ...span, known };
}

const KINDS: (LookupKey | "none")[] = [
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

/** LookupEvents-like queries: random attribute and value, random time range, a quarter of them next pages. */
async function lookups(
  sqlite: SqliteDb,
  queries: number,
  known: Known[],
  work: Workload,
  random: () => number,
  [first, now]: [number, number],
): Promise<void> {
  const latencies = new Map<string, number[]>(KINDS.map((k) => [k, []]));
  const rowsOf = new Map<string, number>(KINDS.map((k) => [k, 0]));
  const all: number[] = [];
  let rows = 0;
  let pages = 0;
  let previous: { query: LookupQuery; last: StoredEvent } | undefined;
  for (let i = 0; i < queries; i++) {
    let query: LookupQuery;
    let kind: LookupKey | "none";
    if (previous !== undefined && random() < 0.25) {
      // The next page of the previous query, as the CLI asks for it.
      const { last } = previous;
      query = { ...previous.query, after: { eventTime: last.eventTime, eventId: last.eventId } };
      kind = query.attribute?.key ?? "none";
      pages++;
    } else {
      kind = KINDS[Math.floor(random() * KINDS.length)]!;
      const sample = known[Math.floor(random() * known.length)]!;
      const insight = kind !== "EventId" && random() < 0.05;
      const accountId = kind === "EventId" ? sample.accountId : weighted(ACCOUNTS, random)();
      const region = kind === "EventId" ? sample.region : weighted(REGIONS, random)();
      const a = first + random() * (now - first);
      const b = first + random() * (now - first);
      query = {
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
    }
    const t = performance.now();
    const found = await sqlite.events.lookup(query);
    const elapsed = performance.now() - t;
    sampleRss();
    latencies.get(kind)!.push(elapsed);
    all.push(elapsed);
    rows += found.length;
    rowsOf.set(kind, rowsOf.get(kind)! + found.length);
    previous = found.length === query.limit ? { query, last: found[found.length - 1]! } : undefined;
  }

  console.log(`lookup: ${queries} queries (${pages} of them next pages), limit 50, ${rows} events returned`);
  console.log("  attribute       count  rows/q    p50 ms    p95 ms    p99 ms    max ms");
  const line = (label: string, list: number[], returned: number) => {
    const sorted = [...list].sort((x, y) => x - y);
    console.log(
      `  ${label.padEnd(14)} ${String(list.length).padStart(6)} ${(returned / list.length).toFixed(1).padStart(7)} ` +
        `${ms(percentile(sorted, 0.5))}   ${ms(percentile(sorted, 0.95))}   ${ms(percentile(sorted, 0.99))}   ` +
        `${ms(sorted[sorted.length - 1] ?? Number.NaN)}`,
    );
  };
  for (const [kind, list] of latencies) if (list.length > 0) line(kind, list, rowsOf.get(kind)!);
  line("all", all, rows);
}

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: "string", default: "5000000" },
      queries: { type: "string", default: "2000" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      "skip-fill": { type: "boolean", default: false },
    },
  });
  const total = Number(values.events);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), "opentrail-bench-"));
  const path = join(dir, "events.db");
  const sqlite = openSqlite(path);
  const work = workload(1);
  const random = prng(2);

  let span: [number, number];
  let known: Known[];
  if (values["skip-fill"]) {
    const surveyed = survey(sqlite, random);
    span = [surveyed.first, surveyed.now];
    known = surveyed.known;
    console.log(`lookups only, on ${path}`);
  } else {
    const now = Date.now();
    console.log(`filling ${path} with ${total} events in batches of ${BATCH}`);
    known = await fill(sqlite, total, work, random, now);
    span = [now - DAYS * DAY_MS, now];
  }
  const size = (suffix: string) => (existsSync(path + suffix) ? statSync(path + suffix).size : 0);
  console.log(`database: ${mib(size(""))} + WAL ${mib(size("-wal"))}, peak rss so far ${mib(peakRss)}`);

  peakRss = 0;
  await lookups(sqlite, Number(values.queries), known, work, random, span);
  console.log(`peak rss during lookups ${mib(peakRss)}`);

  sqlite.close();
  if (values.dir === undefined && !values.keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${path}`);
}

await main();
