import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import pg from "pg";
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
  KNOBS,
  MINUTE,
  type Node,
  REGION,
  startNode as startInsightsNode,
  T0,
  trailWithInsights,
} from "../support/insights.ts";
import { describePostgres, type FreshDatabase, freshDatabase } from "../support/postgres.ts";
import { loadCorpus } from "../support/records.ts";

/*
 * Insights end to end, in process, on a stepped clock: records go in through POST /ingest, the
 * Insights worker is drained instead of waited for, records come back through LookupEvents and
 * the delivered CloudTrail-Insight files. The clock starts 14 minutes before real time, and the
 * ingest client signs at that clock, however long the suites have run. The suites run on SQLite, then on
 * PostgreSQL (a database per data directory) when a test database is set.
 */

/** The PostgreSQL server the suites run on now; SQLite in the data directory when undefined. */
let postgres: string | undefined;
/** Each data directory's database on it: a node started again on a directory finds its stores. */
const databases = new Map<string, FreshDatabase>();

/** A node on `dataDir`, on the PostgreSQL database of that directory when the suites run there. */
async function startNode(dataDir: string, insights: Partial<InsightsConfig> = {}): Promise<Node> {
  let database = databases.get(dataDir);
  if (postgres !== undefined && database === undefined) {
    database = await freshDatabase(postgres);
    databases.set(dataDir, database);
  }
  return startInsightsNode(dataDir, insights, database ? { database: database.url } : {});
}

/** Removes a data directory and its database (its nodes closed first). */
async function forget(dir: string): Promise<void> {
  await databases.get(dir)?.drop();
  databases.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

function insightsSuites(on: string): void {
  describe(`Insights on a burst of calls${on}`, () => {
    let dir: string;
    let node: Node;
    let records: InsightRecord[];

    beforeAll(async () => {
      clock.ms = T0;
      dir = freshDir();
      node = await startNode(dir);
      await trailWithInsights(node, "insights-trail", [
        { InsightType: "ApiCallRateInsight" },
        { InsightType: "ApiErrorRateInsight" },
      ]);
      mkdirSync(join(dir, "buckets", "plain-trail"), { recursive: true });
      await node.api.createTrail({ Name: "plain-trail", S3BucketName: "plain-trail" });
      await node.api.startLogging({ Name: "plain-trail" });
      await trailWithInsights(node, "stopped-trail", [{ InsightType: "ApiCallRateInsight" }]);
      await node.api.stopLogging({ Name: "stopped-trail" });
      await node.app.insights!.drain();
      // steady: eight UpdateUser a minute throughout, from a full baseline window before the
      // selectors were put (with no history, the first minute of any rate is above its baseline);
      // errors: ten denied GetUser in minute 10 only
      const steady = [];
      for (let m = -KNOBS.baselineMinutes; m < 14; m++)
        for (let n = 0; n < 8; n++) steady.push(call(node.accountId, m, n, { name: "UpdateUser" }));
      const denied = [];
      for (let n = 0; n < 10; n++) {
        denied.push(
          call(node.accountId, 10, n, {
            name: "GetUser",
            readOnly: true,
            errorCode: "AccessDenied",
            user: "mallory",
          }),
        );
      }
      await ingest(node, [...burst(node.accountId), ...steady, ...denied]);
      clock.ms = T0 + 14 * MINUTE;
      await node.app.insights!.drain();
      await node.app.delivery.drain();
      records = await insightRecords(node);
    });
    afterAll(async () => {
      await node?.app.close();
      await forget(dir);
    });

    it("gives one Start and one End per unusual series, none for the steady one", () => {
      expect(
        records.map((r) => [
          r.insightDetails.eventName,
          r.insightDetails.insightType,
          r.insightDetails.state,
        ]),
      ).toEqual([
        ["CreateUser", "ApiCallRateInsight", "Start"],
        ["GetUser", "ApiErrorRateInsight", "Start"],
        ["GetUser", "ApiErrorRateInsight", "End"],
        ["CreateUser", "ApiCallRateInsight", "End"],
      ]);
    });

    it("finds each Insights event by its EventId, EventName and EventSource", async () => {
      const window = { StartTime: new Date(T0 - 60 * MINUTE), EndTime: new Date(T0 + 60 * MINUTE) };
      for (const r of records) {
        const found = await node.api.lookupEvents({
          EventCategory: "insight",
          LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: r.eventID }],
          ...window,
        });
        expect(found.Events?.map((e) => e.EventId)).toEqual([r.eventID]);
      }
      const byName = await node.api.lookupEvents({
        EventCategory: "insight",
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "GetUser" }],
        ...window,
      });
      expect(byName.Events).toHaveLength(2);
      const bySource = await node.api.lookupEvents({
        EventCategory: "insight",
        LookupAttributes: [{ AttributeKey: "EventSource", AttributeValue: "iam.amazonaws.com" }],
        ...window,
      });
      expect(bySource.Events).toHaveLength(4);
      // a management event's id is not an Insights event
      const management = await node.api.lookupEvents({ ...window, MaxResults: 1 });
      const other = await node.api.lookupEvents({
        EventCategory: "insight",
        LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: management.Events![0]!.EventId! }],
        ...window,
      });
      expect(other.Events).toEqual([]);
    });

    it("has the recipe's statistics and attributions (insights.md §6.6)", () => {
      const [start, , , end] = records;
      expect(start!.eventTime).toBe(iso(T0 + 10 * MINUTE));
      expect(end!.eventTime).toBe(iso(T0 + 12 * MINUTE));
      expect(start!.sharedEventID).toBe(end!.sharedEventID);
      expect(start!.eventID).not.toBe(end!.eventID);
      expect(start!.insightDetails.insightContext.statistics).toEqual({
        baseline: { average: 1 },
        insight: { average: 20 },
        insightDuration: 1,
        baselineDuration: 10,
      });
      expect(end!.insightDetails.insightContext.statistics).toEqual({
        baseline: { average: 1 },
        insight: { average: 20 },
        insightDuration: 2,
        baselineDuration: 10,
      });
      const arn = (u: string) => `arn:aws:iam::${node.accountId}:user/${u}`;
      const baseline = {
        userIdentityArn: [{ value: arn("carol"), average: 1 }],
        userAgent: [{ value: "aws-cli/2.15.0", average: 1 }],
        errorCode: [{ value: "null", average: 1 }],
      };
      const expected = (insight: Record<string, { value: string; average: number }[]>) =>
        (["userIdentityArn", "userAgent", "errorCode"] as const).map((attribute) => ({
          attribute,
          insight: insight[attribute],
          baseline: baseline[attribute],
        }));
      const spans = {
        userIdentityArn: [
          { value: arn("alice"), average: 12 },
          { value: arn("bob"), average: 8 },
        ],
        userAgent: [{ value: "aws-cli/2.15.0", average: 20 }],
        errorCode: [{ value: "null", average: 20 }],
      };
      expect(start!.insightDetails.insightContext.attributions).toEqual(expected(spans));
      expect(end!.insightDetails.insightContext.attributions).toEqual(expected(spans));
    });

    it("gives an error-rate Insight for a burst of AccessDenied", () => {
      const [, start, end] = records;
      expect(start!.insightDetails).toMatchObject({
        eventSource: "iam.amazonaws.com",
        eventName: "GetUser",
        insightType: "ApiErrorRateInsight",
        errorCode: "AccessDenied",
        insightContext: {
          statistics: {
            baseline: { average: 0 },
            insight: { average: 10 },
            insightDuration: 1,
            baselineDuration: 10,
          },
          attributions: [
            {
              attribute: "userIdentityArn",
              insight: [{ value: `arn:aws:iam::${node.accountId}:user/mallory`, average: 10 }],
              baseline: [],
            },
            { attribute: "userAgent", insight: [{ value: "aws-cli/2.15.0", average: 10 }], baseline: [] },
          ],
        },
      });
      expect(end!.eventTime).toBe(iso(T0 + 11 * MINUTE));
      expect(end!.insightDetails.insightContext.statistics).toMatchObject({
        insight: { average: 10 },
        insightDuration: 1,
      });
    });

    it("answers LookupEvents by EventName and EventSource from insightDetails, without user fields", async () => {
      const answer = await node.api.lookupEvents({
        EventCategory: "insight",
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateUser" }],
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 60 * MINUTE),
      });
      expect(answer.Events?.map((e) => [e.EventName, e.EventSource, e.Username, e.ReadOnly])).toEqual([
        ["CreateUser", "iam.amazonaws.com", undefined, undefined],
        ["CreateUser", "iam.amazonaws.com", undefined, undefined],
      ]);
    });

    it("delivers the records as gzipped files under the trail's CloudTrail-Insight folder", async () => {
      const files = await insightFiles(node, "insights-trail");
      const name = new RegExp(
        `^AWSLogs/${node.accountId}/CloudTrail-Insight/${REGION}/\\d{4}/\\d{2}/\\d{2}/${node.accountId}_CloudTrail-Insight_${REGION}_\\d{8}T\\d{4}Z_[A-Za-z0-9]{16}\\.json\\.gz$`,
      );
      for (const f of files) expect(f.key).toMatch(name);
      const delivered = files
        .flatMap((f) => f.records)
        .map((r) => r.eventID)
        .sort();
      expect(delivered).toEqual(records.map((r) => r.eventID).sort());
      // and no ordinary log file holds them
      for await (const key of node.app.objects.listKeys(
        "insights-trail",
        `AWSLogs/${node.accountId}/CloudTrail/`,
      )) {
        const object = await node.app.objects.getObject("insights-trail", key);
        expect(gunzipSync(object!.body).toString()).not.toContain("AwsCloudTrailInsight");
      }
    });

    it("gives nothing to a trail without insight selectors or one that stopped logging", async () => {
      expect(await insightFiles(node, "plain-trail")).toEqual([]);
      expect(await insightFiles(node, "stopped-trail")).toEqual([]);
    });

    it("answers ListInsightsMetricData from the same counts, over the SDK", async () => {
      const api = clockedClient(node.app.url, clock);
      const minute = await api.listInsightsMetricData({
        EventSource: "iam.amazonaws.com",
        EventName: "CreateUser",
        InsightType: "ApiCallRateInsight",
        StartTime: new Date(T0),
        EndTime: new Date(T0 + 12 * MINUTE),
        Period: 60,
      });
      expect(minute.Timestamps?.map((t) => t.getTime())).toEqual(
        Array.from({ length: 12 }, (_, m) => T0 + m * MINUTE),
      );
      expect(minute.Values).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 20, 20]);
      expect(minute).toMatchObject({
        EventSource: "iam.amazonaws.com",
        EventName: "CreateUser",
        InsightType: "ApiCallRateInsight",
      });
      const errors = {
        EventSource: "iam.amazonaws.com",
        EventName: "GetUser",
        InsightType: "ApiErrorRateInsight" as const,
        ErrorCode: "AccessDenied",
        StartTime: new Date(T0 + 9 * MINUTE),
        EndTime: new Date(T0 + 12 * MINUTE),
        Period: 60,
        DataType: "FillWithZeros" as const,
        MaxResults: 2,
      };
      const paged = await api.listInsightsMetricData(errors);
      expect(paged.Values).toEqual([0, 10]);
      const rest = await api.listInsightsMetricData({ ...errors, NextToken: paged.NextToken! });
      expect(rest.Values).toEqual([0]);
      expect(rest.NextToken).toBeUndefined();
      await expect(
        api.listInsightsMetricData({
          EventSource: "iam.amazonaws.com",
          EventName: "GetUser",
          InsightType: "ApiErrorRateInsight",
        }),
      ).rejects.toMatchObject({ name: "InvalidParameterException" });
      await expect(
        api.listInsightsMetricData({
          EventSource: "iam.amazonaws.com",
          EventName: "CreateUser",
          InsightType: "ApiCallRateInsight",
          Period: 120,
        }),
      ).rejects.toMatchObject({ name: "InvalidParameterException", $metadata: { httpStatusCode: 400 } });
      api.client.destroy();
    });

    const CORPUS = loadCorpus(new URL("../../../shared/corpus/aws-docs-records.json", import.meta.url));
    it.skipIf(CORPUS === undefined)("has the shape of AWS's Insights records, field for field", () => {
      const theirs = (CORPUS ?? []).filter((r) => r.eventType === "AwsCloudTrailInsight");
      const full = theirs.find((r) => JSON.stringify(r).includes('"attributions"'))!;
      expect(full).toBeDefined();
      const [start, , , end] = records;
      expect(shape(start)).toEqual(shape(full));
      expect(shape(end)).toEqual(shape(full));
      // member order too, at the top and in insightDetails
      expect(Object.keys(start!)).toEqual(Object.keys(full));
      expect(Object.keys(start!.insightDetails)).toEqual(Object.keys(full.insightDetails as object));
      for (const r of theirs) {
        const details = r.insightDetails as Record<string, unknown>;
        expect(Object.keys(start!.insightDetails)).toEqual(expect.arrayContaining(Object.keys(details)));
      }
    });
  });

  /** Member names and value types at every depth; a list by its first element. */
  function shape(v: unknown): unknown {
    if (Array.isArray(v)) return v.length === 0 ? [] : [shape(v[0])];
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, x]) => [k, shape(x)]),
      );
    }
    return typeof v;
  }

  describe(`Insights turned off${on}`, () => {
    let dir: string;
    let node: Node;
    afterEach(async () => {
      await node?.app.close();
      await forget(dir);
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

    it("gives nothing once the selectors are removed", async () => {
      await burstOn("off-trail", async () => {
        await node.api.putInsightSelectors({ TrailName: "off-trail", InsightSelectors: [] });
      });
      expect(await recordsAt(14)).toEqual([]);
    });

    it("gives nothing during the warm-up", async () => {
      await burstOn("warm-trail", async () => {}, { warmupMinutes: 30 });
      expect(await recordsAt(14)).toEqual([]);
    });

    it("ends an open Insights event when the trail stops logging", async () => {
      await burstOn("stop-trail", async () => {});
      expect((await recordsAt(11)).map((r) => r.insightDetails.state)).toEqual(["Start"]);
      await node.api.stopLogging({ Name: "stop-trail" });
      const found = await recordsAt(14);
      expect(found.map((r) => r.insightDetails.state)).toEqual(["Start", "End"]);
      expect(found[1]!.insightDetails.insightContext.statistics).toMatchObject({ insightDuration: 1 });
    });

    it("ends an open Insights event when the trail is deleted", async () => {
      await burstOn("deleted-trail", async () => {});
      expect((await recordsAt(11)).map((r) => r.insightDetails.state)).toEqual(["Start"]);
      await node.api.deleteTrail({ Name: "deleted-trail" });
      const found = await recordsAt(14);
      expect(found.map((r) => r.insightDetails.state)).toEqual(["Start", "End"]);
      expect(found[0]!.sharedEventID).toBe(found[1]!.sharedEventID);
      const arn = (u: string) => `arn:aws:iam::${node.accountId}:user/${u}`;
      expect(found[1]!.insightDetails.insightContext.attributions).toEqual([
        {
          attribute: "userIdentityArn",
          insight: [
            { value: arn("alice"), average: 12 },
            { value: arn("bob"), average: 8 },
          ],
          baseline: [{ value: arn("carol"), average: 1 }],
        },
        {
          attribute: "userAgent",
          insight: [{ value: "aws-cli/2.15.0", average: 20 }],
          baseline: [{ value: "aws-cli/2.15.0", average: 1 }],
        },
        {
          attribute: "errorCode",
          insight: [{ value: "null", average: 20 }],
          baseline: [{ value: "null", average: 1 }],
        },
      ]);
    });
  });

  describe(`Insights across a restart${on}`, () => {
    it("gives exactly one End when the process stops between Start and End", async () => {
      clock.ms = T0;
      const dir = freshDir();
      try {
        let node = await startNode(dir);
        await trailWithInsights(node, "restart-trail", [{ InsightType: "ApiCallRateInsight" }]);
        await node.app.insights!.drain();
        await ingest(node, burst(node.accountId));
        clock.ms = T0 + 11 * MINUTE;
        await node.app.insights!.drain();
        expect((await insightRecords(node)).map((r) => r.insightDetails.state)).toEqual(["Start"]);
        await node.app.close();

        node = await startNode(dir);
        clock.ms = T0 + 14 * MINUTE;
        await node.app.insights!.drain();
        await node.app.insights!.drain();
        const found = await insightRecords(node);
        expect(found.map((r) => r.insightDetails.state)).toEqual(["Start", "End"]);
        expect(found[1]!.insightDetails.insightContext.statistics).toMatchObject({
          insightDuration: 2,
          insight: { average: 20 },
        });
        await node.app.delivery.drain();
        const delivered = (await insightFiles(node, "restart-trail")).flatMap((f) => f.records);
        expect(delivered.map((r) => r.insightDetails.state).sort()).toEqual(["End", "Start"]);
        await node.app.close();
      } finally {
        await forget(dir);
      }
    });
  });
}

insightsSuites("");

describePostgres("Insights on PostgreSQL", (url) => {
  beforeAll(() => {
    postgres = url;
  });
  afterAll(() => {
    postgres = undefined;
  });
  insightsSuites(" (PostgreSQL)");

  // Two nodes on one database, each with its Insights worker, drained at once at every step: the
  // lease lets one of them evaluate the lanes at a time, so each Insights event is decided once.
  describe("two nodes on one database", () => {
    const dirs: string[] = [];
    const nodes: Node[] = [];
    const bothAtOnce = () => Promise.all(nodes.map((n) => n.app.insights.drain()));
    const TRAIL = "two-nodes";

    beforeAll(async () => {
      clock.ms = T0;
      dirs.push(freshDir(), freshDir());
      nodes.push(await startNode(dirs[0]!));
      // the second node on the first one's stores
      databases.set(dirs[1]!, databases.get(dirs[0]!)!);
      nodes.push(await startNode(dirs[1]!));
      for (const dir of dirs) mkdirSync(join(dir, "buckets", TRAIL), { recursive: true });
    });
    afterAll(async () => {
      for (const n of nodes.splice(0)) await n.app.close();
      databases.delete(dirs[1]!);
      for (const dir of dirs) await forget(dir);
    });

    it("gives exactly one Start and one End for a burst sent to both, each delivered once", async () => {
      const [one, two] = nodes as [Node, Node];
      await trailWithInsights(one, TRAIL, [{ InsightType: "ApiCallRateInsight" }]);
      await bothAtOnce();
      const calls = burst(one.accountId);
      await Promise.all([
        ingest(
          one,
          calls.filter((_, i) => i % 2 === 0),
        ),
        ingest(
          two,
          calls.filter((_, i) => i % 2 === 1),
        ),
      ]);
      for (let m = 1; m <= 14; m++) {
        clock.ms = T0 + m * MINUTE;
        await bothAtOnce();
      }
      await Promise.all(nodes.map((n) => n.app.delivery.drain()));
      for (const node of nodes) {
        const found = await insightRecords(node);
        expect(found.map((r) => [r.insightDetails.eventName, r.insightDetails.state])).toEqual([
          ["CreateUser", "Start"],
          ["CreateUser", "End"],
        ]);
        expect(found[1]!.insightDetails.insightContext.statistics).toMatchObject({ insightDuration: 2 });
      }
      // each node delivers to its own directory: together, every record once
      const delivered = [];
      for (const node of nodes)
        delivered.push(...(await insightFiles(node, TRAIL)).flatMap((f) => f.records));
      expect(delivered.map((r) => r.insightDetails.state).sort()).toEqual(["End", "Start"]);
    });

    it("evaluates nothing while a dead node holds the lease, and goes on once it expires", async () => {
      const [one] = nodes as [Node, Node];
      // the same burst 15 minutes later, of another API
      const later = burst(one.accountId, { name: "DeleteUser" }).map((r) => ({
        ...r,
        eventTime: iso(Date.parse(r.eventTime as string) + 15 * MINUTE),
      }));
      await ingest(one, later);
      clock.ms = T0 + 29 * MINUTE;
      // a node that died evaluating the lanes: its lease runs 30 s from now
      const db = new pg.Client({ connectionString: databases.get(dirs[0]!)!.url });
      await db.connect();
      try {
        await db.query("INSERT INTO leases (name, holder, expires_at) VALUES ('insights', 'dead-node', $1)", [
          clock.ms + 30_000,
        ]);
      } finally {
        await db.end();
      }
      await bothAtOnce();
      expect(await insightRecords(one)).toHaveLength(2);
      clock.ms += 30_000;
      await bothAtOnce();
      const found = (await insightRecords(one)).filter((r) => r.insightDetails.eventName === "DeleteUser");
      expect(found.map((r) => r.insightDetails.state)).toEqual(["Start", "End"]);
    });
  });
});
