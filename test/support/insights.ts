import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { InsightSelector } from "@aws-sdk/client-cloudtrail";
import { pino } from "pino";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { inProcessClient } from "../../src/client/in-process.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { type Config, type InsightsConfig, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";

/*
 * What the in-process Insights suites share: the knobs of insights.md §6.6, a stepped clock that
 * starts 14 minutes before real time (the ingest client signs at it, so its signatures stay
 * current however long a suite runs), nodes on that clock, the recipe's records, and readers of
 * the Insights records in event history and in the delivered CloudTrail-Insight files. Each test
 * file gets its own module instance, so its own clock.
 */

/** insights.md §6.6. */
export const KNOBS: InsightsConfig = {
  baselineMinutes: 10,
  warmupMinutes: 0,
  multiplier: 3,
  sigmas: 4,
  floorCallRate: 5,
  floorErrorRate: 5,
  endQuietMinutes: 2,
  maxDurationMinutes: 360,
  cooldownMinutes: 5,
  graceSeconds: 0,
  detectDrops: false,
};

export const MINUTE = 60_000;
export const T0 = Math.floor(Date.now() / MINUTE) * MINUTE - 14 * MINUTE;
export const REGION = "us-east-1";
export const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;

/** The suites' clock: `clock.ms` is set by the tests; nodes and signatures read `clock.now()`. */
export const clock = {
  ms: T0,
  now(): Date {
    return new Date(clock.ms);
  },
};

/** The members of an Insights record these tests read. */
export interface InsightRecord {
  eventTime: string;
  eventID: string;
  sharedEventID: string;
  insightDetails: {
    state: string;
    eventSource: string;
    eventName: string;
    insightType: string;
    errorCode?: string;
    insightContext: { statistics: Record<string, unknown>; attributions?: unknown[] };
  };
  [member: string]: unknown;
}

export interface Node {
  app: OpenTrail;
  api: CloudTrailApi;
  accountId: string;
}

/** A node on `dataDir` and the stepped clock, with the suites' knobs and `insights` over them. */
export async function startNode(
  dataDir: string,
  insights: Partial<InsightsConfig> = {},
  more: Partial<Config> = {},
): Promise<Node> {
  const config: Config = {
    ...loadConfig({ flags: { port: 0, dataDir } }),
    ingestWorkers: 0,
    insights: { ...KNOBS, ...insights },
    ...more,
  };
  const app = await startOpenTrail(config, { log: pino({ level: "silent" }), clock });
  const accountId = config.credentials[0]!.accountId;
  const api = inProcessClient(app.service, {
    principal: {
      accountId,
      type: "IAMUser",
      arn: `arn:aws:iam::${accountId}:user/admin`,
      userName: "admin",
    } as never,
    region: REGION,
    clock,
  });
  return { app, api, accountId };
}

/** One management call record of `minute` (from T0), the n-th of its minute. */
export function call(
  accountId: string,
  minute: number,
  n: number,
  o: { name?: string; user?: string; readOnly?: boolean; errorCode?: string } = {},
): Record<string, unknown> {
  const user = o.user ?? "carol";
  return {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${accountId}:user/${user}`,
      accountId,
      userName: user,
    },
    eventTime: iso(T0 + minute * MINUTE + (n % 60) * 1000),
    eventSource: "iam.amazonaws.com",
    eventName: o.name ?? "CreateUser",
    awsRegion: REGION,
    sourceIPAddress: "192.0.2.1",
    userAgent: "aws-cli/2.15.0",
    ...(o.errorCode ? { errorCode: o.errorCode, errorMessage: "denied" } : {}),
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: o.readOnly ?? false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: "Management",
  };
}

/** The recipe's calls: one CreateUser a minute for ten minutes (carol), then 20 and 20 (alice 12, bob 8). */
export function burst(accountId: string, o: { name?: string; errorCode?: string; readOnly?: boolean } = {}) {
  const records: Record<string, unknown>[] = [];
  for (let m = 0; m < 10; m++) records.push(call(accountId, m, 0, o));
  for (const m of [10, 11]) {
    for (let n = 0; n < 20; n++)
      records.push(call(accountId, m, n, { ...o, user: n < 12 ? "alice" : "bob" }));
  }
  return records;
}

export async function ingest(node: Node, records: Record<string, unknown>[]): Promise<void> {
  await ingestClient({ endpoint: node.app.url, signingDate: clock.now }).send(records);
}

export async function trailWithInsights(
  node: Node,
  name: string,
  selectors: InsightSelector[],
): Promise<string> {
  mkdirSync(join(node.app.config.dataDir, "buckets", name), { recursive: true });
  await node.api.createTrail({ Name: name, S3BucketName: name });
  await node.api.startLogging({ Name: name });
  await node.api.putInsightSelectors({ TrailName: name, InsightSelectors: selectors });
  return name;
}

/** The Insights records of event history, in time order (then by event name). */
export async function insightRecords(node: Node): Promise<InsightRecord[]> {
  const answer = await node.api.lookupEvents({
    EventCategory: "insight",
    StartTime: new Date(T0 - 60 * MINUTE),
    EndTime: new Date(T0 + 60 * MINUTE),
  });
  return (answer.Events ?? [])
    .map((e) => JSON.parse(e.CloudTrailEvent!) as InsightRecord)
    .sort(
      (a, b) =>
        a.eventTime.localeCompare(b.eventTime) ||
        a.insightDetails.eventName.localeCompare(b.insightDetails.eventName),
    );
}

/** The delivered CloudTrail-Insight files of `bucket`, each with its records. */
export async function insightFiles(
  node: Node,
  bucket: string,
): Promise<{ key: string; records: InsightRecord[] }[]> {
  const prefix = `AWSLogs/${node.accountId}/CloudTrail-Insight/${REGION}/`;
  const out = [];
  for await (const key of node.app.objects.listKeys(bucket, prefix)) {
    const object = await node.app.objects.getObject(bucket, key);
    out.push({
      key,
      records: (JSON.parse(gunzipSync(object!.body).toString()) as { Records: InsightRecord[] }).Records,
    });
  }
  return out;
}

export function freshDir(): string {
  return mkdtempSync(join(tmpdir(), "opentrail-insights-"));
}
