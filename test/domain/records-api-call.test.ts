import { describe, expect, it } from "vitest";
import type { OperationName } from "../../src/api/operations.ts";
import {
  PAYLOAD_FIELD_MAX_BYTES,
  type RecordContext,
  TEXT_FIELD_MAX_BYTES,
  toRecordMembers,
} from "../../src/domain/records.ts";
import { type ApiCall, buildApiCallRecord } from "../../src/service/own-calls.ts";

const ACCT = "111122223333";
const IDENTITY = {
  type: "IAMUser",
  principalId: "AIDAEXAMPLE",
  arn: `arn:aws:iam::${ACCT}:user/alice`,
  accountId: ACCT,
  userName: "alice",
};
const TRAIL_ARN = `arn:aws:cloudtrail:us-east-1:${ACCT}:trail/management-events`;
const AT = new Date("2024-03-05T12:06:07.891Z");

function context(identity: Record<string, unknown> = IDENTITY): RecordContext & { uuids: number } {
  const ctx = {
    accountId: ACCT,
    region: "us-east-1",
    principal: { accountId: ACCT, accessKeyId: "AKIAEXAMPLE", identity },
    requestId: "3f0c5a1e-request",
    uuids: 0,
    ids: {
      uuid: () => {
        ctx.uuids++;
        return `event-${ctx.uuids}`;
      },
    },
  };
  return ctx;
}

function call(
  operation: OperationName,
  input: Record<string, unknown>,
  extra: Partial<ApiCall> = {},
): ApiCall {
  return {
    operation,
    input,
    ctx: context(),
    sourceIPAddress: "203.0.113.10",
    userAgent: "aws-cli/2.15.0",
    tls: { version: "TLSv1.3", cipher: "TLS_AES_128_GCM_SHA256", host: "cloudtrail.local:8443" },
    eventTime: AT,
    ...extra,
  };
}

const CREATE_INPUT = {
  Name: "management-events",
  S3BucketName: "audit-bucket",
  IncludeGlobalServiceEvents: true,
  IsMultiRegionTrail: true,
  IsOrganizationTrail: false,
  KmsKeyId: undefined,
};
const CREATE_OUTPUT = {
  $metadata: { httpStatusCode: 200 },
  Name: "management-events",
  S3BucketName: "audit-bucket",
  IncludeGlobalServiceEvents: true,
  IsMultiRegionTrail: true,
  TrailARN: TRAIL_ARN,
  LogFileValidationEnabled: false,
  IsOrganizationTrail: false,
};
const TLS_DETAILS = {
  tlsVersion: "TLSv1.3",
  cipherSuite: "TLS_AES_128_GCM_SHA256",
  clientProvidedHostHeader: "cloudtrail.local:8443",
};
const USER_IDENTITY = { ...IDENTITY, accessKeyId: "AKIAEXAMPLE" };

describe("buildApiCallRecord: field by field", () => {
  it("a mutating operation that succeeds records its request and its response", () => {
    const { record } = buildApiCallRecord(call("CreateTrail", CREATE_INPUT, { output: CREATE_OUTPUT }));
    expect(Object.entries(record)).toEqual([
      ["eventVersion", "1.08"],
      ["userIdentity", USER_IDENTITY],
      ["eventTime", "2024-03-05T12:06:07Z"],
      ["eventSource", "cloudtrail.amazonaws.com"],
      ["eventName", "CreateTrail"],
      ["awsRegion", "us-east-1"],
      ["sourceIPAddress", "203.0.113.10"],
      ["userAgent", "aws-cli/2.15.0"],
      [
        "requestParameters",
        {
          name: "management-events",
          s3BucketName: "audit-bucket",
          includeGlobalServiceEvents: true,
          isMultiRegionTrail: true,
          isOrganizationTrail: false,
        },
      ],
      [
        "responseElements",
        {
          name: "management-events",
          s3BucketName: "audit-bucket",
          includeGlobalServiceEvents: true,
          isMultiRegionTrail: true,
          trailARN: TRAIL_ARN,
          logFileValidationEnabled: false,
          isOrganizationTrail: false,
        },
      ],
      ["requestID", "3f0c5a1e-request"],
      ["eventID", "event-1"],
      ["readOnly", false],
      ["eventType", "AwsApiCall"],
      ["managementEvent", true],
      ["recipientAccountId", ACCT],
      ["eventCategory", "Management"],
      ["tlsDetails", TLS_DETAILS],
    ]);
  });

  it("a mutating operation that fails records the error and no response", () => {
    const { record } = buildApiCallRecord(
      call("CreateTrail", CREATE_INPUT, {
        output: CREATE_OUTPUT,
        error: {
          code: "TrailAlreadyExistsException",
          message: `Trail management-events already exists for customer: ${ACCT}`,
        },
      }),
    );
    expect(Object.keys(record)).toEqual([
      "eventVersion",
      "userIdentity",
      "eventTime",
      "eventSource",
      "eventName",
      "awsRegion",
      "sourceIPAddress",
      "userAgent",
      "errorCode",
      "errorMessage",
      "requestParameters",
      "responseElements",
      "requestID",
      "eventID",
      "readOnly",
      "eventType",
      "managementEvent",
      "recipientAccountId",
      "eventCategory",
      "tlsDetails",
    ]);
    expect(record.errorCode).toBe("TrailAlreadyExistsException");
    expect(record.errorMessage).toBe(`Trail management-events already exists for customer: ${ACCT}`);
    expect(record.requestParameters).toMatchObject({ name: "management-events" });
    expect(record.responseElements).toBeNull();
    expect(record.readOnly).toBe(false);
  });

  it("a read-only operation that succeeds has readOnly true and no response, even with output", () => {
    const { record } = buildApiCallRecord(
      call("GetTrailStatus", { Name: "management-events" }, { output: { IsLogging: true } }),
    );
    expect(record).toEqual({
      eventVersion: "1.08",
      userIdentity: USER_IDENTITY,
      eventTime: "2024-03-05T12:06:07Z",
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "GetTrailStatus",
      awsRegion: "us-east-1",
      sourceIPAddress: "203.0.113.10",
      userAgent: "aws-cli/2.15.0",
      requestParameters: { name: "management-events" },
      responseElements: null,
      requestID: "3f0c5a1e-request",
      eventID: "event-1",
      readOnly: true,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: ACCT,
      eventCategory: "Management",
      tlsDetails: TLS_DETAILS,
    });
    expect(record).not.toHaveProperty("errorCode");
  });

  it("a read-only operation that fails records the error", () => {
    const { record } = buildApiCallRecord(
      call(
        "GetTrail",
        { Name: "missing" },
        { error: { code: "TrailNotFoundException", message: "Unknown trail: missing" } },
      ),
    );
    expect(record).toMatchObject({
      eventName: "GetTrail",
      errorCode: "TrailNotFoundException",
      errorMessage: "Unknown trail: missing",
      requestParameters: { name: "missing" },
      responseElements: null,
      readOnly: true,
    });
  });

  it.each(["AddTags", "RemoveTags", "DeleteTrail", "StartLogging", "StopLogging"] as const)(
    "%s has responseElements null: its response is empty",
    (operation) => {
      const { record } = buildApiCallRecord(call(operation, { Name: "t" }, { output: { $metadata: {} } }));
      expect(record.responseElements).toBeNull();
      expect(record.readOnly).toBe(false);
    },
  );

  it.each(["UpdateTrail", "PutEventSelectors", "PutInsightSelectors"] as const)(
    "%s copies its response into responseElements",
    (operation) => {
      const { record } = buildApiCallRecord(call(operation, {}, { output: { TrailARN: TRAIL_ARN } }));
      expect(record.responseElements).toEqual({ trailARN: TRAIL_ARN });
    },
  );

  it("requestParameters is null when nothing was sent", () => {
    expect(buildApiCallRecord(call("ListTrails", {})).record.requestParameters).toBeNull();
    expect(
      buildApiCallRecord(call("DescribeTrails", { trailNameList: undefined })).record.requestParameters,
    ).toBeNull();
  });

  it("the eventTime drops milliseconds and the event id is drawn once per record", () => {
    const c = call("ListTrails", {});
    const { record } = buildApiCallRecord(c);
    expect(record.eventTime).toBe("2024-03-05T12:06:07Z");
    expect((c.ctx as ReturnType<typeof context>).uuids).toBe(1);
  });

  it("without a user agent or TLS those fields are left out; TLS without Host has no host header", () => {
    const bare = buildApiCallRecord(call("ListTrails", {}, { userAgent: undefined, tls: undefined })).record;
    expect(bare).not.toHaveProperty("userAgent");
    expect(bare).not.toHaveProperty("tlsDetails");
    const noHost = buildApiCallRecord(
      call("ListTrails", {}, { tls: { version: "TLSv1.2", cipher: "ECDHE-RSA-AES128-GCM-SHA256" } }),
    ).record;
    expect(noHost.tlsDetails).toEqual({ tlsVersion: "TLSv1.2", cipherSuite: "ECDHE-RSA-AES128-GCM-SHA256" });
  });
});

describe("buildApiCallRecord: userIdentity", () => {
  it("puts the request's key right after accountId when the template has none", () => {
    const identity = { ...IDENTITY, sessionContext: { attributes: { mfaAuthenticated: "false" } } };
    const { record } = buildApiCallRecord({ ...call("ListTrails", {}), ctx: context(identity) });
    expect(Object.keys(record.userIdentity as object)).toEqual([
      "type",
      "principalId",
      "arn",
      "accountId",
      "accessKeyId",
      "userName",
      "sessionContext",
    ]);
  });

  it("replaces a template accessKeyId in place and never changes the template", () => {
    const identity = { type: "Root", accessKeyId: "", arn: `arn:aws:iam::${ACCT}:root`, nested: { a: 1 } };
    const { record } = buildApiCallRecord({ ...call("ListTrails", {}), ctx: context(identity) });
    expect(Object.entries(record.userIdentity as object)).toEqual([
      ["type", "Root"],
      ["accessKeyId", "AKIAEXAMPLE"],
      ["arn", `arn:aws:iam::${ACCT}:root`],
      ["nested", { a: 1 }],
    ]);
    (record.userIdentity as { nested: { a: number } }).nested.a = 2;
    expect(identity).toEqual({
      type: "Root",
      accessKeyId: "",
      arn: `arn:aws:iam::${ACCT}:root`,
      nested: { a: 1 },
    });
  });

  it("appends the key to a template without accountId", () => {
    const { record } = buildApiCallRecord({ ...call("ListTrails", {}), ctx: context({ type: "Unknown" }) });
    expect(record.userIdentity).toEqual({ type: "Unknown", accessKeyId: "AKIAEXAMPLE" });
  });
});

describe("record member names", () => {
  it("lower-cases the first letter of every member at every depth", () => {
    const { record } = buildApiCallRecord(
      call("PutEventSelectors", {
        TrailName: "t",
        AdvancedEventSelectors: [
          {
            Name: "S3 data",
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["Data"] },
              { Field: "resources.type", Equals: ["AWS::S3::Object"], NotStartsWith: undefined },
            ],
          },
        ],
      }),
    );
    expect(record.requestParameters).toEqual({
      trailName: "t",
      advancedEventSelectors: [
        {
          name: "S3 data",
          fieldSelectors: [
            { field: "eventCategory", equals: ["Data"] },
            { field: "resources.type", equals: ["AWS::S3::Object"] },
          ],
        },
      ],
    });
  });

  it("renders timestamps as ISO-8601 text and keeps values as they are", () => {
    const { record } = buildApiCallRecord(
      call("LookupEvents", {
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateTrail" }],
        StartTime: new Date("2024-03-01T00:00:00.250Z"),
        EndTime: new Date("2024-03-05T00:00:00Z"),
        MaxResults: 10,
      }),
    );
    expect(record.requestParameters).toEqual({
      lookupAttributes: [{ attributeKey: "EventName", attributeValue: "CreateTrail" }],
      startTime: "2024-03-01T00:00:00.250Z",
      endTime: "2024-03-05T00:00:00.000Z",
      maxResults: 10,
    });
  });

  it("handles the odd cases: tags, empty lists, holes, invalid dates, SDK metadata", () => {
    expect(
      toRecordMembers({
        TagsList: [{ Key: "k", Value: "v" }],
        Empty: [],
        Holes: [undefined, "x"],
        When: new Date(Number.NaN),
        $metadata: { requestId: "r" },
        Nested: { $skip: 1, Keep: null },
      }),
    ).toEqual({
      tagsList: [{ key: "k", value: "v" }],
      empty: [],
      holes: [null, "x"],
      when: null,
      nested: { keep: null },
    });
  });
});

describe("field size limits", () => {
  it("cuts userAgent, errorCode, errorMessage and requestID at 1 KB", () => {
    const long = "a".repeat(3000);
    const c = call("GetTrail", {}, { userAgent: long, error: { code: long, message: long } });
    c.ctx = { ...c.ctx, requestId: long };
    const { record } = buildApiCallRecord(c);
    for (const field of ["userAgent", "errorCode", "errorMessage", "requestID"]) {
      expect(record[field]).toBe("a".repeat(TEXT_FIELD_MAX_BYTES));
    }
  });

  it("counts bytes, not characters, and never splits a character", () => {
    const twoByte = buildApiCallRecord(call("ListTrails", {}, { userAgent: "é".repeat(600) })).record;
    expect(twoByte.userAgent).toBe("é".repeat(512));
    const threeByte = buildApiCallRecord(call("ListTrails", {}, { userAgent: `x${"€".repeat(400)}` })).record;
    // 1 + 3 × 341 = 1024 bytes exactly.
    expect(threeByte.userAgent).toBe(`x${"€".repeat(341)}`);
    const fourByte = buildApiCallRecord(call("ListTrails", {}, { userAgent: "😀".repeat(300) })).record;
    expect(fourByte.userAgent).toBe("😀".repeat(256));
    const exact = "b".repeat(TEXT_FIELD_MAX_BYTES);
    expect(buildApiCallRecord(call("ListTrails", {}, { userAgent: exact })).record.userAgent).toBe(exact);
  });

  it("replaces requestParameters over 100 KB by the omitted marker and keeps it at 100 KB", () => {
    // {"name":"…"} is 11 bytes of JSON around the value.
    const fits = "n".repeat(PAYLOAD_FIELD_MAX_BYTES - 11);
    expect(buildApiCallRecord(call("GetTrail", { Name: fits })).record.requestParameters).toEqual({
      name: fits,
    });
    const over = `${fits}n`;
    expect(buildApiCallRecord(call("GetTrail", { Name: over })).record.requestParameters).toEqual({
      omitted: true,
    });
  });

  it("does the same for responseElements", () => {
    const big = { TrailARN: "x".repeat(PAYLOAD_FIELD_MAX_BYTES) };
    const { record } = buildApiCallRecord(call("UpdateTrail", { Name: "t" }, { output: big }));
    expect(record.requestParameters).toEqual({ name: "t" });
    expect(record.responseElements).toEqual({ omitted: true });
  });
});

describe("resources for event history", () => {
  const trail = (name: string) => ({ type: "AWS::CloudTrail::Trail", name });

  it.each([
    ["CreateTrail", { Name: "t1" }, [trail("t1")]],
    ["UpdateTrail", { Name: TRAIL_ARN }, [trail(TRAIL_ARN)]],
    ["DeleteTrail", { Name: "t1" }, [trail("t1")]],
    ["GetTrail", { Name: "t1" }, [trail("t1")]],
    ["GetTrailStatus", { Name: "t1" }, [trail("t1")]],
    ["StartLogging", { Name: "t1" }, [trail("t1")]],
    ["StopLogging", { Name: "t1" }, [trail("t1")]],
    ["GetEventSelectors", { TrailName: "t1" }, [trail("t1")]],
    ["PutEventSelectors", { TrailName: TRAIL_ARN }, [trail(TRAIL_ARN)]],
    ["GetInsightSelectors", { TrailName: "t1" }, [trail("t1")]],
    ["PutInsightSelectors", { EventDataStore: "eds" }, []],
    ["DescribeTrails", { trailNameList: ["a", TRAIL_ARN, "a"] }, [trail("a"), trail(TRAIL_ARN)]],
    ["DescribeTrails", {}, []],
    ["AddTags", { ResourceId: TRAIL_ARN, TagsList: [] }, [trail(TRAIL_ARN)]],
    ["RemoveTags", { ResourceId: `arn:aws:cloudtrail:us-east-1:${ACCT}:eventdatastore/x` }, []],
    [
      "ListTags",
      { ResourceIdList: [TRAIL_ARN, "not-an-arn", `arn:aws:cloudtrail:us-east-1:${ACCT}:channel/c`] },
      [trail(TRAIL_ARN)],
    ],
    ["ListTrails", {}, []],
    ["ListPublicKeys", {}, []],
    ["LookupEvents", { MaxResults: 5 }, []],
    ["GetTrail", { Name: "" }, []],
  ] as const)("%s %j", (operation, input, expected) => {
    const { record, resources } = buildApiCallRecord(call(operation, input));
    expect(resources).toEqual(expected);
    // AWS lists no resources in records of CloudTrail's own API.
    expect(record).not.toHaveProperty("resources");
  });
});
