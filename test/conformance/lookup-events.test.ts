import { randomUUID } from "node:crypto";
import type {
  CloudTrailClient,
  Event,
  LookupAttributeKey,
  LookupEventsRequest,
} from "@aws-sdk/client-cloudtrail";
import { beforeAll, describe, expect, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { LOOKUP_MESSAGES } from "../../src/domain/records.ts";
import { secondOf } from "../support/records.ts";
import { OTHER_REGION } from "./fixtures.ts";
import {
  ACCOUNT,
  expectError,
  forEachTarget,
  OTHER_ACCOUNT,
  REGION,
  stripped,
  type Target,
  wrongJsonType,
} from "./harness.ts";

/**
 * LookupEvents over events put in by POST /ingest (HTTP), read back by both targets: the
 * in-process target reads the same event store. Events stay between tests (the harness resets
 * trails only), so every test looks at its own slice of time or its own event source, and the
 * two targets never share one.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** The keys of the two accounts the harness configures. */
const KEYS: Record<string, { accessKeyId: string; secretAccessKey: string }> = {
  [ACCOUNT]: { accessKeyId: "test", secretAccessKey: "test" },
  [OTHER_ACCOUNT]: { accessKeyId: "other", secretAccessKey: "other-secret" },
};

// The wording is pinned in test/domain/records-lookup.test.ts; here both targets must answer it.
const MESSAGES = LOOKUP_MESSAGES;

// Each test gets ten minutes of its own, two months back (well inside the 90 days).
const BASE = Math.floor((Date.now() - 60 * DAY_MS) / MINUTE_MS) * MINUTE_MS;
let slices = 0;
function slice(): { start: Date; end: Date; at: (second: number) => Date } {
  const start = BASE + slices++ * 10 * MINUTE_MS;
  return {
    start: new Date(start),
    end: new Date(start + 10 * MINUTE_MS - 1000),
    at: (second) => new Date(start + second * 1000),
  };
}

/** An event source no other test uses, for tests that must query around the present moment. */
function ownSource(): string {
  return `s${randomUUID().slice(0, 8)}.example.amazonaws.com`;
}

/** A management record of an IAM user's call, at `time`. */
function mgmt(time: Date, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${ACCOUNT}:user/lee`,
      accountId: ACCOUNT,
      accessKeyId: "AKIALEE",
      userName: "lee",
    },
    eventTime: secondOf(time),
    eventSource: "ec2.amazonaws.com",
    eventName: "DescribeInstances",
    awsRegion: REGION,
    sourceIPAddress: "198.51.100.7",
    userAgent: "lookup-test",
    requestParameters: null,
    responseElements: null,
    requestID: randomUUID(),
    eventID: randomUUID(),
    readOnly: true,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    ...over,
  };
}

/** An Insights record about `eventName`, at `time`. */
function insight(
  time: Date,
  eventName: string,
  eventSource: string,
  state = "Start",
): Record<string, unknown> {
  return {
    eventVersion: "1.07",
    eventTime: secondOf(time),
    awsRegion: REGION,
    eventID: randomUUID(),
    eventType: "AwsCloudTrailInsight",
    recipientAccountId: ACCOUNT,
    sharedEventID: randomUUID(),
    insightDetails: {
      state,
      eventSource,
      eventName,
      insightType: "ApiCallRateInsight",
      insightContext: { statistics: { baseline: { average: 0.1 }, insight: { average: 2 } } },
    },
    eventCategory: "Insight",
  };
}

/**
 * The server's URL, read from the official client either target has onto it (the in-process
 * target's peer is the HTTP one).
 */
async function serverUrl(t: Target): Promise<string> {
  const http = (t.kind === "http" ? t.api : t.peer) as CloudTrailApi & { client: CloudTrailClient };
  const endpoint = await http.client.config.endpoint?.();
  if (endpoint === undefined) throw new Error("the HTTP client has no endpoint");
  return `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
}

/** Stores records through POST /ingest as `accountId`; records without awsRegion land in `region`. */
async function ingest(
  t: Target,
  records: Record<string, unknown>[],
  accountId = ACCOUNT,
  region = REGION,
): Promise<void> {
  const client = ingestClient({ endpoint: await serverUrl(t), region, credentials: KEYS[accountId] });
  const answer = await client.send(records);
  expect(answer.duplicates).toEqual([]);
}

function ids(events: Event[] | undefined): string[] {
  return (events ?? []).map((e) => e.EventId!);
}

/** The ids of records newest first, ties by eventID descending (the order event history promises). */
function newestFirst(records: Record<string, unknown>[]): string[] {
  const key = (r: Record<string, unknown>) => Buffer.from(`${r.eventTime}\u0000${r.eventID}`);
  return [...records].sort((a, b) => Buffer.compare(key(b), key(a))).map((r) => r.eventID as string);
}

/** Every page of a query, following NextToken; `between` runs after each page. */
async function allPages(
  api: CloudTrailApi,
  request: LookupEventsRequest,
  between: () => Promise<void> = async () => {},
): Promise<{ pages: string[][]; tokens: number }> {
  const pages: string[][] = [];
  let NextToken: string | undefined;
  let tokens = 0;
  do {
    const page = await api.lookupEvents({ ...request, NextToken });
    pages.push(ids(page.Events));
    NextToken = page.NextToken;
    if (NextToken !== undefined) tokens++;
    await between();
    // a runaway paginator must fail, not hang
    if (pages.length > 500) throw new Error("more than 500 pages");
  } while (NextToken !== undefined);
  return { pages, tokens };
}

function by(key: LookupAttributeKey, value: string): Pick<LookupEventsRequest, "LookupAttributes"> {
  return { LookupAttributes: [{ AttributeKey: key, AttributeValue: value }] };
}

forEachTarget("LookupEvents", (t) => {
  describe("serialization", () => {
    wrongJsonType(
      t,
      "a MaxResults of the wrong JSON type",
      (api) => api.lookupEvents({ MaxResults: "ten" as unknown as number }),
      "STRING_VALUE cannot be converted to Integer",
    );

    it("answers each event in the Event shape, CloudTrailEvent being the record's JSON text", async () => {
      const s = slice();
      const record = mgmt(s.at(30), {
        readOnly: false,
        eventName: "RunInstances",
        resources: [
          {
            ARN: "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
            accountId: ACCOUNT,
            type: "AWS::EC2::Instance",
          },
          { type: "AWS::EC2::Subnet" },
        ],
      });
      await ingest(t, [record]);
      const answer = await t.api.lookupEvents({ StartTime: s.start, EndTime: s.end });
      expect(stripped(answer)).toStrictEqual({
        Events: [
          {
            EventId: record.eventID,
            EventName: "RunInstances",
            ReadOnly: "false",
            AccessKeyId: "AKIALEE",
            EventTime: s.at(30),
            EventSource: "ec2.amazonaws.com",
            Username: "lee",
            Resources: [
              {
                ResourceType: "AWS::EC2::Instance",
                ResourceName: "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
              },
              { ResourceType: "AWS::EC2::Subnet" },
            ],
            CloudTrailEvent: JSON.stringify(record),
          },
        ],
      });
    });

    it("answers an empty Events list and no NextToken when nothing matches", async () => {
      const s = slice();
      expect(stripped(await t.api.lookupEvents({ StartTime: s.start, EndTime: s.end }))).toStrictEqual({
        Events: [],
      });
    });

    it("leaves out ReadOnly, AccessKeyId and Username a record does not give", async () => {
      const s = slice();
      const bare = {
        eventVersion: "1.0",
        eventTime: secondOf(s.at(1)),
        eventSource: "sts.amazonaws.com",
        eventName: "GetCallerIdentity",
        awsRegion: REGION,
        eventID: randomUUID(),
        userIdentity: { type: "Unknown", accessKeyId: "" },
      };
      await ingest(t, [bare]);
      const [event] = (await t.api.lookupEvents({ StartTime: s.start, EndTime: s.end })).Events ?? [];
      expect(stripped(event)).toStrictEqual({
        EventId: bare.eventID,
        EventName: "GetCallerIdentity",
        EventTime: s.at(1),
        EventSource: "sts.amazonaws.com",
        Resources: [],
        CloudTrailEvent: expect.any(String),
      });
    });
  });

  describe("validation", () => {
    const bad = (request: LookupEventsRequest, code: Parameters<typeof expectError>[1], message: string) =>
      expectError(t.api.lookupEvents(request), code, message);

    it("refuses more than one lookup attribute", async () => {
      await bad(
        {
          LookupAttributes: [
            { AttributeKey: "EventName", AttributeValue: "A" },
            { AttributeKey: "EventName", AttributeValue: "B" },
          ],
        },
        "InvalidLookupAttributesException",
        MESSAGES.multipleAttributes,
      );
      await bad(
        {
          LookupAttributes: [
            { AttributeKey: "Username", AttributeValue: "a" },
            { AttributeKey: "EventSource", AttributeValue: "b" },
          ],
        },
        "InvalidLookupAttributesException",
        MESSAGES.multipleAttributes,
      );
    });

    it("refuses an unknown or missing attribute key, keys being case-sensitive", async () => {
      for (const key of ["EventTime", "eventname", "", undefined]) {
        await bad(
          { LookupAttributes: [{ AttributeKey: key as LookupAttributeKey, AttributeValue: "x" }] },
          "InvalidLookupAttributesException",
          MESSAGES.badKey,
        );
      }
    });

    it("refuses an empty or missing attribute value", async () => {
      for (const value of ["", undefined]) {
        await bad(
          { LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: value as string }] },
          "InvalidLookupAttributesException",
          MESSAGES.emptyValue,
        );
      }
    });

    it("counts _, space, comma and newline twice against the 2000 limit of a value", async () => {
      for (const value of ["a".repeat(2000), "_".repeat(1000), ` ,\n_${"b".repeat(1992)}`]) {
        expect((await t.api.lookupEvents(by("ResourceName", value))).Events).toEqual([]);
      }
      for (const value of ["a".repeat(2001), "_".repeat(1001), `${" ".repeat(500)}${",".repeat(500)}x`]) {
        await bad(by("ResourceName", value), "InvalidLookupAttributesException", MESSAGES.longValue);
      }
    });

    it("refuses a ReadOnly value other than true or false", async () => {
      for (const value of ["True", "yes", "1"]) {
        await bad(by("ReadOnly", value), "InvalidLookupAttributesException", MESSAGES.readOnlyValue);
      }
    });

    it("refuses with EventCategory=insight the keys insights do not have", async () => {
      for (const key of ["ReadOnly", "Username", "AccessKeyId", "ResourceType", "ResourceName"] as const) {
        await bad(
          { ...by(key, key === "ReadOnly" ? "true" : "x"), EventCategory: "insight" },
          "InvalidLookupAttributesException",
          MESSAGES.insightKey,
        );
      }
    });

    it("refuses StartTime after EndTime, and takes them equal", async () => {
      const s = slice();
      await bad({ StartTime: s.at(2), EndTime: s.at(1) }, "InvalidTimeRangeException", MESSAGES.timeRange);
      await bad(
        { StartTime: new Date(s.at(1).getTime() + 1), EndTime: s.at(1) },
        "InvalidTimeRangeException",
        MESSAGES.timeRange,
      );
      expect((await t.api.lookupEvents({ StartTime: s.at(1), EndTime: s.at(1) })).Events).toEqual([]);
    });

    it("refuses MaxResults outside 1–50", async () => {
      for (const n of [0, 51, -1, 1000]) {
        await bad({ MaxResults: n }, "InvalidMaxResultsException", MESSAGES.maxResults(n));
      }
    });

    it("refuses an EventCategory other than insight (lower-case)", async () => {
      for (const category of ["Insight", "INSIGHT", "management", "data", ""]) {
        await bad(
          { EventCategory: category as "insight" },
          "InvalidEventCategoryException",
          MESSAGES.eventCategory(category),
        );
      }
    });

    it("refuses a NextToken it did not issue", async () => {
      const forged = Buffer.from(JSON.stringify({ v: 1, n: 0, t: 0, i: "x", h: "y" })).toString("base64url");
      for (const token of ["garbage!", "e30", "not-a-token", forged, "A".repeat(20_000)]) {
        await bad({ NextToken: token }, "InvalidNextTokenException", MESSAGES.nextToken);
      }
    });
  });

  describe("functionality", () => {
    describe("lookup attributes", () => {
      const s = slice();
      const records = {
        iam: mgmt(s.at(10), {
          eventName: "CreateUser",
          eventSource: "iam.amazonaws.com",
          readOnly: false,
          resources: [{ ARN: "arn:aws:iam::123456789012:user/new", type: "AWS::IAM::User" }],
        }),
        role: mgmt(s.at(20), {
          userIdentity: {
            type: "AssumedRole",
            principalId: "AROAEXAMPLE:deploy-bot",
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Deployer/deploy-bot`,
            accountId: ACCOUNT,
            accessKeyId: "ASIADEPLOY",
          },
          eventName: "PutObject",
          eventSource: "s3.amazonaws.com",
          readOnly: false,
          resources: [
            { ARN: 'arn:aws:s3:::bucket/key with spaces, commas "and" quotes*', type: "AWS::S3::Object" },
            { ARN: "arn:aws:s3:::bucket", type: "AWS::S3::Bucket" },
          ],
        }),
        root: mgmt(s.at(30), {
          userIdentity: {
            type: "Root",
            principalId: ACCOUNT,
            arn: `arn:aws:iam::${ACCOUNT}:root`,
            accountId: ACCOUNT,
          },
          eventName: "ConsoleLogin",
          eventSource: "signin.amazonaws.com",
          eventType: "AwsConsoleSignIn",
          readOnly: undefined,
        }),
        service: mgmt(s.at(40), {
          userIdentity: { type: "AWSService", accountId: ACCOUNT, invokedBy: "AWS Internal" },
          eventName: "RotateKey",
          eventSource: "kms.amazonaws.com",
          eventType: "AwsServiceEvent",
          readOnly: undefined,
          resources: [{ ARN: "arn:aws:kms:us-east-1:123456789012:key/k", type: "AWS::KMS::Key" }],
        }),
        unicode: mgmt(s.at(50), {
          userIdentity: { type: "IAMUser", accountId: ACCOUNT, userName: "Zoë OR *", accessKeyId: 'AKIA"Q"' },
          eventName: "ListBuckets",
          eventSource: "s3.amazonaws.com",
          eventID: `ünïcode "id" ${randomUUID()}`,
        }),
        plain: mgmt(s.at(60)),
      };
      const all = Object.values(records);
      const find = (request: LookupEventsRequest) =>
        t.api.lookupEvents({ StartTime: s.start, EndTime: s.end, ...request }).then((a) => ids(a.Events));
      const idsOf = (...names: (keyof typeof records)[]) => newestFirst(names.map((n) => records[n]));

      beforeAll(() => ingest(t, all));

      it("EventId: exactly one event, case-sensitively", async () => {
        for (const record of all)
          expect(await find(by("EventId", record.eventID as string))).toEqual([record.eventID]);
        expect(await find(by("EventId", (records.iam.eventID as string).toUpperCase()))).toEqual([]);
        expect(await find(by("EventId", (records.iam.eventID as string).slice(0, 8)))).toEqual([]);
      });

      it("EventName: equal names only", async () => {
        expect(await find(by("EventName", "PutObject"))).toEqual(idsOf("role"));
        expect(await find(by("EventName", "DescribeInstances"))).toEqual(idsOf("plain"));
        for (const miss of ["putobject", "Put", "PutObject ", "Object"])
          expect(await find(by("EventName", miss))).toEqual([]);
      });

      it("EventSource: every event of the service", async () => {
        expect(await find(by("EventSource", "s3.amazonaws.com"))).toEqual(idsOf("role", "unicode"));
        expect(await find(by("EventSource", "kms.amazonaws.com"))).toEqual(idsOf("service"));
        expect(await find(by("EventSource", "s3"))).toEqual([]);
      });

      it("ReadOnly: true or false, never an event that does not say", async () => {
        expect(await find(by("ReadOnly", "false"))).toEqual(idsOf("iam", "role"));
        expect(await find(by("ReadOnly", "true"))).toEqual(idsOf("unicode", "plain"));
      });

      it("Username: the user, the role session, root, the calling service", async () => {
        expect(await find(by("Username", "lee"))).toEqual(idsOf("iam", "plain"));
        expect(await find(by("Username", "deploy-bot"))).toEqual(idsOf("role"));
        expect(await find(by("Username", "root"))).toEqual(idsOf("root"));
        expect(await find(by("Username", "AWS Internal"))).toEqual(idsOf("service"));
        expect(await find(by("Username", "Zoë OR *"))).toEqual(idsOf("unicode"));
        for (const miss of ["Lee", "Deployer", "Zoë", "*"])
          expect(await find(by("Username", miss))).toEqual([]);
      });

      it("AccessKeyId: the key of the call", async () => {
        expect(await find(by("AccessKeyId", "AKIALEE"))).toEqual(idsOf("iam", "plain"));
        expect(await find(by("AccessKeyId", "ASIADEPLOY"))).toEqual(idsOf("role"));
        expect(await find(by("AccessKeyId", 'AKIA"Q"'))).toEqual(idsOf("unicode"));
        expect(await find(by("AccessKeyId", "AKIA"))).toEqual([]);
      });

      it("ResourceType: any resource of the type", async () => {
        expect(await find(by("ResourceType", "AWS::S3::Bucket"))).toEqual(idsOf("role"));
        expect(await find(by("ResourceType", "AWS::S3::Object"))).toEqual(idsOf("role"));
        expect(await find(by("ResourceType", "AWS::KMS::Key"))).toEqual(idsOf("service"));
        expect(await find(by("ResourceType", "AWS::S3"))).toEqual([]);
      });

      it("ResourceName: any resource with that ARN, whatever characters it holds", async () => {
        expect(
          await find(by("ResourceName", 'arn:aws:s3:::bucket/key with spaces, commas "and" quotes*')),
        ).toEqual(idsOf("role"));
        expect(await find(by("ResourceName", "arn:aws:s3:::bucket"))).toEqual(idsOf("role"));
        expect(await find(by("ResourceName", "arn:aws:iam::123456789012:user/new"))).toEqual(idsOf("iam"));
        for (const miss of ["arn:aws:s3:::bucket/key", "bucket", "arn:aws:s3:::*"]) {
          expect(await find(by("ResourceName", miss))).toEqual([]);
        }
      });

      it("without an attribute: every event of the window, newest first", async () => {
        expect(await find({})).toEqual(newestFirst(all));
      });

      it("both targets answer alike", async () => {
        const request = { StartTime: s.start, EndTime: s.end, ...by("EventSource", "s3.amazonaws.com") };
        const mine = await t.api.lookupEvents(request);
        const theirs = await t.peer.lookupEvents(request);
        expect(stripped(mine.Events)).toStrictEqual(stripped(theirs.Events));
      });
    });

    describe("time window", () => {
      it("includes both bounds, to the millisecond", async () => {
        const s = slice();
        const records = [mgmt(s.at(10)), mgmt(s.at(20)), mgmt(s.at(30))];
        await ingest(t, records);
        const find = (StartTime: Date, EndTime: Date) =>
          t.api.lookupEvents({ StartTime, EndTime }).then((a) => ids(a.Events));
        expect(await find(s.at(10), s.at(30))).toEqual(newestFirst(records));
        expect(await find(s.at(20), s.at(20))).toEqual([records[1]!.eventID]);
        expect(await find(new Date(s.at(10).getTime() + 1), new Date(s.at(30).getTime() - 1))).toEqual([
          records[1]!.eventID,
        ]);
        expect(await find(s.at(11), s.at(19))).toEqual([]);
      });

      it("defaults EndTime to now and StartTime to 90 days ago", async () => {
        const source = ownSource();
        const now = Date.now();
        const at = (ms: number) => mgmt(new Date(now + ms), { eventSource: source });
        const [future, recent, inside, outside] = [
          at(DAY_MS),
          at(-MINUTE_MS),
          at(-89 * DAY_MS),
          at(-91 * DAY_MS),
        ];
        await ingest(t, [future!, recent!, inside!, outside!]);
        const find = (request: LookupEventsRequest) =>
          t.api.lookupEvents({ ...by("EventSource", source), ...request }).then((a) => ids(a.Events));
        expect(await find({})).toEqual([recent!.eventID, inside!.eventID]);
        // each bound defaults on its own
        expect(await find({ EndTime: new Date(now + 2 * DAY_MS) })).toEqual([
          future!.eventID,
          recent!.eventID,
          inside!.eventID,
        ]);
        expect(await find({ StartTime: new Date(now - 90 * DAY_MS + MINUTE_MS) })).toEqual([
          recent!.eventID,
          inside!.eventID,
        ]);
      });

      it("clamps a StartTime beyond 90 days to the retention start, without an error", async () => {
        const source = ownSource();
        const now = Date.now();
        const inside = mgmt(new Date(now - 89 * DAY_MS), { eventSource: source });
        const outside = mgmt(new Date(now - 91 * DAY_MS), { eventSource: source });
        const ancient = mgmt(new Date("2015-06-01T00:00:00Z"), { eventSource: source });
        await ingest(t, [inside, outside, ancient]);
        const find = (request: LookupEventsRequest) =>
          t.api.lookupEvents({ ...by("EventSource", source), ...request }).then((a) => ids(a.Events));
        expect(await find({ StartTime: new Date(now - 200 * DAY_MS) })).toEqual([inside.eventID]);
        expect(await find({ StartTime: new Date(0) })).toEqual([inside.eventID]);
        expect(
          await find({
            StartTime: new Date("2015-01-01T00:00:00Z"),
            EndTime: new Date("2016-01-01T00:00:00Z"),
          }),
        ).toEqual([]);
        expect(
          await find({ StartTime: new Date(now - 200 * DAY_MS), EndTime: new Date(now - 90.5 * DAY_MS) }),
        ).toEqual([]);
      });
    });

    describe("order and page size", () => {
      it("answers newest first, events of one second by eventID descending", async () => {
        const s = slice();
        const records = [
          mgmt(s.at(5), { eventID: `${t.kind}-b` }),
          mgmt(s.at(9)),
          mgmt(s.at(5), { eventID: `${t.kind}-a` }),
          mgmt(s.at(1)),
          mgmt(s.at(5), { eventID: `${t.kind}-c` }),
          mgmt(s.at(7)),
        ];
        await ingest(t, records);
        const found = ids((await t.api.lookupEvents({ StartTime: s.start, EndTime: s.end })).Events);
        expect(found).toEqual(newestFirst(records));
        expect(found.slice(2, 5)).toEqual([`${t.kind}-c`, `${t.kind}-b`, `${t.kind}-a`]);
      });

      it("answers 50 events by default, MaxResults from 1 to 50, and a NextToken while more remain", async () => {
        const s = slice();
        const records = Array.from({ length: 51 }, (_, i) => mgmt(s.at(i)));
        await ingest(t, records);
        const window = { StartTime: s.start, EndTime: s.end };
        const all = newestFirst(records);
        const byDefault = await t.api.lookupEvents(window);
        expect(ids(byDefault.Events)).toEqual(all.slice(0, 50));
        expect(byDefault.NextToken).toEqual(expect.any(String));
        for (const n of [1, 7, 50]) {
          const page = await t.api.lookupEvents({ ...window, MaxResults: n });
          expect(ids(page.Events)).toEqual(all.slice(0, n));
          expect(page.NextToken).toEqual(expect.any(String));
        }
        const last = await t.api.lookupEvents({ ...window, NextToken: byDefault.NextToken });
        expect(ids(last.Events)).toEqual(all.slice(50));
        expect(last.NextToken).toBeUndefined();
        // exactly a page full: no token promising an empty page
        const exact = await t.api.lookupEvents({ StartTime: s.at(1), EndTime: s.end });
        expect([exact.Events?.length, exact.NextToken]).toEqual([50, undefined]);
      });
    });

    describe("paging", () => {
      it("pages through everything once, with no gaps, while new events keep arriving", async () => {
        const s = slice();
        const source = ownSource();
        // several events per second, so that pages end inside a second
        const records = Array.from({ length: 83 }, (_, i) =>
          mgmt(s.at(Math.floor(i / 3)), { eventSource: source }),
        );
        await ingest(t, records);
        const arrived: string[] = [];
        const request = { ...by("EventSource", source), StartTime: s.start, MaxResults: 4 };
        const { pages, tokens } = await allPages(t.api, request, async () => {
          // newer than the window's fixed end: the moment of the first page
          const fresh = mgmt(new Date(), { eventSource: source });
          delete fresh.eventTime;
          arrived.push(fresh.eventID as string);
          await ingest(t, [fresh]);
        });
        expect(pages.flat()).toEqual(newestFirst(records));
        expect(pages.slice(0, -1).every((p) => p.length === 4)).toBe(true);
        expect(tokens).toBe(Math.ceil(83 / 4) - 1);
        // the newcomers are there for a new query
        const fresh = ids(
          (await t.api.lookupEvents({ ...by("EventSource", source), StartTime: s.start })).Events,
        );
        expect(fresh.slice(0, arrived.length).sort()).toEqual([...arrived].sort());
      });

      it("pages the same without an attribute, and with every page size", async () => {
        const s = slice();
        const records = Array.from({ length: 23 }, (_, i) => mgmt(s.at(Math.floor(i / 4))));
        await ingest(t, records);
        for (const MaxResults of [1, 2, 5, 22, 23, 50]) {
          const { pages } = await allPages(t.api, { StartTime: s.start, EndTime: s.end, MaxResults });
          expect(pages.flat(), `MaxResults ${MaxResults}`).toEqual(newestFirst(records));
        }
      });

      it("pages past the longest eventIDs ingest takes, and finds each by its EventId", async () => {
        const s = slice();
        // 2000 control characters: the longest id, and the longest once escaped in JSON
        const longest = (c: string) => `${c}${"\u0001".repeat(1999)}`;
        const records = ["a", "b", "c"].map((c) =>
          mgmt(s.at(1), { eventID: longest(`${c}${t.kind}`).slice(0, 2000) }),
        );
        await ingest(t, records);
        const { pages } = await allPages(t.api, { StartTime: s.start, EndTime: s.end, MaxResults: 1 });
        expect(pages.flat()).toEqual(newestFirst(records));
        for (const record of records) {
          const found = await t.api.lookupEvents(by("EventId", record.eventID as string));
          expect(ids(found.Events)).toEqual([record.eventID]);
        }
      });

      it("takes a changed MaxResults on a later page", async () => {
        const s = slice();
        const records = Array.from({ length: 10 }, (_, i) => mgmt(s.at(i)));
        await ingest(t, records);
        const window = { StartTime: s.start, EndTime: s.end };
        const first = await t.api.lookupEvents({ ...window, MaxResults: 3 });
        const second = await t.api.lookupEvents({ ...window, MaxResults: 5, NextToken: first.NextToken });
        const rest = await t.api.lookupEvents({ ...window, NextToken: second.NextToken });
        expect([...ids(first.Events), ...ids(second.Events), ...ids(rest.Events)]).toEqual(
          newestFirst(records),
        );
      });

      it("takes a token of one target on the other: both read the same history", async () => {
        const s = slice();
        const records = Array.from({ length: 5 }, (_, i) => mgmt(s.at(i)));
        await ingest(t, records);
        const window = { StartTime: s.start, EndTime: s.end, MaxResults: 2 };
        const first = await t.api.lookupEvents(window);
        const next = await t.peer.lookupEvents({ ...window, NextToken: first.NextToken });
        expect([...ids(first.Events), ...ids(next.Events)]).toEqual(newestFirst(records).slice(0, 4));
      });

      it("binds the token to its query: any other parameter → InvalidNextTokenException", async () => {
        const s = slice();
        const source = ownSource();
        const records = Array.from({ length: 4 }, (_, i) => mgmt(s.at(i), { eventSource: source }));
        await ingest(t, records);
        const request: LookupEventsRequest = {
          ...by("EventSource", source),
          StartTime: s.start,
          EndTime: s.end,
          MaxResults: 1,
        };
        const { NextToken } = await t.api.lookupEvents(request);
        expect(NextToken).toEqual(expect.any(String));
        const changed: [string, LookupEventsRequest, CloudTrailApi?][] = [
          ["another attribute value", { ...request, ...by("EventSource", "ec2.amazonaws.com") }],
          ["another attribute key", { ...request, ...by("EventName", source) }],
          ["no attribute", { ...request, LookupAttributes: undefined }],
          ["another StartTime", { ...request, StartTime: new Date(s.start.getTime() + 1000) }],
          ["no StartTime", { ...request, StartTime: undefined }],
          ["another EndTime", { ...request, EndTime: new Date(s.end.getTime() - 1000) }],
          ["no EndTime", { ...request, EndTime: undefined }],
          ["EventCategory insight", { ...request, EventCategory: "insight" }],
          ["another region", request, t.apiIn(OTHER_REGION)],
          ["another account", request, t.apiAs(OTHER_ACCOUNT)],
        ];
        for (const [what, other, api = t.api] of changed) {
          const answer = api.lookupEvents({ ...other, NextToken });
          await expectError(answer, "InvalidNextTokenException", MESSAGES.nextToken).catch((e: Error) => {
            throw new Error(`${what}: ${e.message}`);
          });
        }
        // a token altered in any character
        const token = NextToken!;
        // (not the last character: base64 may ignore its low bits)
        for (const i of [0, Math.floor(token.length / 2), token.length - 2]) {
          const altered = token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
          await expectError(
            t.api.lookupEvents({ ...request, NextToken: altered }),
            "InvalidNextTokenException",
            MESSAGES.nextToken,
          );
        }
        // and unchanged, it still works
        expect(ids((await t.api.lookupEvents({ ...request, NextToken })).Events)).toEqual([
          newestFirst(records)[1],
        ]);
      });
    });

    describe("insights", () => {
      const s = slice();
      const source = ownSource();
      const start = insight(s.at(10), "RunInstances", source);
      const end = insight(s.at(70), "RunInstances", source, "End");
      const other = insight(s.at(40), "TerminateInstances", source);
      const call = mgmt(s.at(20), { eventName: "RunInstances", eventSource: source });
      beforeAll(() => ingest(t, [start, end, other, call]));

      it("are answered only with EventCategory=insight, in the insight Event shape", async () => {
        const window = { StartTime: s.start, EndTime: s.end };
        expect(ids((await t.api.lookupEvents(window)).Events)).toEqual([call.eventID]);
        const answer = await t.api.lookupEvents({ ...window, EventCategory: "insight" });
        expect(ids(answer.Events)).toEqual(newestFirst([start, end, other]));
        expect(stripped(answer.Events![0])).toStrictEqual({
          EventId: end.eventID,
          EventName: "RunInstances",
          EventTime: s.at(70),
          EventSource: source,
          Resources: [],
          CloudTrailEvent: JSON.stringify(end),
        });
      });

      it("are looked up by EventId, and by the EventName and EventSource they are about", async () => {
        const find = (request: LookupEventsRequest) =>
          t.api
            .lookupEvents({ StartTime: s.start, EndTime: s.end, EventCategory: "insight", ...request })
            .then((a) => ids(a.Events));
        expect(await find(by("EventId", other.eventID as string))).toEqual([other.eventID]);
        expect(await find(by("EventId", call.eventID as string))).toEqual([]);
        expect(await find(by("EventName", "RunInstances"))).toEqual(newestFirst([start, end]));
        expect(await find(by("EventSource", source))).toEqual(newestFirst([start, end, other]));
        expect(await find(by("EventName", "DescribeInstances"))).toEqual([]);
      });
    });

    describe("scope", () => {
      it("answers the events of the caller's region only", async () => {
        const s = slice();
        const here = mgmt(s.at(1));
        const there = mgmt(s.at(2), { awsRegion: OTHER_REGION });
        await ingest(t, [here, there]);
        const window = { StartTime: s.start, EndTime: s.end };
        expect(ids((await t.api.lookupEvents(window)).Events)).toEqual([here.eventID]);
        expect(ids((await t.apiIn(OTHER_REGION).lookupEvents(window)).Events)).toEqual([there.eventID]);
        expect(ids((await t.apiIn("eu-west-1").lookupEvents(window)).Events)).toEqual([]);
      });

      it("answers the events of the caller's account only", async () => {
        const s = slice();
        const mine = mgmt(s.at(1));
        const theirs = mgmt(s.at(2), { recipientAccountId: OTHER_ACCOUNT });
        await ingest(t, [mine]);
        await ingest(t, [theirs], OTHER_ACCOUNT);
        const window = { StartTime: s.start, EndTime: s.end };
        expect(ids((await t.api.lookupEvents(window)).Events)).toEqual([mine.eventID]);
        expect(ids((await t.apiAs(OTHER_ACCOUNT).lookupEvents(window)).Events)).toEqual([theirs.eventID]);
        expect(ids((await t.api.lookupEvents(by("EventId", theirs.eventID as string))).Events)).toEqual([]);
      });

      it("never answers data events", async () => {
        const s = slice();
        const data = mgmt(s.at(1), { eventCategory: "Data", managementEvent: false, eventName: "GetObject" });
        const legacyData = mgmt(s.at(2), {
          eventCategory: undefined,
          managementEvent: false,
          eventName: "GetObject",
        });
        await ingest(t, [data, legacyData]);
        const window = { StartTime: s.start, EndTime: s.end };
        expect((await t.api.lookupEvents(window)).Events).toEqual([]);
        expect((await t.api.lookupEvents({ ...window, EventCategory: "insight" })).Events).toEqual([]);
      });

      // only calls over HTTP are recorded
      it.runIf(t.kind === "http")("records and answers the caller's own calls", async () => {
        const before = new Date(Math.floor(Date.now() / 1000) * 1000);
        await t.api.listTrails({});
        const found = await t.api.lookupEvents({ ...by("EventName", "ListTrails"), StartTime: before });
        expect(found.Events?.[0]).toMatchObject({
          EventSource: "cloudtrail.amazonaws.com",
          Username: "alice",
        });
      });
    });
  });
});
