import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  GetLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { InsightsConfig } from "../../src/config/index.ts";
import { clockedClient } from "../support/clocked-client.ts";
import {
  burst,
  call,
  clock,
  freshDir,
  type InsightRecord,
  ingest,
  insightFiles,
  insightRecords,
  iso,
  MINUTE,
  type Node,
  REGION,
  startNode,
  T0,
  trailWithInsights,
} from "../support/insights.ts";
import { DEV_KEY } from "../support/proxy.ts";
import { createQueue, takeMessages } from "../support/queues.ts";
import { type S3TestServer, startMoto } from "../support/s3-servers.ts";

/*
 * Insights end to end, in process, on a stepped clock: records go in through POST /ingest, the
 * Insights worker is drained instead of waited for, records come back through LookupEvents and
 * the delivered CloudTrail-Insight files. The clock starts 14 minutes before real time so that
 * the ingest client's signatures stay within the allowed skew.
 */

describe("Insights turned off by the event selectors, and during the warm-up", () => {
  let dir: string;
  let node: Node;
  afterEach(async () => {
    await node?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A trail with a call-rate selector at T0, `before` the recipe's burst, which is then ingested. */
  async function burstOn(trail: string, before: () => Promise<void>, knobs: Partial<InsightsConfig> = {}) {
    clock.ms = T0;
    dir = freshDir();
    node = await startNode(dir, knobs);
    await trailWithInsights(node, trail, [{ InsightType: "ApiCallRateInsight" }]);
    await node.app.insights!.drain();
    await before();
    await ingest(node, burst(node.accountId));
  }

  async function recordsAt(minute: number): Promise<InsightRecord[]> {
    clock.ms = T0 + minute * MINUTE;
    await node.app.insights!.drain();
    return insightRecords(node);
  }

  it("gives no call-rate Insight once the trail stops logging write management events", async () => {
    // the prerequisite (insights.md §2), checked again at each pass: PutEventSelectors may drop it
    await burstOn("read-only-trail", async () => {
      await node.api.putEventSelectors({
        TrailName: "read-only-trail",
        EventSelectors: [{ ReadWriteType: "ReadOnly", IncludeManagementEvents: true }],
      });
    });
    expect(await recordsAt(14)).toEqual([]);
  });

  it("still gives error-rate Insights on a trail that logs read management events only", async () => {
    clock.ms = T0;
    dir = freshDir();
    node = await startNode(dir);
    await trailWithInsights(node, "read-errors-trail", [
      { InsightType: "ApiCallRateInsight" },
      { InsightType: "ApiErrorRateInsight" },
    ]);
    await node.api.putEventSelectors({
      TrailName: "read-errors-trail",
      EventSelectors: [{ ReadWriteType: "ReadOnly", IncludeManagementEvents: true }],
    });
    await node.app.insights!.drain();
    const denied = Array.from({ length: 10 }, (_, n) =>
      call(node.accountId, 10, n, { name: "GetUser", readOnly: true, errorCode: "AccessDenied" }),
    );
    await ingest(node, [...burst(node.accountId), ...denied]);
    const found = await recordsAt(14);
    expect(
      found.map((r) => [r.insightDetails.eventName, r.insightDetails.insightType, r.insightDetails.state]),
    ).toEqual([
      ["GetUser", "ApiErrorRateInsight", "Start"],
      ["GetUser", "ApiErrorRateInsight", "End"],
    ]);
  });

  it("gives nothing during the warm-up", async () => {
    await burstOn("warm-trail", async () => {}, { warmupMinutes: 30 });
    expect(await recordsAt(14)).toEqual([]);
  });
});

/** The recipe's Start and End statistics (insights.md §6.6). */
const RECIPE = {
  start: { baseline: { average: 1 }, insight: { average: 20 }, insightDuration: 1, baselineDuration: 10 },
  end: { baseline: { average: 1 }, insight: { average: 20 }, insightDuration: 2, baselineDuration: 10 },
};

/** Runs `call(n)` at second n of each minute of the recipe: one a minute for ten minutes, then 20 and 20. */
async function recipeCalls(call: (n: number) => Promise<void>): Promise<void> {
  for (let m = 0; m < 12; m++) {
    for (let n = 0; n < (m < 10 ? 1 : 20); n++) {
      clock.ms = T0 + m * MINUTE + n * 1000;
      await call(n);
    }
  }
}

/** The attributions of a recipe Insight whose calls all came from one caller with one user agent. */
function oneCallerAttributions(arn: string, userAgent: string, insight: number) {
  return [
    { attribute: "userIdentityArn", value: arn },
    { attribute: "userAgent", value: userAgent },
    { attribute: "errorCode", value: "null" },
  ].map(({ attribute, value }) => ({
    attribute,
    insight: [{ value, average: insight }],
    baseline: [{ value, average: 1 }],
  }));
}

/** The records of the management calls named `name`, from event history. */
async function callRecords(node: Node, name: string): Promise<Record<string, unknown>[]> {
  const answer = await node.api.lookupEvents({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: name }],
    StartTime: new Date(T0 - 60 * MINUTE),
    EndTime: new Date(T0 + 60 * MINUTE),
    MaxResults: 50,
  });
  return (answer.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!) as Record<string, unknown>);
}

describe("Insights on CloudTrail's own API calls", () => {
  let dir: string;
  let node: Node;
  let records: InsightRecord[];
  let addTags: Record<string, unknown>[];

  beforeAll(async () => {
    clock.ms = T0;
    dir = freshDir();
    node = await startNode(dir);
    await trailWithInsights(node, "api-trail", [
      { InsightType: "ApiCallRateInsight" },
      { InsightType: "ApiErrorRateInsight" },
    ]);
    await node.app.insights!.drain();
    const arn = `arn:aws:cloudtrail:${REGION}:${node.accountId}:trail/api-trail`;
    // a fresh client per call: the SDK would otherwise correct its clock to the answers' dates
    const over = async (f: (api: ReturnType<typeof clockedClient>) => Promise<unknown>) => {
      const api = clockedClient(node.app.url, clock);
      try {
        await f(api);
      } finally {
        api.client.destroy();
      }
    };
    // write calls: AddTags at the recipe's rate, over HTTP with the official client
    await recipeCalls((n) =>
      over((api) => api.addTags({ ResourceId: arn, TagsList: [{ Key: `k${n}`, Value: String(clock.ms) }] })),
    );
    // failed calls: ten GetTrail of a trail that does not exist, in minute 10
    for (let n = 0; n < 10; n++) {
      clock.ms = T0 + 10 * MINUTE + n * 1000 + 500;
      await over((api) =>
        api.getTrail({ Name: "no-such-trail" }).then(
          () => {
            throw new Error("GetTrail of a missing trail answered");
          },
          (e: { name?: string }) => expect(e.name).toBe("TrailNotFoundException"),
        ),
      );
    }
    clock.ms = T0 + 14 * MINUTE;
    await node.app.insights!.drain();
    await node.app.delivery.drain();
    records = await insightRecords(node);
    addTags = await callRecords(node, "AddTags");
  });
  afterAll(async () => {
    await node?.app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives a call-rate Insight with the recipe's statistics and the caller's attributions", () => {
    const calls = records.filter((r) => r.insightDetails.insightType === "ApiCallRateInsight");
    expect(
      calls.map((r) => [r.insightDetails.eventSource, r.insightDetails.eventName, r.insightDetails.state]),
    ).toEqual([
      ["cloudtrail.amazonaws.com", "AddTags", "Start"],
      ["cloudtrail.amazonaws.com", "AddTags", "End"],
    ]);
    const [start, end] = calls;
    expect(start!.eventTime).toBe(iso(T0 + 10 * MINUTE));
    expect(end!.eventTime).toBe(iso(T0 + 12 * MINUTE));
    expect(start!.sharedEventID).toBe(end!.sharedEventID);
    expect(start!.insightDetails.insightContext.statistics).toEqual(RECIPE.start);
    expect(end!.insightDetails.insightContext.statistics).toEqual(RECIPE.end);
    // the records of the calls say who called and with what; the attributions must agree
    expect(addTags).toHaveLength(50);
    const arns = new Set(addTags.map((r) => (r.userIdentity as { arn: string }).arn));
    const agents = new Set(addTags.map((r) => r.userAgent as string));
    expect([arns.size, agents.size]).toEqual([1, 1]);
    const expected = oneCallerAttributions([...arns][0]!, [...agents][0]!, 20);
    expect(start!.insightDetails.insightContext.attributions).toEqual(expected);
    expect(end!.insightDetails.insightContext.attributions).toEqual(expected);
  });

  it("gives an error-rate Insight for a burst of failed calls", () => {
    const errors = records.filter((r) => r.insightDetails.insightType === "ApiErrorRateInsight");
    expect(
      errors.map((r) => [r.insightDetails.eventName, r.insightDetails.errorCode, r.insightDetails.state]),
    ).toEqual([
      ["GetTrail", "TrailNotFoundException", "Start"],
      ["GetTrail", "TrailNotFoundException", "End"],
    ]);
    expect(errors[0]!.insightDetails.insightContext.statistics).toEqual({
      baseline: { average: 0 },
      insight: { average: 10 },
      insightDuration: 1,
      baselineDuration: 10,
    });
    expect(errors[1]!.eventTime).toBe(iso(T0 + 11 * MINUTE));
  });

  it("delivers them under the trail's CloudTrail-Insight folder", async () => {
    const delivered = (await insightFiles(node, "api-trail")).flatMap((f) => f.records.map((r) => r.eventID));
    expect(delivered.sort()).toEqual(records.map((r) => r.eventID).sort());
  });
});

describe("Insights on calls through the recording proxy", () => {
  let moto: S3TestServer;
  let dir: string;
  let node: Node;
  let records: InsightRecord[];

  beforeAll(async () => {
    moto = await startMoto();
    clock.ms = T0;
    dir = freshDir();
    node = await startNode(dir, {}, { upstreams: { default: moto.endpoint, services: {} } });
    await trailWithInsights(node, "proxy-trail", [{ InsightType: "ApiCallRateInsight" }]);
    await node.app.insights!.drain();
    // IAM CreateUser to moto through opentrail at the recipe's rate, signed at the service's clock
    await recipeCalls(async () => {
      const iam = new IAMClient({
        endpoint: node.app.url,
        region: REGION,
        credentials: DEV_KEY,
        maxAttempts: 1,
        systemClockOffset: clock.now().getTime() - Date.now(),
      });
      try {
        await iam.send(new CreateUserCommand({ UserName: `user-${clock.ms}` }));
      } finally {
        iam.destroy();
      }
    });
    clock.ms = T0 + 14 * MINUTE;
    await node.app.insights!.drain();
    await node.app.delivery.drain();
    records = await insightRecords(node);
  }, 60_000);
  afterAll(async () => {
    await node?.app.close();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives one Start and one End with the recipe's statistics and the caller's attributions", async () => {
    const created = await callRecords(node, "CreateUser");
    expect(created).toHaveLength(50);
    expect(created.every((r) => r.eventSource === "iam.amazonaws.com" && r.readOnly === false)).toBe(true);
    expect(
      records.map((r) => [r.insightDetails.eventSource, r.insightDetails.eventName, r.insightDetails.state]),
    ).toEqual([
      ["iam.amazonaws.com", "CreateUser", "Start"],
      ["iam.amazonaws.com", "CreateUser", "End"],
    ]);
    const [start, end] = records;
    expect(start!.sharedEventID).toBe(end!.sharedEventID);
    expect([start!.eventTime, end!.eventTime]).toEqual([iso(T0 + 10 * MINUTE), iso(T0 + 12 * MINUTE)]);
    expect(start!.insightDetails.insightContext.statistics).toEqual(RECIPE.start);
    expect(end!.insightDetails.insightContext.statistics).toEqual(RECIPE.end);
    const arns = new Set(created.map((r) => (r.userIdentity as { arn: string }).arn));
    const agents = new Set(created.map((r) => r.userAgent as string));
    expect([arns.size, agents.size]).toEqual([1, 1]);
    const expected = oneCallerAttributions([...arns][0]!, [...agents][0]!, 20);
    expect(start!.insightDetails.insightContext.attributions).toEqual(expected);
    expect(end!.insightDetails.insightContext.attributions).toEqual(expected);
    const delivered = (await insightFiles(node, "proxy-trail")).flatMap((f) =>
      f.records.map((r) => r.eventID),
    );
    expect(delivered.sort()).toEqual(records.map((r) => r.eventID).sort());
  });
});

describe("Insights files and digests", () => {
  it("are delivered beside the trail's log files, which the digests list, without them (insights.md §5)", async () => {
    clock.ms = T0;
    const dir = freshDir();
    const node = await startNode(dir);
    try {
      mkdirSync(join(dir, "buckets", "digest-trail"), { recursive: true });
      await node.api.createTrail({
        Name: "digest-trail",
        S3BucketName: "digest-trail",
        EnableLogFileValidation: true,
      });
      await node.api.startLogging({ Name: "digest-trail" });
      await node.api.putInsightSelectors({
        TrailName: "digest-trail",
        InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
      });
      await node.app.insights!.drain();
      // the digest chain opens at T0
      await node.app.digests.drain();
      await ingest(node, burst(node.accountId));
      clock.ms = T0 + 14 * MINUTE;
      await node.app.insights!.drain();
      await node.app.delivery.drain();
      const insights = await insightFiles(node, "digest-trail");
      expect(insights.flatMap((f) => f.records.map((r) => r.insightDetails.state)).sort()).toEqual([
        "End",
        "Start",
      ]);
      // past the end of the chain's first hour: the digest of its files is due
      clock.ms = T0 + 65 * MINUTE;
      await node.app.delivery.drain();
      await node.app.digests.drain();
      const listed: string[] = [];
      const head = `AWSLogs/${node.accountId}/`;
      let digests = 0;
      for await (const key of node.app.objects.listKeys("digest-trail", `${head}CloudTrail-Digest/`)) {
        digests++;
        const object = await node.app.objects.getObject("digest-trail", key);
        const digest = JSON.parse(gunzipSync(object!.body).toString()) as {
          logFiles: { s3Object: string }[];
        };
        listed.push(...digest.logFiles.map((f) => f.s3Object));
      }
      expect(digests).toBeGreaterThan(0);
      const logFiles: string[] = [];
      for await (const key of node.app.objects.listKeys("digest-trail", `${head}CloudTrail/`))
        logFiles.push(key);
      expect(logFiles.length).toBeGreaterThan(0);
      expect(listed.sort()).toEqual(logFiles.sort());
      for (const f of insights) expect(listed).not.toContain(f.key);
    } finally {
      await node.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Insights to CloudWatch Logs and EventBridge (moto)", () => {
  let moto: S3TestServer;
  let dir: string;
  let node: Node;
  let logs: CloudWatchLogsClient;
  let events: EventBridgeClient;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    const clientConfig = { endpoint: moto.endpoint, region: REGION, credentials: moto.credentials };
    logs = new CloudWatchLogsClient(clientConfig);
    events = new EventBridgeClient(clientConfig);
    sqs = new SQSClient(clientConfig);
  }, 60_000);
  afterAll(async () => {
    await node?.app.close();
    logs?.destroy();
    events?.destroy();
    sqs?.destroy();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sends the Start and End to the trail's log stream, and to the default bus as 'AWS Insight via CloudTrail' from aws.cloudtrail", async () => {
    clock.ms = T0;
    dir = freshDir();
    node = await startNode(
      dir,
      {},
      {
        eventBridge: "on",
        policyChecks: "off",
        upstreams: { services: { logs: moto.endpoint, events: moto.endpoint } },
      },
    );
    const account = node.accountId;
    await logs.send(new CreateLogGroupCommand({ logGroupName: "insights-group" }));
    const queue = await createQueue(sqs, "insights-target");
    // the pattern AWS documents for Insights on EventBridge
    await events.send(
      new PutRuleCommand({
        Name: "insights",
        EventPattern: JSON.stringify({
          source: ["aws.cloudtrail"],
          "detail-type": ["AWS Insight via CloudTrail"],
        }),
      }),
    );
    await events.send(new PutTargetsCommand({ Rule: "insights", Targets: [{ Id: "q", Arn: queue.arn }] }));
    mkdirSync(join(dir, "buckets", "streamed"), { recursive: true });
    await node.api.createTrail({
      Name: "streamed",
      S3BucketName: "streamed",
      CloudWatchLogsLogGroupArn: `arn:aws:logs:${REGION}:${account}:log-group:insights-group:*`,
      CloudWatchLogsRoleArn: `arn:aws:iam::${account}:role/CloudTrail_CloudWatchLogs_Role`,
    });
    await node.api.startLogging({ Name: "streamed" });
    await node.api.putInsightSelectors({
      TrailName: "streamed",
      InsightSelectors: [{ InsightType: "ApiCallRateInsight" }],
    });
    await node.app.insights!.drain();
    await ingest(node, burst(account));
    clock.ms = T0 + 14 * MINUTE;
    await node.app.insights!.drain();
    await node.app.delivery.drain();
    await node.app.cloudWatch!.drain();
    await node.app.eventBridge!.drain();

    const insights = await insightRecords(node);
    expect(insights.map((r) => r.insightDetails.state)).toEqual(["Start", "End"]);
    const ids = insights.map((r) => r.eventID).sort();

    const stream = await logs.send(
      new GetLogEventsCommand({
        logGroupName: "insights-group",
        logStreamName: `${account}_CloudTrail_${REGION}`,
        startFromHead: true,
      }),
    );
    const streamed = (stream.events ?? []).map((e) => JSON.parse(e.message!) as Record<string, unknown>);
    // the management calls are streamed too; the Insights records exactly once each, as delivered
    const streamedInsights = streamed.filter((r) => r.eventType === "AwsCloudTrailInsight");
    expect(streamedInsights.map((r) => r.eventID).sort()).toEqual(ids);
    expect(streamed.filter((r) => r.eventType === "AwsApiCall")).toHaveLength(50);
    const start = insights[0]!;
    expect(streamedInsights.find((r) => r.eventID === start.eventID)).toEqual(start);

    const bus = await takeMessages<{
      "detail-type": string;
      source: string;
      region: string;
      detail: InsightRecord;
    }>(sqs, queue.url);
    expect(bus.map((m) => m.detail.eventID).sort()).toEqual(ids);
    for (const m of bus) {
      expect(m).toMatchObject({
        "detail-type": "AWS Insight via CloudTrail",
        source: "aws.cloudtrail",
        region: REGION,
      });
    }
    expect(bus.find((m) => m.detail.eventID === start.eventID)!.detail).toEqual(start);
  }, 60_000);
});
