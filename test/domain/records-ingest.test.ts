import { describe, expect, it } from "vitest";
import { checkIngestRecord, type IngestDefaults, MAX_RECORD_BYTES } from "../../src/domain/records.ts";
import { ACCT, corpusRecords, INSIGHT_RECORD as INSIGHT, recipientOf } from "./records-fixtures.ts";

const NOW = new Date("2024-03-05T12:06:07.500Z");
const DEFAULT_KEYS = ["eventTime", "awsRegion", "eventID", "recipientAccountId"];

function defaults(accountId = ACCT): IngestDefaults & { drawn: number } {
  const d = {
    accountId,
    region: "eu-west-1",
    eventTime: NOW,
    drawn: 0,
    newEventId: () => `new-${++d.drawn}`,
  };
  return d;
}

const API_CALL = {
  eventVersion: "1.08",
  userIdentity: { type: "IAMUser", accountId: ACCT, userName: "alice" },
  eventTime: "2024-03-05T12:00:00Z",
  eventSource: "s3.amazonaws.com",
  eventName: "CreateBucket",
  awsRegion: "us-east-2",
  requestParameters: { bucketName: "b" },
  responseElements: null,
  eventID: "e-1",
  eventType: "AwsApiCall",
  recipientAccountId: ACCT,
};

const refused = (raw: unknown, d: IngestDefaults = defaults()) => {
  const result = checkIngestRecord(raw, d);
  return result.ok ? "accepted" : result.reason;
};

const corpus = corpusRecords();

describe("the AWS documentation corpus", () => {
  it.skipIf(corpus === undefined)(
    "every record is accepted unchanged apart from the defaults appended after it (skipped: the shared corpus is not beside the repository)",
    () => {
      const records = corpus ?? [];
      expect(records).toHaveLength(23);
      for (const raw of records) {
        const before = JSON.stringify(raw);
        const d = defaults(recipientOf(raw));
        const result = checkIngestRecord(raw, d);
        if (!result.ok) throw new Error(`refused (${result.reason}): ${before.slice(0, 200)}`);
        expect(JSON.stringify(raw)).toBe(before);
        const keys = Object.keys(result.record);
        const rawKeys = Object.keys(raw);
        expect(keys.slice(0, rawKeys.length)).toEqual(rawKeys);
        const added = keys.slice(rawKeys.length);
        expect(added).toEqual(DEFAULT_KEYS.filter((k) => raw[k] === undefined));
        for (const key of rawKeys) expect(result.record[key]).toBe(raw[key]);
        // Serialized, the record is the original text with the added fields spliced in at the end.
        const addedJson = JSON.stringify(Object.fromEntries(added.map((k) => [k, result.record[k]])));
        const spliced = added.length === 0 ? before : `${before.slice(0, -1)},${addedJson.slice(1)}`;
        expect(JSON.stringify(result.record)).toBe(spliced);
      }
    },
  );
});

describe("checkIngestRecord: defaults", () => {
  it("keeps a complete record as it is", () => {
    const d = defaults();
    const result = checkIngestRecord(API_CALL, d);
    expect(result).toEqual({ ok: true, record: API_CALL });
    expect(result.ok && result.record).not.toBe(API_CALL);
    expect(d.drawn).toBe(0);
  });

  it("appends eventTime, awsRegion, eventID and recipientAccountId when missing, in that order", () => {
    const d = defaults();
    const { eventTime, awsRegion, eventID, recipientAccountId, ...partial } = API_CALL;
    const result = checkIngestRecord({ ...partial, zeta: 1 }, d);
    expect(result.ok && Object.entries(result.record).slice(-5)).toEqual([
      ["zeta", 1],
      ["eventTime", "2024-03-05T12:06:07Z"],
      ["awsRegion", "eu-west-1"],
      ["eventID", "new-1"],
      ["recipientAccountId", ACCT],
    ]);
    expect(d.drawn).toBe(1);
  });

  it("keeps a region other than the endpoint's (multi-Region trails receive those)", () => {
    const result = checkIngestRecord({ ...API_CALL, awsRegion: "ap-south-1" }, defaults());
    expect(result.ok && result.record.awsRegion).toBe("ap-south-1");
  });

  it("keeps fields it does not know, of any type", () => {
    const raw = { ...API_CALL, eventContext: [1, "two"], inScopeOf: null, weird: 3.5 };
    expect(checkIngestRecord(raw, defaults())).toEqual({ ok: true, record: raw });
  });

  it("accepts an Insights record, which names its API in insightDetails", () => {
    expect(refused(INSIGHT)).toBe("accepted");
    expect(refused({ ...INSIGHT, eventCategory: undefined })).toBe("accepted");
  });

  it("accepts an old-form record without eventType that says who acted", () => {
    expect(refused({ eventVersion: "1.08", userIdentity: { type: "AssumedRole" } })).toBe("accepted");
    expect(
      refused({ eventVersion: "1.0", eventSource: "ec2.amazonaws.com", eventName: "StartInstances" }),
    ).toBe("accepted");
  });

  it("accepts a record of exactly 256 KB and refuses one byte more", () => {
    const base = JSON.stringify({ ...API_CALL, userAgent: "" }).length;
    const fits = { ...API_CALL, userAgent: "u".repeat(MAX_RECORD_BYTES - base) };
    expect(JSON.stringify(fits).length).toBe(MAX_RECORD_BYTES);
    expect(refused(fits)).toBe("accepted");
    expect(refused({ ...fits, userAgent: `${fits.userAgent}u` })).toBe("record larger than 256 KB");
  });

  it("counts the added defaults and UTF-8 bytes against the 256 KB", () => {
    const { eventID, ...noId } = API_CALL;
    const base = JSON.stringify({ ...noId, userAgent: "", eventID: "new-1" }).length;
    const fits = { ...noId, userAgent: "u".repeat(MAX_RECORD_BYTES - base) };
    expect(refused(fits)).toBe("accepted");
    expect(refused({ ...fits, userAgent: `${fits.userAgent.slice(1)}é` })).toBe("record larger than 256 KB");
  });
});

describe("checkIngestRecord: refusals", () => {
  it.each([null, [], "text", 5, true])("%j is not a record", (raw) => {
    expect(refused(raw)).toBe("record must be a JSON object");
  });

  const WRONG: Record<string, unknown> = {
    string: 5,
    boolean: "true",
    object: [],
    "object or null": "x",
    list: {},
  };
  const ARTICLE: Record<string, string> = {
    string: "a string",
    boolean: "a boolean",
    object: "an object",
    "object or null": "an object or null",
    list: "a list",
  };
  // log-files.md §1, grouped by JSON type.
  const words = (text: string) => text.split(" ");
  const FIELDS_BY_TYPE: Record<string, string[]> = {
    string: words(
      "eventVersion eventTime eventSource eventName awsRegion sourceIPAddress userAgent errorCode errorMessage requestID eventID eventType apiVersion recipientAccountId sharedEventID vpcEndpointId eventCategory sessionCredentialFromConsole",
    ),
    boolean: words("readOnly managementEvent"),
    object: words(
      "userIdentity additionalEventData serviceEventDetails insightDetails addendum edgeDeviceDetails tlsDetails",
    ),
    "object or null": words("requestParameters responseElements"),
    list: words("resources"),
  };
  const FIELDS = Object.entries(FIELDS_BY_TYPE).flatMap(([type, fields]) => fields.map((f) => [f, type]));

  it.each(FIELDS)("%s must be %s", (field, type) => {
    expect(refused({ ...API_CALL, [field]: WRONG[type] })).toBe(`${field} must be ${ARTICLE[type]}`);
    expect(refused({ ...API_CALL, [field]: null })).toBe(
      type === "object or null" ? "accepted" : `${field} must be ${ARTICLE[type]}`,
    );
  });

  it("checks the entries of resources", () => {
    expect(refused({ ...API_CALL, resources: [{ ARN: "arn:x", type: "T", accountId: ACCT }] })).toBe(
      "accepted",
    );
    expect(refused({ ...API_CALL, resources: [{}, 1] })).toBe("resources must be a list of objects");
    expect(refused({ ...API_CALL, resources: [{ ARN: 1 }] })).toBe("resources[].ARN must be a string");
    expect(refused({ ...API_CALL, resources: [{ type: false }] })).toBe("resources[].type must be a string");
    expect(refused({ ...API_CALL, resources: [{ accountId: 1 }] })).toBe(
      "resources[].accountId must be a string",
    );
  });

  it.each([
    "2024-03-05T12:06:07.123Z",
    "2024-03-05T12:06:07",
    "2024-03-05 12:06:07Z",
    "2024-03-05T12:06:07+00:00",
    "2024-02-30T00:00:00Z",
    "2024-03-05T24:00:00Z",
    "",
  ])("eventTime %j is refused", (eventTime) => {
    expect(refused({ ...API_CALL, eventTime })).toBe(
      "eventTime must be a UTC time written YYYY-MM-DDTHH:MM:SSZ",
    );
  });

  it("accepts a leap day", () => {
    expect(refused({ ...API_CALL, eventTime: "2024-02-29T23:59:59Z" })).toBe("accepted");
  });

  it("refuses an empty eventID", () => {
    expect(refused({ ...API_CALL, eventID: "" })).toBe("eventID must not be empty");
  });

  it("requires eventName and eventSource of every record that is not an Insights record", () => {
    const { eventName, eventSource, ...unnamed } = API_CALL;
    expect(refused(unnamed)).toBe("eventName is required");
    expect(refused({ ...unnamed, eventName: "" })).toBe("eventName is required");
    expect(refused({ ...unnamed, eventName })).toBe("eventSource is required");
    expect(refused({ ...unnamed, eventSource })).toBe("eventName is required");
    expect(refused({})).toBe("eventName is required");
    expect(refused({ eventType: "AwsServiceEvent", userIdentity: {} })).toBe("eventName is required");
  });

  it("requires the names of an Insights record in insightDetails", () => {
    const { insightDetails, ...bare } = INSIGHT;
    expect(refused(bare)).toBe("insightDetails is required");
    expect(refused({ ...INSIGHT, insightDetails: { eventSource: "ec2.amazonaws.com" } })).toBe(
      "insightDetails.eventName is required",
    );
    expect(refused({ ...INSIGHT, insightDetails: { eventName: "RunInstances" } })).toBe(
      "insightDetails.eventSource is required",
    );
    expect(refused({ eventCategory: "Insight", insightDetails: {} })).toBe(
      "insightDetails.eventName is required",
    );
  });

  it("refuses a record for another account", () => {
    expect(refused({ ...API_CALL, recipientAccountId: "999999999999" })).toBe("record for another account");
  });

  it("refuses what JSON cannot hold", () => {
    const cyclic: Record<string, unknown> = { ...API_CALL };
    cyclic.additionalEventData = { self: cyclic };
    expect(refused(cyclic)).toBe("record must be a JSON object");
  });

  it("reports the first problem: types, then eventTime, then names, then account, then size", () => {
    const everything = {
      eventName: 5,
      eventTime: "yesterday",
      recipientAccountId: "999999999999",
      eventType: "AwsApiCall",
    };
    expect(refused(everything)).toBe("eventName must be a string");
    expect(refused({ ...everything, eventName: "" })).toBe(
      "eventTime must be a UTC time written YYYY-MM-DDTHH:MM:SSZ",
    );
    expect(refused({ ...everything, eventName: "", eventTime: undefined })).toBe("eventName is required");
  });
});
