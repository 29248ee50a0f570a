import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { localLogFiles } from "../delivery/fixtures.ts";
import { DEV_KEY, type ProxyRig, REGION, startProxyRig } from "../support/proxy.ts";

/**
 * EventBridge and CloudWatch Logs in depth through the recording proxy to moto, with their
 * official clients (both json protocol): the records delivered by a trail of management events
 * and event-bus data events are checked field by field against recording-other-services.md (§2.1–§2.7), and the read-only
 * call's answer is not written (§2.7).
 */

let rig: ProxyRig;
const clients: { destroy(): void }[] = [];
type Rec = Record<string, unknown>;
let records: Rec[] = [];
let history: string[] = [];
let account = "";
const TRAIL_BUCKET = "trail-bucket";
const LOG_LINE = "user signed in with password pa55word";
const EVENT_DETAIL = '{"order":"secret-order-77"}';

function one(name: string): Rec {
  const found = records.filter((r) => r.eventName === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

beforeAll(async () => {
  rig = await startProxyRig();
  rig.server.createBucket(TRAIL_BUCKET);
  const api = httpClient({ endpoint: rig.endpoint, clientConfig: { maxAttempts: 1 } });
  clients.push(api.client);
  await api.createTrail({ Name: "all", S3BucketName: TRAIL_BUCKET });
  await api.putEventSelectors({
    TrailName: "all",
    AdvancedEventSelectors: [
      { Name: "management", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
      {
        Name: "event buses",
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Data"] },
          { Field: "resources.type", Equals: ["AWS::Events::EventBus"] },
        ],
      },
    ],
  });
  await api.startLogging({ Name: "all" });
  const config = { endpoint: rig.endpoint, region: REGION, credentials: DEV_KEY, maxAttempts: 1 };

  const events = new EventBridgeClient(config);
  const logs = new CloudWatchLogsClient(config);
  clients.push(events, logs);
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/shop/orders", tags: { team: "shop" } }));
  await logs.send(new CreateLogStreamCommand({ logGroupName: "/shop/orders", logStreamName: "s1" }));
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: "/shop/orders",
      logStreamName: "s1",
      logEvents: [{ timestamp: Date.now(), message: LOG_LINE }],
    }),
  );
  await events.send(
    new PutRuleCommand({
      Name: "orders",
      EventPattern: '{"source":["shop"]}',
      State: "ENABLED",
      Description: "orders to the log",
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: "orders",
      Targets: [{ Id: "log", Arn: `arn:aws:logs:${REGION}:123456789012:log-group:/shop/orders` }],
    }),
  );
  const put = await events.send(
    new PutEventsCommand({ Entries: [{ Source: "shop", DetailType: "order placed", Detail: EVENT_DETAIL }] }),
  );
  expect(put.FailedEntryCount).toBe(0);

  const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/shop" }));
  expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(["/shop/orders"]);

  await rig.server.app.delivery.drain();
  records = localLogFiles(rig.server.bucketsDir, TRAIL_BUCKET)
    .flatMap((f) => f.records)
    .filter((r) => r.eventSource !== "cloudtrail.amazonaws.com");
  const found = await api.lookupEvents({ MaxResults: 50 });
  history = (found.Events ?? [])
    .filter((e) => e.EventSource !== "cloudtrail.amazonaws.com")
    .map((e) => e.EventName ?? "");
  account = String((records[0]?.userIdentity as Rec | undefined)?.accountId ?? "");
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await rig?.close();
});

const common = () => ({
  eventVersion: "1.08",
  awsRegion: REGION,
  eventType: "AwsApiCall",
  recipientAccountId: account,
  userIdentity: { type: "IAMUser", accessKeyId: DEV_KEY.accessKeyId, accountId: account, userName: "test" },
  sourceIPAddress: "127.0.0.1",
});

describe("EventBridge through the proxy", () => {
  it("PutRule: a management event, members in CloudTrail's spelling, the rule's ARN answered", () => {
    const rule = one("PutRule");
    expect(rule).toMatchObject({
      ...common(),
      eventSource: "events.amazonaws.com",
      readOnly: false,
      managementEvent: true,
      eventCategory: "Management",
    });
    expect(rule.requestParameters).toEqual({
      name: "orders",
      eventPattern: '{"source":["shop"]}',
      state: "ENABLED",
      description: "orders to the log",
    });
    expect(rule.responseElements).toEqual({ ruleArn: `arn:aws:events:${REGION}:${account}:rule/orders` });
    expect(String(rule.userAgent)).toContain("api/eventbridge");
    expect(rule.requestID).toMatch(/^\S+$/);
    expect(rule.errorCode).toBeUndefined();
    expect(rule.resources).toBeUndefined();
  });

  it("PutTargets: lists of structures lower-cased inside, counts kept as numbers", () => {
    const targets = one("PutTargets");
    expect(targets).toMatchObject({ ...common(), eventSource: "events.amazonaws.com", readOnly: false });
    expect(targets.requestParameters).toEqual({
      rule: "orders",
      targets: [{ id: "log", arn: `arn:aws:logs:${REGION}:123456789012:log-group:/shop/orders` }],
    });
    expect(targets.responseElements).toEqual({ failedEntryCount: 0, failedEntries: [] });
  });

  it("PutEvents: a data event on the default bus, which only an advanced selector delivers", () => {
    const events = one("PutEvents");
    expect(events).toMatchObject({
      ...common(),
      eventSource: "events.amazonaws.com",
      readOnly: false,
      managementEvent: false,
      eventCategory: "Data",
      resources: [
        {
          accountId: account,
          type: "AWS::Events::EventBus",
          ARN: `arn:aws:events:${REGION}:${account}:event-bus/default`,
        },
      ],
    });
    expect(events.requestParameters).toEqual({
      entries: [{ source: "shop", detailType: "order placed", detail: EVENT_DETAIL }],
    });
    expect(events.responseElements).toEqual({
      failedEntryCount: 0,
      entries: [{ eventId: expect.any(String) }],
    });
  });
});

describe("CloudWatch Logs through the proxy", () => {
  it("CreateLogGroup, CreateLogStream: management events; empty answers are null", () => {
    const group = one("CreateLogGroup");
    expect(group).toMatchObject({
      ...common(),
      eventSource: "logs.amazonaws.com",
      readOnly: false,
      managementEvent: true,
      eventCategory: "Management",
      responseElements: null,
    });
    // map keys as sent, not lower-cased
    expect(group.requestParameters).toEqual({ logGroupName: "/shop/orders", tags: { team: "shop" } });
    expect(one("CreateLogStream")).toMatchObject({
      requestParameters: { logGroupName: "/shop/orders", logStreamName: "s1" },
      responseElements: null,
    });
  });

  it("DescribeLogGroups: read-only, no responseElements", () => {
    expect(one("DescribeLogGroups")).toMatchObject({
      ...common(),
      eventSource: "logs.amazonaws.com",
      readOnly: true,
      managementEvent: true,
      requestParameters: { logGroupNamePrefix: "/shop" },
      responseElements: null,
    });
  });

  it("PutLogEvents: recorded under the log group and stream", () => {
    // The spec has no rule for PutLogEvents (data event or not, log messages kept or not): it is
    // recorded with the generic rules, as a management event, until one is written.
    const put = one("PutLogEvents");
    expect(put).toMatchObject({ ...common(), eventSource: "logs.amazonaws.com", readOnly: false });
    expect(put.requestParameters).toMatchObject({ logGroupName: "/shop/orders", logStreamName: "s1" });
    expect(put.responseElements).toMatchObject({ nextSequenceToken: expect.any(String) });
  });

  it("event history holds the management calls of both services, and no data event", () => {
    expect(new Set(history)).toEqual(
      new Set([
        "PutRule",
        "PutTargets",
        "CreateLogGroup",
        "CreateLogStream",
        "PutLogEvents",
        "DescribeLogGroups",
      ]),
    );
  });
});
