import { describe, expect, it } from "vitest";
import { checkIngestRecord, recordUsername, toLookupEvent, toStoredEvent } from "../../src/domain/records.ts";
import type { StoredEvent } from "../../src/ports/index.ts";
import { buildApiCallRecord } from "../../src/service/own-calls.ts";
import { ACCT, corpusRecords, INSIGHT_RECORD as INSIGHT, recipientOf } from "./records-fixtures.ts";

const API_CALL = {
  eventVersion: "1.08",
  userIdentity: {
    type: "IAMUser",
    principalId: "AIDAEXAMPLE",
    arn: `arn:aws:iam::${ACCT}:user/alice`,
    accountId: ACCT,
    accessKeyId: "AKIAEXAMPLE",
    userName: "alice",
  },
  eventTime: "2024-03-05T12:06:07Z",
  eventSource: "kms.amazonaws.com",
  eventName: "Decrypt",
  awsRegion: "us-east-2",
  eventID: "e-1",
  readOnly: true,
  resources: [
    { ARN: "arn:aws:kms:us-east-2:111122223333:key/k", accountId: ACCT, type: "AWS::KMS::Key" },
    {},
  ],
  eventType: "AwsApiCall",
  managementEvent: true,
  recipientAccountId: ACCT,
  eventCategory: "Management",
};

describe("toStoredEvent", () => {
  it("keeps the columns event history filters on", () => {
    expect(toStoredEvent(API_CALL, ACCT)).toEqual({
      accountId: ACCT,
      region: "us-east-2",
      eventId: "e-1",
      eventTime: new Date("2024-03-05T12:06:07Z"),
      category: "Management",
      eventName: "Decrypt",
      eventSource: "kms.amazonaws.com",
      readOnly: true,
      username: "alice",
      accessKeyId: "AKIAEXAMPLE",
      resources: [{ type: "AWS::KMS::Key", name: "arn:aws:kms:us-east-2:111122223333:key/k" }, {}],
      json: JSON.stringify(API_CALL),
    });
  });

  it("keeps the JSON text it is given", () => {
    const text = `{ "eventVersion" : "1.08" }`;
    expect(toStoredEvent(API_CALL, ACCT, text).json).toBe(text);
  });

  it("takes an Insights event's names from insightDetails and gives it no user, key or read-only flag", () => {
    const stored = toStoredEvent(
      { ...INSIGHT, readOnly: false, userIdentity: { userName: "x", accessKeyId: "K" } },
      ACCT,
    );
    expect(stored).toEqual({
      accountId: ACCT,
      region: "us-east-1",
      eventId: "i-1",
      eventTime: new Date("2024-03-05T12:00:00Z"),
      category: "Insight",
      eventName: "RunInstances",
      eventSource: "ec2.amazonaws.com",
      resources: [],
      json: expect.any(String),
    });
  });

  it.each([
    ["eventCategory when present", { eventCategory: "Data", managementEvent: true }, "Data"],
    ["NetworkActivity", { eventCategory: "NetworkActivity" }, "NetworkActivity"],
    ["Insights by eventType before 1.07", { eventType: "AwsCloudTrailInsight" }, "Insight"],
    ["data events by managementEvent false", { eventType: "AwsApiCall", managementEvent: false }, "Data"],
    ["management otherwise", { eventType: "AwsApiCall" }, "Management"],
    ["management for a record with nothing", {}, "Management"],
    [
      "inference for a category it does not know",
      { eventCategory: "Future", managementEvent: false },
      "Data",
    ],
  ])("category: %s", (_name, record, category) => {
    expect(toStoredEvent(record, ACCT).category).toBe(category);
  });

  it("never throws on odd shapes and leaves out what is not there", () => {
    const odd = {
      eventTime: "not a time",
      awsRegion: 5,
      eventID: null,
      eventName: "",
      readOnly: "yes",
      userIdentity: "me",
      resources: "all",
    };
    expect(toStoredEvent(odd, ACCT)).toEqual({
      accountId: ACCT,
      region: "",
      eventId: "",
      eventTime: new Date(0),
      category: "Management",
      resources: [],
      json: JSON.stringify(odd),
    });
  });

  it("reads a string readOnly the way selectors do, and omits an empty access key", () => {
    const stored = toStoredEvent({ readOnly: "false", userIdentity: { accessKeyId: "" } }, ACCT);
    expect(stored.readOnly).toBe(false);
    expect(stored).not.toHaveProperty("accessKeyId");
  });

  it("stores a record of this service's own call with the trail hint as its resources", () => {
    const { record, resources } = buildApiCallRecord({
      operation: "StartLogging",
      input: { Name: "t1" },
      ctx: {
        accountId: ACCT,
        region: "us-east-1",
        principal: {
          accountId: ACCT,
          accessKeyId: "AKIAEXAMPLE",
          identity: { type: "Root", accountId: ACCT },
        },
        requestId: "r",
        ids: { uuid: () => "u" },
      },
      sourceIPAddress: "127.0.0.1",
      eventTime: new Date("2024-03-05T12:06:07Z"),
    });
    const stored = { ...toStoredEvent(record, ACCT), resources };
    expect(stored).toMatchObject({
      eventId: "u",
      category: "Management",
      eventName: "StartLogging",
      eventSource: "cloudtrail.amazonaws.com",
      readOnly: false,
      username: "root",
      accessKeyId: "AKIAEXAMPLE",
      resources: [{ type: "AWS::CloudTrail::Trail", name: "t1" }],
    });
  });
});

describe("recordUsername", () => {
  it.each([
    ["userName first", { type: "AssumedRole", userName: "u", arn: "arn:aws:sts::1:assumed-role/R/s" }, "u"],
    [
      "an assumed role's session name",
      { type: "AssumedRole", arn: "arn:aws:sts::1:assumed-role/Role/sess" },
      "sess",
    ],
    ["a federated user's name", { type: "FederatedUser", arn: "arn:aws:sts::1:federated-user/bob" }, "bob"],
    [
      "no session name in an ARN ending in /",
      { type: "AssumedRole", arn: "arn:aws:sts::1:assumed-role/Role/" },
      undefined,
    ],
    ["no session without an ARN", { type: "AssumedRole" }, undefined],
    ["root", { type: "Root", arn: "arn:aws:iam::1:root" }, "root"],
    ["a Root with an alias as userName", { type: "Root", userName: "my-alias" }, "my-alias"],
    [
      "the calling service",
      { type: "AWSService", invokedBy: "lambda.amazonaws.com" },
      "lambda.amazonaws.com",
    ],
    ["nothing for other types", { type: "Unknown", principalId: "p" }, undefined],
    ["nothing for an empty userName", { type: "IAMUser", userName: "" }, undefined],
  ])("%s", (_name, userIdentity, expected) => {
    expect(recordUsername({ userIdentity })).toBe(expected);
  });
});

describe("toLookupEvent", () => {
  const stored = toStoredEvent(API_CALL, ACCT);

  it("answers with every member, ReadOnly as a string", () => {
    expect(toLookupEvent(stored)).toEqual({
      EventId: "e-1",
      EventName: "Decrypt",
      ReadOnly: "true",
      AccessKeyId: "AKIAEXAMPLE",
      EventTime: new Date("2024-03-05T12:06:07Z"),
      EventSource: "kms.amazonaws.com",
      Username: "alice",
      Resources: [
        { ResourceType: "AWS::KMS::Key", ResourceName: "arn:aws:kms:us-east-2:111122223333:key/k" },
        {},
      ],
      CloudTrailEvent: JSON.stringify(API_CALL),
    });
  });

  it("gives Resources [] when there are none and ReadOnly false as the string false", () => {
    const event = toLookupEvent({ ...stored, resources: [], readOnly: false });
    expect(event.Resources).toEqual([]);
    expect(event.ReadOnly).toBe("false");
  });

  it("leaves out what the stored event does not have", () => {
    const bare: StoredEvent = {
      accountId: ACCT,
      region: "us-east-1",
      eventId: "x",
      eventTime: new Date(0),
      category: "Management",
      resources: [],
      json: "{}",
    };
    expect(toLookupEvent(bare)).toEqual({
      EventId: "x",
      EventTime: new Date(0),
      Resources: [],
      CloudTrailEvent: "{}",
    });
  });

  it("omits Username, AccessKeyId and ReadOnly for Insights events", () => {
    const insight: StoredEvent = {
      ...toStoredEvent(INSIGHT, ACCT),
      username: "x",
      accessKeyId: "K",
      readOnly: true,
    };
    expect(toLookupEvent(insight)).toEqual({
      EventId: "i-1",
      EventName: "RunInstances",
      EventTime: new Date("2024-03-05T12:00:00Z"),
      EventSource: "ec2.amazonaws.com",
      Resources: [],
      CloudTrailEvent: JSON.stringify(INSIGHT),
    });
  });
});

const corpus = corpusRecords();

describe("the AWS documentation corpus in event history", () => {
  it.skipIf(corpus === undefined)(
    "every record is stored without error in a sensible category (skipped: the shared corpus is not beside the repository)",
    () => {
      const records = corpus ?? [];
      const defaults = {
        region: "us-east-1",
        eventTime: new Date("2024-01-01T00:00:00Z"),
        newEventId: () => "new",
      };
      const categories: string[] = [];
      for (const raw of records) {
        const accountId = recipientOf(raw);
        const checked = checkIngestRecord(raw, { ...defaults, accountId });
        if (!checked.ok) throw new Error(checked.reason);
        const text = JSON.stringify(checked.record);
        const stored = toStoredEvent(checked.record, accountId, text);
        const event = toLookupEvent(stored);
        categories.push(stored.category);
        const insight = raw.eventType === "AwsCloudTrailInsight";
        expect(stored.category).toBe(insight ? "Insight" : "Management");
        expect(stored.eventTime.getTime()).toBe(Date.parse(checked.record.eventTime as string));
        expect(stored.eventId).toBe(checked.record.eventID);
        expect(stored.json).toBe(text);
        expect(JSON.parse(event.CloudTrailEvent ?? "")).toEqual(checked.record);
        if (insight) {
          const details = raw.insightDetails as Record<string, unknown>;
          expect([stored.eventName, stored.eventSource]).toEqual([details.eventName, details.eventSource]);
          expect(event).not.toHaveProperty("Username");
        } else if (raw.eventName !== undefined) {
          expect([stored.eventName, stored.eventSource]).toEqual([raw.eventName, raw.eventSource]);
        }
      }
      expect(categories.filter((c) => c === "Insight")).toHaveLength(3);
    },
  );

  it.skipIf(corpus === undefined)(
    "derives the user names AWS's console shows for the documented identities",
    () => {
      const records = corpus ?? [];
      const usernames = new Set(records.map((r) => recordUsername(r)));
      expect(usernames).toEqual(new Set(["anaya", "root", "Dev1", "Alice", "Mary_Major", undefined]));
    },
  );
});
