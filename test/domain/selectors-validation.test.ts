import type { AdvancedEventSelector, EventSelector, InsightSelector } from "@aws-sdk/client-cloudtrail";
import { describe, expect, it } from "vitest";
import { isCloudTrailError } from "../../src/api/errors.ts";
import { validateEventSelectors, validateInsightSelectors } from "../../src/domain/selectors.ts";
import { DEFAULT_EVENT_SELECTORS, type SelectorConfig } from "../../src/domain/trail.ts";

type Input = Parameters<typeof validateEventSelectors>[0];

/** Inputs the SDK types would refuse, as a client sending raw JSON can still send them. */
function raw<T>(value: unknown): T {
  return value as T;
}

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isCloudTrailError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected a CloudTrailError");
}

const S3 = "AWS::S3::Object";
const LAMBDA = "AWS::Lambda::Function";
const DYNAMO = "AWS::DynamoDB::Table";
const MGMT = { Field: "eventCategory", Equals: ["Management"] };
const DATA = { Field: "eventCategory", Equals: ["Data"] };
const NETWORK = { Field: "eventCategory", Equals: ["NetworkActivity"] };
const S3_TYPE = { Field: "resources.type", Equals: [S3] };
const dataValue = (v: string) => `Value ${v} for DataResources.Values is invalid.`;
const s3Values = (...Values: string[]): Input => ({
  EventSelectors: [{ DataResources: [{ Type: S3, Values }] }],
});
const adv = (...FieldSelectors: object[]): Input => ({
  AdvancedEventSelectors: raw<AdvancedEventSelector[]>([{ FieldSelectors }]),
});
const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

describe("validateEventSelectors: failures", () => {
  const cases: [string, Input, string][] = [
    [
      "both kinds present",
      { EventSelectors: [{}], AdvancedEventSelectors: [] },
      "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both.",
    ],
    [
      "both kinds present, basic empty",
      { EventSelectors: [], AdvancedEventSelectors: raw([{ FieldSelectors: [MGMT] }]) },
      "You can select events by using either EventSelectors or AdvancedEventSelectors, but not both.",
    ],
    ["neither kind present", {}, "You must specify either EventSelectors or AdvancedEventSelectors."],
    [
      "both present and both empty: the empty EventSelectors list decides",
      { EventSelectors: [], AdvancedEventSelectors: [] },
      "The number of event selectors must be between 1 and 5; 0 were specified.",
    ],
    [
      "EventSelectors empty",
      { EventSelectors: [] },
      "The number of event selectors must be between 1 and 5; 0 were specified.",
    ],
    [
      "six event selectors",
      { EventSelectors: many(6, () => "").map(() => ({})) },
      "The number of event selectors must be between 1 and 5; 6 were specified.",
    ],
    ["EventSelectors not a list", { EventSelectors: raw({}) }, "EventSelectors must be a list."],
    [
      "element not an object",
      { EventSelectors: raw([null]) },
      "Each element of EventSelectors must be an event selector object.",
    ],
    [
      "ReadWriteType read-only",
      { EventSelectors: raw([{ ReadWriteType: "read-only" }]) },
      "Value read-only for ReadWriteType is invalid. Valid values are: All, ReadOnly, WriteOnly",
    ],
    [
      "DataResources.Type AWS::S3::Bucket",
      { EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Bucket", Values: ["arn:aws:s3:::b/"] }] }] },
      "Value AWS::S3::Bucket for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object",
    ],
    [
      "DataResources.Type missing",
      { EventSelectors: [{ DataResources: [{ Values: ["arn:aws:s3:::b/"] }] }] },
      "Value null for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object",
    ],
    ["S3 wildcard bucket", s3Values("arn:aws:s3:::*"), dataValue("arn:aws:s3:::*")],
    ["S3 wildcard objects", s3Values("arn:aws:s3:::*/*"), dataValue("arn:aws:s3:::*/*")],
    ["S3 empty bucket", s3Values("arn:aws:s3:::/"), dataValue("arn:aws:s3:::/")],
    ["S3 bucket without slash", s3Values("arn:aws:s3:::bucket-1"), dataValue("arn:aws:s3:::bucket-1")],
    ["bare bucket name", s3Values("bucket-1"), dataValue("bucket-1")],
    ["S3 bucket name with a wildcard", s3Values("arn:aws:s3:::cg-*/*"), dataValue("arn:aws:s3:::cg-*/*")],
    ["S3 bucket name in capitals", s3Values("arn:aws:s3:::MyBucket/"), dataValue("arn:aws:s3:::MyBucket/")],
    [
      "S3 bucket named as an IP",
      s3Values("arn:aws:s3:::192.168.5.4/"),
      dataValue("arn:aws:s3:::192.168.5.4/"),
    ],
    ["S3 bucket of two letters", s3Values("arn:aws:s3:::ab/"), dataValue("arn:aws:s3:::ab/")],
    ["S3 unknown partition", s3Values("arn:aws-xx:s3"), dataValue("arn:aws-xx:s3")],
    ["S3 type with a Lambda value", s3Values("arn:aws:lambda"), dataValue("arn:aws:lambda")],
    [
      "Lambda wildcard",
      { EventSelectors: [{ DataResources: [{ Type: LAMBDA, Values: ["arn:aws:lambda:*"] }] }] },
      dataValue("arn:aws:lambda:*"),
    ],
    [
      "Lambda type with an S3 value",
      { EventSelectors: [{ DataResources: [{ Type: LAMBDA, Values: ["arn:aws:s3"] }] }] },
      dataValue("arn:aws:s3"),
    ],
    [
      "Lambda ARN without a function name",
      {
        EventSelectors: [
          { DataResources: [{ Type: LAMBDA, Values: ["arn:aws:lambda:us-west-2:111111111111:function:"] }] },
        ],
      },
      dataValue("arn:aws:lambda:us-west-2:111111111111:function:"),
    ],
    [
      "DynamoDB ARN of a stream",
      {
        EventSelectors: [
          {
            DataResources: [
              { Type: DYNAMO, Values: ["arn:aws:dynamodb:us-east-2:111122223333:stream/Orders"] },
            ],
          },
        ],
      },
      dataValue("arn:aws:dynamodb:us-east-2:111122223333:stream/Orders"),
    ],
    [
      "251 data values over two selectors",
      {
        EventSelectors: [
          { DataResources: [{ Type: S3, Values: many(200, (i) => `arn:aws:s3:::bucket-${i}/`) }] },
          {
            DataResources: [
              { Type: LAMBDA, Values: ["arn:aws:lambda"] },
              { Type: S3, Values: many(50, () => "arn:aws:s3") },
            ],
          },
        ],
      },
      "The total number of data resource values in all event selectors must not exceed 250; 251 were specified.",
    ],
    [
      "ExcludeManagementEventSources s3",
      { EventSelectors: [{ ExcludeManagementEventSources: ["s3.amazonaws.com"] }] },
      "Value s3.amazonaws.com for ExcludeManagementEventSources is invalid. Valid values are: kms.amazonaws.com, rdsdata.amazonaws.com",
    ],
    [
      "no management events and no data resources",
      { EventSelectors: [{ IncludeManagementEvents: false }] },
      "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty.",
    ],
    // advanced
    ["advanced: not a list", { AdvancedEventSelectors: raw("x") }, "AdvancedEventSelectors must be a list."],
    [
      "advanced: element not an object",
      { AdvancedEventSelectors: raw([7]) },
      "Each element of AdvancedEventSelectors must be an advanced event selector object.",
    ],
    [
      "advanced: Name of 1001 characters",
      { AdvancedEventSelectors: [{ Name: "n".repeat(1001), FieldSelectors: [MGMT] }] },
      "The Name of an advanced event selector must not be longer than 1000 characters.",
    ],
    [
      "advanced: no field selectors",
      { AdvancedEventSelectors: [{ FieldSelectors: [] }] },
      "Each advanced event selector must contain at least one field selector.",
    ],
    [
      "advanced: FieldSelectors missing",
      { AdvancedEventSelectors: raw([{ Name: "x" }]) },
      "Each advanced event selector must contain at least one field selector.",
    ],
    [
      "advanced: missing eventCategory",
      adv({ Field: "readOnly", Equals: ["true"] }),
      "Each advanced event selector must contain an eventCategory field selector.",
    ],
    [
      "advanced: eventCategory twice",
      adv(MGMT, MGMT),
      "Field eventCategory can be used only once in an advanced event selector.",
    ],
    [
      "advanced: eventCategory with NotEquals",
      adv({ Field: "eventCategory", NotEquals: ["Data"] }),
      "Field eventCategory supports only the Equals operator.",
    ],
    [
      "advanced: eventCategory with two values",
      adv({ Field: "eventCategory", Equals: ["Management", "Data"] }),
      "Field eventCategory requires exactly one value for Equals.",
    ],
    [
      "advanced: eventCategory Insight (event data stores only)",
      adv({ Field: "eventCategory", Equals: ["Insight"] }),
      "Value Insight for eventCategory is invalid. Valid values for trails are: Management, Data, NetworkActivity",
    ],
    [
      "advanced: eventCategory in lower case",
      adv({ Field: "eventCategory", Equals: ["management"] }),
      "Value management for eventCategory is invalid. Valid values for trails are: Management, Data, NetworkActivity",
    ],
    [
      "advanced: unknown field",
      adv(MGMT, { Field: "eventTime", Equals: ["x"] }),
      "Field eventTime is not supported in advanced event selectors for trails.",
    ],
    [
      "advanced: field names are case-sensitive",
      adv(MGMT, { Field: "ReadOnly", Equals: ["true"] }),
      "Field ReadOnly is not supported in advanced event selectors for trails.",
    ],
    [
      "advanced: the model's field pattern admits |, the field list does not",
      adv(MGMT, { Field: "event|Name", Equals: ["x"] }),
      "Field event|Name is not supported in advanced event selectors for trails.",
    ],
    [
      "advanced: field with a space",
      adv(MGMT, { Field: "event Name", Equals: ["x"] }),
      "Value event Name for FieldSelectors.Field is invalid.",
    ],
    [
      "advanced: empty field",
      adv(MGMT, { Field: "", Equals: ["x"] }),
      "Value  for FieldSelectors.Field is invalid.",
    ],
    [
      "advanced: field missing",
      adv(MGMT, { Equals: ["x"] }),
      "Value null for FieldSelectors.Field is invalid.",
    ],
    [
      "advanced: field of 1001 characters",
      adv(MGMT, { Field: "f".repeat(1001), Equals: ["x"] }),
      `Value ${"f".repeat(1001)} for FieldSelectors.Field is invalid.`,
    ],
    [
      "advanced: field without an operator",
      adv(DATA, S3_TYPE, { Field: "eventName" }),
      "The field selector for eventName must specify at least one of Equals, StartsWith, EndsWith, NotEquals, NotStartsWith, NotEndsWith.",
    ],
    [
      "advanced: empty operator list",
      adv(DATA, S3_TYPE, { Field: "eventName", Equals: [] }),
      "Equals for field eventName must contain at least one value.",
    ],
    [
      "advanced: empty value",
      adv(DATA, S3_TYPE, { Field: "eventName", StartsWith: [""] }),
      "Each value of StartsWith for field eventName must be between 1 and 2048 characters long.",
    ],
    [
      "advanced: value of 2049 characters",
      adv(DATA, S3_TYPE, { Field: "eventName", NotEndsWith: ["v".repeat(2049)] }),
      "Each value of NotEndsWith for field eventName must be between 1 and 2048 characters long.",
    ],
    [
      "advanced: eventName on management events (event data stores only)",
      adv(MGMT, { Field: "eventName", Equals: ["CreateTrail"] }),
      "Field eventName is not supported for Management events on a trail.",
    ],
    [
      "advanced: readOnly on network activity events",
      adv(
        NETWORK,
        { Field: "eventSource", Equals: ["s3.amazonaws.com"] },
        { Field: "readOnly", Equals: ["true"] },
      ),
      "Field readOnly is not supported for NetworkActivity events on a trail.",
    ],
    [
      "advanced: readOnly yes",
      adv(MGMT, { Field: "readOnly", Equals: ["yes"] }),
      "Value yes for readOnly is invalid. Valid values are: true, false",
    ],
    [
      "advanced: readOnly with NotEquals",
      adv(MGMT, { Field: "readOnly", NotEquals: ["true"] }),
      "Field readOnly supports only the Equals operator.",
    ],
    [
      "advanced: data without resources.type",
      adv(DATA, { Field: "eventName", Equals: ["PutObject"] }),
      "Advanced event selectors for Data events must contain a resources.type field selector.",
    ],
    [
      "advanced: resources.type with StartsWith",
      adv(DATA, { Field: "resources.type", StartsWith: ["AWS::S3"] }),
      "Field resources.type supports only the Equals operator.",
    ],
    [
      "advanced: resources.type with two values",
      adv(DATA, { Field: "resources.type", Equals: [S3, LAMBDA] }),
      "Field resources.type requires exactly one value for Equals.",
    ],
    [
      "advanced: resources.type twice",
      adv(DATA, S3_TYPE, { Field: "resources.type", Equals: [LAMBDA] }),
      "Field resources.type can be used only once in an advanced event selector.",
    ],
    [
      "advanced: resources.type not a type name",
      adv(DATA, { Field: "resources.type", Equals: ["S3Object"] }),
      "Value S3Object for resources.type is invalid.",
    ],
    [
      "advanced: resources.ARN Equals a bucket ARN for S3 objects",
      adv(DATA, S3_TYPE, { Field: "resources.ARN", Equals: ["arn:aws:s3:::bucket-1"] }),
      "Value arn:aws:s3:::bucket-1 for resources.ARN is invalid.",
    ],
    [
      "advanced: resources.ARN NotEquals a partial Lambda ARN",
      adv(
        DATA,
        { Field: "resources.type", Equals: [LAMBDA] },
        { Field: "resources.ARN", NotEquals: ["arn:aws:lambda"] },
      ),
      "Value arn:aws:lambda for resources.ARN is invalid.",
    ],
    [
      "advanced: resources.ARN Equals something that is no ARN",
      adv(
        DATA,
        { Field: "resources.type", Equals: ["AWS::SNS::Topic"] },
        { Field: "resources.ARN", Equals: ["my-topic"] },
      ),
      "Value my-topic for resources.ARN is invalid.",
    ],
    [
      "advanced: management eventSource with Equals",
      adv(MGMT, { Field: "eventSource", Equals: ["kms.amazonaws.com"] }),
      "For Management events, eventSource supports only NotEquals with kms.amazonaws.com or rdsdata.amazonaws.com.",
    ],
    [
      "advanced: management eventSource NotEquals s3",
      adv(MGMT, { Field: "eventSource", NotEquals: ["s3.amazonaws.com"] }),
      "For Management events, eventSource supports only NotEquals with kms.amazonaws.com or rdsdata.amazonaws.com.",
    ],
    [
      "advanced: network activity without eventSource",
      adv(NETWORK, { Field: "eventName", Equals: ["Decrypt"] }),
      "Advanced event selectors for NetworkActivity events must contain an eventSource field selector.",
    ],
    [
      "advanced: network errorCode other than VpceAccessDenied",
      adv(
        NETWORK,
        { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
        { Field: "errorCode", Equals: ["AccessDenied"] },
      ),
      "Value AccessDenied for errorCode is invalid. Valid values are: VpceAccessDenied",
    ],
    [
      "advanced: 501 values",
      adv(DATA, S3_TYPE, { Field: "eventName", Equals: many(499, (i) => `Op${i}`) }),
      "The total number of values for all conditions in all advanced event selectors must not exceed 500; 501 were specified.",
    ],
    [
      "advanced: 251 resources.ARN values",
      adv(DATA, S3_TYPE, {
        Field: "resources.ARN",
        StartsWith: many(251, (i) => `arn:aws:s3:::bucket-${i}/`),
      }),
      "The total number of resources.ARN values in all advanced event selectors must not exceed 250; 251 were specified.",
    ],
  ];

  it.each(cases)("%s", (_name, input, message) => {
    expect(failure(() => validateEventSelectors(input))).toEqual({
      code: "InvalidEventSelectorsException",
      message,
    });
  });
});

describe("validateEventSelectors: accepted input", () => {
  it("fills every default of a basic selector", () => {
    expect(validateEventSelectors({ EventSelectors: [{}] })).toEqual(DEFAULT_EVENT_SELECTORS);
  });

  const basicCases: [string, EventSelector[], EventSelector[]][] = [
    [
      "the values that mean every resource of a type",
      [
        {
          ReadWriteType: "ReadOnly",
          DataResources: [
            { Type: S3, Values: ["arn:aws:s3", "arn:aws:s3:::", "arn:aws-cn:s3"] },
            { Type: LAMBDA, Values: ["arn:aws:lambda"] },
            { Type: DYNAMO, Values: ["arn:aws-us-gov:dynamodb"] },
          ],
        },
      ],
      [
        {
          ReadWriteType: "ReadOnly",
          IncludeManagementEvents: true,
          DataResources: [
            { Type: S3, Values: ["arn:aws:s3", "arn:aws:s3:::", "arn:aws-cn:s3"] },
            { Type: LAMBDA, Values: ["arn:aws:lambda"] },
            { Type: DYNAMO, Values: ["arn:aws-us-gov:dynamodb"] },
          ],
          ExcludeManagementEventSources: [],
        },
      ],
    ],
    [
      "named resources; a data resource without Values selects nothing and is kept",
      [
        {
          IncludeManagementEvents: false,
          ExcludeManagementEventSources: ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
          DataResources: [
            {
              Type: S3,
              Values: ["arn:aws:s3:::bucket-1/", "arn:aws:s3:::bucket-3/my-images", "arn:aws:s3:::a.b-c/*"],
            },
            {
              Type: LAMBDA,
              Values: [
                "arn:aws:lambda:us-west-2:111111111111:function:helloworld",
                "arn:aws:lambda:us-west-2:111111111111:function:helloworld:PROD",
              ],
            },
            { Type: DYNAMO, Values: ["arn:aws:dynamodb:us-east-2:111122223333:table/Orders"] },
            { Type: S3 },
          ],
        },
      ],
      [
        {
          ReadWriteType: "All",
          IncludeManagementEvents: false,
          DataResources: [
            {
              Type: S3,
              Values: ["arn:aws:s3:::bucket-1/", "arn:aws:s3:::bucket-3/my-images", "arn:aws:s3:::a.b-c/*"],
            },
            {
              Type: LAMBDA,
              Values: [
                "arn:aws:lambda:us-west-2:111111111111:function:helloworld",
                "arn:aws:lambda:us-west-2:111111111111:function:helloworld:PROD",
              ],
            },
            { Type: DYNAMO, Values: ["arn:aws:dynamodb:us-east-2:111122223333:table/Orders"] },
            { Type: S3, Values: [] },
          ],
          ExcludeManagementEventSources: ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
        },
      ],
    ],
  ];

  it.each(basicCases)("basic: %s", (_name, given, expected) => {
    expect(validateEventSelectors({ EventSelectors: given })).toEqual({ mode: "basic", selectors: expected });
  });

  it("basic: five selectors holding 250 values in total", () => {
    const selectors = many(5, (i) => `${i}`).map((i) => ({
      DataResources: [{ Type: S3, Values: many(50, (j) => `arn:aws:s3:::bucket-${i}/${j}`) }],
    }));
    const config = validateEventSelectors({ EventSelectors: selectors });
    expect(config.selectors).toHaveLength(5);
  });

  it("advanced: [] is accepted and logs nothing", () => {
    expect(validateEventSelectors({ AdvancedEventSelectors: [] })).toEqual({
      mode: "advanced",
      selectors: [],
    });
  });

  it("advanced: the documented example comes back as given", () => {
    const selectors: AdvancedEventSelector[] = [
      { Name: "Log readOnly and writeOnly management events", FieldSelectors: [MGMT] },
      {
        Name: "Log PutObject and DeleteObject events for two S3 prefixes",
        FieldSelectors: [
          DATA,
          S3_TYPE,
          { Field: "eventName", Equals: ["PutObject", "DeleteObject"] },
          {
            Field: "resources.ARN",
            StartsWith: ["arn:aws:s3:::mybucket/prefix", "arn:aws:s3:::mybucket2/prefix2"],
          },
        ],
      },
    ];
    expect(validateEventSelectors({ AdvancedEventSelectors: selectors })).toEqual({
      mode: "advanced",
      selectors,
    });
  });

  it("advanced: undefined members are dropped, an empty Name is kept", () => {
    const given = raw<AdvancedEventSelector[]>([
      {
        Name: undefined,
        FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"], StartsWith: undefined }],
      },
      { Name: "", FieldSelectors: [MGMT, { Field: "readOnly", Equals: ["false"] }] },
    ]);
    expect(validateEventSelectors({ AdvancedEventSelectors: given })).toEqual<SelectorConfig>({
      mode: "advanced",
      selectors: [
        { FieldSelectors: [MGMT] },
        { Name: "", FieldSelectors: [MGMT, { Field: "readOnly", Equals: ["false"] }] },
      ],
    });
  });

  const advancedCases: [string, object[]][] = [
    [
      "management without KMS and RDS Data API events",
      [MGMT, { Field: "eventSource", NotEquals: ["kms.amazonaws.com", "rdsdata.amazonaws.com"] }],
    ],
    [
      "every data field",
      [
        DATA,
        S3_TYPE,
        { Field: "eventName", NotEquals: ["GetObject"] },
        { Field: "eventSource", Equals: ["s3.amazonaws.com"] },
        { Field: "eventType", Equals: ["AwsApiCall"] },
        { Field: "readOnly", Equals: ["false"] },
        {
          Field: "resources.ARN",
          Equals: ["arn:aws:s3:::bucket-1/photo.jpg"],
          NotStartsWith: ["arn:aws:s3:::bucket-1/tmp/"],
        },
        { Field: "sessionCredentialFromConsole", Equals: ["true"] },
        { Field: "userIdentity.arn", EndsWith: ["HumanRole"] },
      ],
    ],
    [
      "a data type only advanced selectors can name",
      [DATA, { Field: "resources.type", Equals: ["AWS::S3Outposts::Object"] }],
    ],
    [
      "exact Lambda and DynamoDB ARNs",
      [
        DATA,
        { Field: "resources.type", Equals: [LAMBDA] },
        { Field: "resources.ARN", Equals: ["arn:aws:lambda:us-west-2:111111111111:function:helloworld"] },
      ],
    ],
    [
      "an SNS topic ARN",
      [
        DATA,
        { Field: "resources.type", Equals: ["AWS::SNS::Topic"] },
        { Field: "resources.ARN", Equals: ["arn:aws:sns:us-east-2:111122223333:alerts"] },
      ],
    ],
    [
      "network activity fields",
      [
        NETWORK,
        { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
        { Field: "eventName", Equals: ["Decrypt"] },
        { Field: "errorCode", Equals: ["VpceAccessDenied"] },
        { Field: "vpcEndpointId", NotEquals: ["vpce-0123456789abcdef0"] },
        { Field: "userIdentity.arn", StartsWith: ["arn:aws:sts::"] },
      ],
    ],
    ["exactly 500 values", [DATA, S3_TYPE, { Field: "eventName", Equals: many(498, (i) => `Op${i}`) }]],
    ["a value of 2048 characters", [DATA, S3_TYPE, { Field: "eventName", Equals: ["v".repeat(2048)] }]],
  ];

  it.each(advancedCases)("advanced: %s", (_name, fields) => {
    const selectors = raw<AdvancedEventSelector[]>([{ Name: "n".repeat(1000), FieldSelectors: fields }]);
    expect(validateEventSelectors({ AdvancedEventSelectors: selectors })).toEqual({
      mode: "advanced",
      selectors,
    });
  });
});

describe("validateInsightSelectors", () => {
  const basic = (...selectors: EventSelector[]): SelectorConfig =>
    validateEventSelectors({ EventSelectors: selectors });
  const advanced = (...selectors: object[][]): SelectorConfig =>
    validateEventSelectors({
      AdvancedEventSelectors: raw(selectors.map((FieldSelectors) => ({ FieldSelectors }))),
    });
  const S3_DATA = { Type: S3, Values: ["arn:aws:s3:::bucket-1/"] };
  const readOnlyManagement = basic({ ReadWriteType: "ReadOnly" });
  const dataOnly = basic({ IncludeManagementEvents: false, DataResources: [S3_DATA] });
  const write = "To log ApiCallRateInsight on management events, the trail must log write management events.";

  const failures: [string, InsightSelector[] | undefined, SelectorConfig, string][] = [
    ["InsightSelectors missing", undefined, DEFAULT_EVENT_SELECTORS, "InsightSelectors must be specified."],
    [
      "element not an object",
      raw([null]),
      DEFAULT_EVENT_SELECTORS,
      "Each element of InsightSelectors must be an insight selector object.",
    ],
    [
      "unknown InsightType",
      raw([{ InsightType: "ApiRateInsight" }]),
      DEFAULT_EVENT_SELECTORS,
      "Value ApiRateInsight for InsightType is invalid. Valid values are: ApiCallRateInsight, ApiErrorRateInsight",
    ],
    [
      "InsightType missing",
      [{}],
      DEFAULT_EVENT_SELECTORS,
      "Value null for InsightType is invalid. Valid values are: ApiCallRateInsight, ApiErrorRateInsight",
    ],
    [
      "duplicate InsightType",
      [
        { InsightType: "ApiCallRateInsight" },
        { InsightType: "ApiErrorRateInsight" },
        { InsightType: "ApiCallRateInsight" },
      ],
      DEFAULT_EVENT_SELECTORS,
      "InsightType ApiCallRateInsight is specified more than once.",
    ],
    [
      "unknown event category",
      raw([{ InsightType: "ApiCallRateInsight", EventCategories: ["Management", "NetworkActivity"] }]),
      DEFAULT_EVENT_SELECTORS,
      "Value NetworkActivity for EventCategories is invalid. Valid values are: Management, Data",
    ],
    [
      "empty event categories",
      [{ InsightType: "ApiCallRateInsight", EventCategories: [] }],
      DEFAULT_EVENT_SELECTORS,
      "EventCategories must contain at least one of: Management, Data",
    ],
    ["call rate on a read-only trail", [{ InsightType: "ApiCallRateInsight" }], readOnlyManagement, write],
    [
      "call rate on an advanced read-only trail",
      [{ InsightType: "ApiCallRateInsight" }],
      advanced([MGMT, { Field: "readOnly", Equals: ["true"] }]),
      write,
    ],
    ["call rate on a trail that logs nothing", [{ InsightType: "ApiCallRateInsight" }], advanced(), write],
    [
      "error rate without management events",
      [{ InsightType: "ApiErrorRateInsight" }],
      dataOnly,
      "To log ApiErrorRateInsight on management events, the trail must log read or write management events.",
    ],
    [
      "data insights without data events",
      [{ InsightType: "ApiErrorRateInsight", EventCategories: ["Data"] }],
      DEFAULT_EVENT_SELECTORS,
      "To log ApiErrorRateInsight on data events, the trail must log read or write data events.",
    ],
    [
      "data insights when the data resources name nothing",
      [{ InsightType: "ApiCallRateInsight", EventCategories: ["Data"] }],
      basic({ DataResources: [{ Type: S3, Values: [] }] }),
      "To log ApiCallRateInsight on data events, the trail must log read or write data events.",
    ],
  ];

  it.each(failures)("%s", (_name, list, events, message) => {
    expect(failure(() => validateInsightSelectors(list, events))).toEqual({
      code: "InvalidInsightSelectorsException",
      message,
    });
  });

  const accepted: [string, InsightSelector[], SelectorConfig][] = [
    ["[] turns Insights off, whatever the trail logs", [], advanced()],
    [
      "both types on the default trail",
      [{ InsightType: "ApiCallRateInsight" }, { InsightType: "ApiErrorRateInsight" }],
      DEFAULT_EVENT_SELECTORS,
    ],
    [
      "call rate on a write-only trail",
      [{ InsightType: "ApiCallRateInsight" }],
      basic({ ReadWriteType: "WriteOnly" }),
    ],
    ["error rate on a read-only trail", [{ InsightType: "ApiErrorRateInsight" }], readOnlyManagement],
    [
      "call rate when one of several selectors logs writes",
      [{ InsightType: "ApiCallRateInsight" }],
      advanced(
        [MGMT, { Field: "readOnly", Equals: ["true"] }],
        [MGMT, { Field: "readOnly", Equals: ["false"] }],
      ),
    ],
    [
      "data insights on a data-only trail",
      [
        { InsightType: "ApiCallRateInsight", EventCategories: ["Data"] },
        { InsightType: "ApiErrorRateInsight", EventCategories: ["Data"] },
      ],
      dataOnly,
    ],
    [
      "data and management insights on an advanced trail",
      [{ InsightType: "ApiCallRateInsight", EventCategories: ["Management", "Data"] }],
      advanced([MGMT], [DATA, S3_TYPE]),
    ],
  ];

  it.each(accepted)("accepts %s, returning the selectors as given", (_name, list, events) => {
    expect(validateInsightSelectors(list, events)).toEqual(list);
  });

  it("drops undefined members", () => {
    const given = raw<InsightSelector[]>([
      { InsightType: "ApiErrorRateInsight", EventCategories: undefined },
    ]);
    expect(validateInsightSelectors(given, DEFAULT_EVENT_SELECTORS)).toStrictEqual([
      { InsightType: "ApiErrorRateInsight" },
    ]);
  });
});
