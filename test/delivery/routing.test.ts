import { setTimeout as delay } from "node:timers/promises";
import type { AdvancedEventSelector, EventSelector } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { ingestClient } from "../../src/client/ingest.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import {
  ACCOUNT,
  type CloudTrailRecord,
  dataRecord,
  idsOf,
  localLogFiles,
  managementRecord,
  wholeSecond,
} from "./fixtures.ts";

/*
 * Which records reach which trail's bucket: regions, global service events, data events under
 * basic and advanced selectors, the logging state at each record's time, a change of bucket and
 * a deleted trail. Files are written by draining the worker, except where the point is that the
 * running worker flushes on its own.
 */

const REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"] as const;

let server: TestServer;
let n = 0;

const api = (region = "us-east-1") => httpClient({ endpoint: server.url, region });
const ingest = (records: CloudTrailRecord[]) => ingestClient({ endpoint: server.url }).send(records);
const files = (bucket: string) => localLogFiles(server.bucketsDir, bucket);
/** Records of a bucket other than this service's own API calls. */
const foreign = (bucket: string) =>
  files(bucket)
    .flatMap((f) => f.records)
    .filter((r) => r.eventSource !== "cloudtrail.amazonaws.com");
const drain = () => server.app.delivery.drain();

/** A fresh bucket of this test. */
function bucket(name: string): string {
  const b = `route-${n}-${name}`;
  server.createBucket(b);
  return b;
}

/** Distinct record numbers per test, so ids never repeat across tests. */
let serial = 0;
const next = () => n * 10_000 + serial++;

beforeAll(async () => {
  server = await startTestServer({ deliveryIntervalMs: 3_600_000 });
});
afterAll(async () => server?.close());

beforeEach(async () => {
  n++;
  serial = 0;
  for (const region of REGIONS) {
    for (const t of (await api(region).describeTrails({ includeShadowTrails: false })).trailList ?? []) {
      await api(region).deleteTrail({ Name: t.TrailARN });
    }
  }
  await drain();
});

describe("regions", () => {
  it("a multi-Region trail gets every region's records, each region in its own folder", async () => {
    const multi = bucket("multi");
    const single = bucket("single");
    await api().createTrail({ Name: "everywhere", S3BucketName: multi, IsMultiRegionTrail: true });
    await api().createTrail({ Name: "home-only", S3BucketName: single });
    await api().startLogging({ Name: "everywhere" });
    await api().startLogging({ Name: "home-only" });
    const records = REGIONS.flatMap((awsRegion) =>
      [0, 1, 2].map(() => managementRecord(next(), { awsRegion })),
    );
    await ingest(records);
    await drain();

    const multiFiles = files(multi).filter((f) =>
      f.records.some((r) => r.eventSource === "ec2.amazonaws.com"),
    );
    expect(new Set(multiFiles.map((f) => f.region))).toEqual(new Set(REGIONS));
    for (const f of files(multi)) {
      expect(f.key).toContain(`/CloudTrail/${f.region}/`);
      expect(
        f.records.every((r) => r.awsRegion === f.region),
        f.key,
      ).toBe(true);
    }
    expect(idsOf(foreign(multi))).toEqual(idsOf(records));
    expect(idsOf(foreign(single))).toEqual(idsOf(records.filter((r) => r.awsRegion === "us-east-1")));
    expect(files(single).every((f) => f.region === "us-east-1")).toBe(true);
  });

  it("a single-Region trail homed elsewhere gets only its home region", async () => {
    const b = bucket("ireland");
    await api("eu-west-1").createTrail({ Name: "ireland", S3BucketName: b });
    await api("eu-west-1").startLogging({ Name: "ireland" });
    const records = REGIONS.map((awsRegion) => managementRecord(next(), { awsRegion }));
    await ingest(records);
    await drain();
    expect(idsOf(foreign(b))).toEqual(idsOf([records[1]!]));
    expect(files(b).map((f) => f.region)).toEqual(files(b).map(() => "eu-west-1"));
  });

  it("a multi-Region trail reports delivery per region", async () => {
    const b = bucket("status");
    const created = await api().createTrail({
      Name: "per-region",
      S3BucketName: b,
      IsMultiRegionTrail: true,
    });
    await api().startLogging({ Name: "per-region" });
    await ingest([managementRecord(next(), { awsRegion: "ap-south-1" })]);
    await drain();
    const mumbai = await api("ap-south-1").getTrailStatus({ Name: created.TrailARN });
    expect(mumbai.LatestDeliveryTime).toBeInstanceOf(Date);
    // nothing of eu-west-1 was recorded, so nothing was delivered there
    const ireland = await api("eu-west-1").getTrailStatus({ Name: created.TrailARN });
    expect(ireland.LatestDeliveryTime).toBeUndefined();
    expect(ireland.LatestDeliveryAttemptTime).toBe("");
  });
});

describe("global service events", () => {
  it("reach trails that include them and cover us-east-1, and no others", async () => {
    const b = {
      home: bucket("home"),
      noGlobal: bucket("no-global"),
      multi: bucket("multi"),
      away: bucket("away"),
    };
    await api().createTrail({ Name: "home", S3BucketName: b.home, IncludeGlobalServiceEvents: true });
    await api().createTrail({
      Name: "no-global",
      S3BucketName: b.noGlobal,
      IncludeGlobalServiceEvents: false,
    });
    await api("eu-west-1").createTrail({ Name: "multi", S3BucketName: b.multi, IsMultiRegionTrail: true });
    await api("eu-west-1").createTrail({
      Name: "away",
      S3BucketName: b.away,
      IncludeGlobalServiceEvents: true,
    });
    for (const name of ["home", "no-global"]) await api().startLogging({ Name: name });
    for (const name of ["multi", "away"]) await api("eu-west-1").startLogging({ Name: name });

    const iam = managementRecord(next(), { eventSource: "iam.amazonaws.com", eventName: "CreateUser" });
    const ec2Virginia = managementRecord(next());
    const ec2Ireland = managementRecord(next(), { awsRegion: "eu-west-1" });
    // STS through a regional endpoint carries that region and is not a global service event
    const stsIreland = managementRecord(next(), {
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRole",
      awsRegion: "eu-west-1",
    });
    await ingest([iam, ec2Virginia, ec2Ireland, stsIreland]);
    await drain();

    expect(idsOf(foreign(b.home))).toEqual(idsOf([iam, ec2Virginia]));
    expect(idsOf(foreign(b.noGlobal))).toEqual(idsOf([ec2Virginia]));
    expect(idsOf(foreign(b.multi))).toEqual(idsOf([iam, ec2Virginia, ec2Ireland, stsIreland]));
    expect(idsOf(foreign(b.away))).toEqual(idsOf([ec2Ireland, stsIreland]));
    // a global event is filed under us-east-1
    const iamFile = files(b.multi).find((f) => f.records.some((r) => r.eventID === iam.eventID));
    expect(iamFile?.region).toBe("us-east-1");
  });
});

describe("data events", () => {
  const s3Put = (bucketName: string, key: string) => ({
    source: "s3.amazonaws.com",
    name: "PutObject",
    readOnly: false,
    resource: { type: "AWS::S3::Object", ARN: `arn:aws:s3:::${bucketName}/${key}` },
  });
  const invoke = (fn: string) => ({
    source: "lambda.amazonaws.com",
    name: "Invoke",
    readOnly: false,
    resource: { type: "AWS::Lambda::Function", ARN: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn}` },
  });

  /** The worked examples of selectors.md and a management call, sent to every trail. */
  function examples() {
    return {
      bucket1: dataRecord(next(), s3Put("bucket-1", "my-file.txt")),
      bucket1Nested: dataRecord(next(), s3Put("bucket-1", "a/b/c.json")),
      bucket2: dataRecord(next(), s3Put("bucket-2", "my-file.txt")),
      // a bucket whose name starts like the selected one is another bucket
      bucket10: dataRecord(next(), s3Put("bucket-10", "my-file.txt")),
      myFunction: dataRecord(next(), invoke("MyLambdaFunction")),
      otherFunction: dataRecord(next(), invoke("MyOtherLambdaFunction")),
      // exact match for functions: no prefix matching
      longerName: dataRecord(next(), invoke("MyLambdaFunction2")),
      management: managementRecord(next(), { eventName: "RunInstances", readOnly: false }),
    };
  }

  async function logging(
    name: string,
    selectors: { EventSelectors: EventSelector[] } | { AdvancedEventSelectors: AdvancedEventSelector[] },
  ): Promise<string> {
    const b = bucket(name);
    await api().createTrail({ Name: name, S3BucketName: b });
    await api().putEventSelectors({ TrailName: name, ...selectors });
    await api().startLogging({ Name: name });
    return b;
  }

  it("basic DataResources: PutObject in bucket-1 is logged and in bucket-2 is not; Invoke likewise", async () => {
    const s3 = await logging("basic-s3", {
      EventSelectors: [
        {
          ReadWriteType: "All",
          IncludeManagementEvents: false,
          DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::bucket-1/"] }],
        },
      ],
    });
    const lambda = await logging("basic-lambda", {
      EventSelectors: [
        {
          ReadWriteType: "All",
          IncludeManagementEvents: false,
          DataResources: [
            {
              Type: "AWS::Lambda::Function",
              Values: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:MyLambdaFunction`],
            },
          ],
        },
      ],
    });
    const both = await logging("basic-both", {
      EventSelectors: [
        { ReadWriteType: "WriteOnly", DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3"] }] },
        {
          ReadWriteType: "All",
          IncludeManagementEvents: false,
          DataResources: [{ Type: "AWS::Lambda::Function", Values: ["arn:aws:lambda"] }],
        },
      ],
    });
    const e = examples();
    await ingest(Object.values(e));
    await drain();

    // without management events the trail's own calls stay out too
    expect(
      files(s3)
        .flatMap((f) => f.records)
        .map((r) => r.eventID),
    ).toEqual(expect.arrayContaining([e.bucket1.eventID, e.bucket1Nested.eventID]));
    expect(idsOf(files(s3).flatMap((f) => f.records))).toEqual(idsOf([e.bucket1, e.bucket1Nested]));
    expect(idsOf(files(lambda).flatMap((f) => f.records))).toEqual(idsOf([e.myFunction]));
    expect(idsOf(foreign(both))).toEqual(
      idsOf([
        e.bucket1,
        e.bucket1Nested,
        e.bucket2,
        e.bucket10,
        e.myFunction,
        e.otherFunction,
        e.longerName,
        e.management,
      ]),
    );
    for (const r of files(s3).flatMap((f) => f.records)) expect(r.eventCategory).toBe("Data");
  });

  it("advanced selectors: the same examples, AND within a selector and OR across selectors", async () => {
    const s3 = await logging("advanced-s3", {
      AdvancedEventSelectors: [
        {
          Name: "bucket-1 objects",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::S3::Object"] },
            { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::bucket-1/"] },
          ],
        },
      ],
    });
    const lambda = await logging("advanced-lambda", {
      AdvancedEventSelectors: [
        {
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::Lambda::Function"] },
            {
              Field: "resources.ARN",
              Equals: [`arn:aws:lambda:us-east-1:${ACCOUNT}:function:MyLambdaFunction`],
            },
          ],
        },
      ],
    });
    const either = await logging("advanced-either", {
      AdvancedEventSelectors: [
        {
          Name: "objects outside bucket-1",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::S3::Object"] },
            { Field: "resources.ARN", NotStartsWith: ["arn:aws:s3:::bucket-1/"] },
            { Field: "eventName", Equals: ["PutObject"] },
          ],
        },
        {
          Name: "functions ending in 2",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::Lambda::Function"] },
            { Field: "resources.ARN", EndsWith: ["Function2"] },
          ],
        },
        { Name: "management", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
      ],
    });
    const e = examples();
    await ingest(Object.values(e));
    await drain();

    expect(idsOf(files(s3).flatMap((f) => f.records))).toEqual(idsOf([e.bucket1, e.bucket1Nested]));
    expect(idsOf(files(lambda).flatMap((f) => f.records))).toEqual(idsOf([e.myFunction]));
    expect(idsOf(foreign(either))).toEqual(idsOf([e.bucket2, e.bucket10, e.longerName, e.management]));
  });
});

describe("logging state at the record's time", () => {
  it("delivers what was dated while the trail logged, whenever it arrives, and nothing dated outside", async () => {
    const b = bucket("window");
    await api().createTrail({ Name: "window", S3BucketName: b });
    await api().startLogging({ Name: "window" });
    const started = (await api().getTrailStatus({ Name: "window" })).StartLoggingTime!;
    const at = (ms: number) => wholeSecond(new Date(ms));
    const beforeStart = managementRecord(next(), { eventTime: at(started.getTime() - 3_600_000) });
    const justBefore = managementRecord(next(), { eventTime: at(started.getTime() - 1_000) });
    const startSecond = managementRecord(next(), { eventTime: at(started.getTime()) });
    await ingest([beforeStart, justBefore, startSecond]);

    await api().stopLogging({ Name: "window" });
    const stopped = (await api().getTrailStatus({ Name: "window" })).StopLoggingTime!;
    // arrives after StopLogging, dated while the trail logged: still the trail's
    const lateArrival = managementRecord(next(), { eventTime: at(stopped.getTime()) });
    const afterStop = managementRecord(next(), { eventTime: at(stopped.getTime() + 1_000) });
    const muchLater = managementRecord(next(), { eventTime: at(stopped.getTime() + 3_600_000) });
    await ingest([lateArrival, afterStop, muchLater]);
    await drain();

    expect(idsOf(foreign(b))).toEqual(idsOf([startSecond, lateArrival]));
  });

  it("delivers nothing for a trail that was created but never logged", async () => {
    const b = bucket("never");
    await api().createTrail({ Name: "never", S3BucketName: b });
    await ingest([managementRecord(next())]);
    await drain();
    expect(files(b)).toEqual([]);
  });
});

describe("changes of the trail", () => {
  it("UpdateTrail to another bucket: earlier records in the old bucket, later ones in the new", async () => {
    const oldBucket = bucket("old");
    const newBucket = bucket("new");
    await api().createTrail({ Name: "moving", S3BucketName: oldBucket, S3KeyPrefix: "before" });
    await api().startLogging({ Name: "moving" });
    const early = [managementRecord(next()), managementRecord(next())];
    await ingest(early);
    await api().updateTrail({ Name: "moving", S3BucketName: newBucket, S3KeyPrefix: "after" });
    const late = [managementRecord(next()), managementRecord(next())];
    await ingest(late);
    await drain();

    expect(idsOf(foreign(oldBucket))).toEqual(idsOf(early));
    expect(idsOf(foreign(newBucket))).toEqual(idsOf(late));
    expect(files(oldBucket).every((f) => f.key.startsWith("before/AWSLogs/"))).toBe(true);
    expect(files(newBucket).every((f) => f.key.startsWith("after/AWSLogs/"))).toBe(true);
    // the UpdateTrail call itself is recorded after the change, so it goes to the new bucket
    const own = (b: string) => files(b).flatMap((f) => f.records.map((r) => r.eventName));
    expect(own(newBucket)).toContain("UpdateTrail");
    expect(own(oldBucket)).not.toContain("UpdateTrail");
  });

  it("DeleteTrail: what the trail selected before it went is still delivered, in a final file", async () => {
    const b = bucket("deleted");
    await api().createTrail({ Name: "going", S3BucketName: b });
    await api().startLogging({ Name: "going" });
    const before = [managementRecord(next()), managementRecord(next())];
    await ingest(before);
    await api().deleteTrail({ Name: "going" });
    await ingest([managementRecord(next())]);
    await drain();
    expect(idsOf(foreign(b))).toEqual(idsOf(before));
    expect(files(b).flatMap((f) => f.records.map((r) => r.eventName))).not.toContain("DeleteTrail");
  });
});

describe("the running worker", () => {
  /** Polls a visible effect with a bound (about 5 s): the worker runs on its own timer here. */
  async function eventually<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
    let value = read();
    for (let i = 0; i < 50 && !done(value); i++) {
      await delay(100);
      value = read();
    }
    return value;
  }

  it("writes the file on StopLogging without waiting for the delivery interval", async () => {
    const b = bucket("flush-stop");
    await api().createTrail({ Name: "flushing", S3BucketName: b });
    await api().startLogging({ Name: "flushing" });
    const records = [managementRecord(next()), managementRecord(next())];
    await ingest(records);
    await api().stopLogging({ Name: "flushing" });
    const names = await eventually(
      () => files(b).flatMap((f) => f.records.map((r) => r.eventName)),
      (got) => got.includes("StopLogging"),
    );
    expect(names).toContain("StopLogging");
    expect(idsOf(foreign(b))).toEqual(idsOf(records));
  });

  it("writes the final file on DeleteTrail without waiting for the delivery interval", async () => {
    const b = bucket("flush-delete");
    await api().createTrail({ Name: "flushing", S3BucketName: b });
    await api().startLogging({ Name: "flushing" });
    const records = [managementRecord(next()), managementRecord(next())];
    await ingest(records);
    await api().deleteTrail({ Name: "flushing" });
    const got = await eventually(
      () => idsOf(foreign(b)),
      (ids) => ids.length >= records.length,
    );
    expect(got).toEqual(idsOf(records));
  });

  it("writes the old bucket's file on a change of bucket without waiting for the delivery interval", async () => {
    const oldBucket = bucket("flush-old");
    const newBucket = bucket("flush-new");
    await api().createTrail({ Name: "flushing", S3BucketName: oldBucket });
    await api().startLogging({ Name: "flushing" });
    const records = [managementRecord(next()), managementRecord(next())];
    await ingest(records);
    await api().updateTrail({ Name: "flushing", S3BucketName: newBucket });
    const got = await eventually(
      () => idsOf(foreign(oldBucket)),
      (ids) => ids.length >= records.length,
    );
    expect(got).toEqual(idsOf(records));
  });
});
