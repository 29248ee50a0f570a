import type { AdvancedEventSelector, EventSelector } from "@aws-sdk/client-cloudtrail";
import { describe, expect, it } from "vitest";
import {
  compileSelectors,
  recordCategory,
  type SelectorRecord,
  trailCoversRecord,
  validateEventSelectors,
} from "../../src/domain/selectors.ts";
import { DEFAULT_EVENT_SELECTORS, type SelectorConfig } from "../../src/domain/trail.ts";
import {
  CORPUS_URL,
  dynamoItem,
  insight,
  lambdaInvoke,
  loadCorpus,
  management,
  networkActivity,
  SAMPLE_RECORDS,
  s3Object,
} from "./selectors-fixtures.ts";

const S3 = "AWS::S3::Object";
const LAMBDA = "AWS::Lambda::Function";
const DYNAMO = "AWS::DynamoDB::Table";
const MGMT = { Field: "eventCategory", Equals: ["Management"] };
const DATA = { Field: "eventCategory", Equals: ["Data"] };
const FN = "arn:aws:lambda:us-west-2:111111111111:function:";

const basic = (...selectors: EventSelector[]) =>
  compileSelectors(validateEventSelectors({ EventSelectors: selectors }));
const advanced = (...selectors: object[][]) =>
  compileSelectors(
    validateEventSelectors({
      AdvancedEventSelectors: selectors.map(
        (FieldSelectors) => ({ FieldSelectors }) as AdvancedEventSelector,
      ),
    }),
  );

describe("the worked examples of the AWS documentation", () => {
  // "Logging data events for all S3 objects in an S3 bucket": bucket-1, empty prefix, Read and Write.
  const bucket1Basic = basic({
    IncludeManagementEvents: false,
    DataResources: [{ Type: S3, Values: ["arn:aws:s3:::bucket-1/"] }],
  });
  const bucket1Advanced = advanced([
    DATA,
    { Field: "resources.type", Equals: [S3] },
    { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::bucket-1/"] },
  ]);

  it.each([
    ["basic", bucket1Basic],
    ["advanced", bucket1Advanced],
  ])("%s: PutObject in bucket-1 is logged, in bucket-2 it is not", (_kind, matches) => {
    expect(matches(s3Object("PutObject", "bucket-1", "photo.jpg", false))).toBe(true);
    expect(matches(s3Object("PutObject", "bucket-2", "photo.jpg", false))).toBe(false);
    // The trailing slash keeps bucket-10 out of bucket-1's selection.
    expect(matches(s3Object("PutObject", "bucket-10", "photo.jpg", false))).toBe(false);
  });

  // "Logging data events for specific S3 objects": bucket-3, prefix my-images, Write only.
  it("bucket-3/my-images, write only: DeleteObject there is logged; other prefixes and reads are not", () => {
    const matches = basic({
      ReadWriteType: "WriteOnly",
      IncludeManagementEvents: false,
      DataResources: [{ Type: S3, Values: ["arn:aws:s3:::bucket-3/my-images"] }],
    });
    expect(matches(s3Object("DeleteObject", "bucket-3", "my-images/example.jpg", false))).toBe(true);
    expect(matches(s3Object("DeleteObject", "bucket-3", "my-videos/example.avi", false))).toBe(false);
    expect(matches(s3Object("GetObject", "bucket-3", "my-images/example.jpg", true))).toBe(false);
  });

  // DataResource: a Lambda function named MyLambdaFunction, but not all Lambda functions.
  const lambdaBasic = basic({ DataResources: [{ Type: LAMBDA, Values: [`${FN}MyLambdaFunction`] }] });
  const lambdaAdvanced = advanced([
    DATA,
    { Field: "resources.type", Equals: [LAMBDA] },
    { Field: "resources.ARN", Equals: [`${FN}MyLambdaFunction`] },
  ]);

  it.each([
    ["basic", lambdaBasic],
    ["advanced", lambdaAdvanced],
  ])("%s: Invoke of MyLambdaFunction is logged, of MyOtherLambdaFunction it is not", (_kind, matches) => {
    expect(matches(lambdaInvoke(`${FN}MyLambdaFunction`))).toBe(true);
    expect(matches(lambdaInvoke(`${FN}MyOtherLambdaFunction`))).toBe(false);
  });

  it("Lambda function ARNs are exact: helloworld does not select helloworld2", () => {
    const matches = basic({ DataResources: [{ Type: LAMBDA, Values: [`${FN}helloworld`] }] });
    expect(matches(lambdaInvoke(`${FN}helloworld`))).toBe(true);
    expect(matches(lambdaInvoke(`${FN}helloworld2`))).toBe(false);
  });

  // "Logging read and write events for separate trails".
  it("a read-only trail takes DescribeInstances, a write-only trail takes TerminateInstances", () => {
    const reads = basic({ ReadWriteType: "ReadOnly" });
    const writes = basic({ ReadWriteType: "WriteOnly" });
    const describe = management("ec2.amazonaws.com", "DescribeInstances", true);
    const terminate = management("ec2.amazonaws.com", "TerminateInstances", false);
    expect([reads(describe), reads(terminate)]).toEqual([true, false]);
    expect([writes(describe), writes(terminate)]).toEqual([false, true]);
  });
});

describe("basic matching", () => {
  it("the default selector takes management events and nothing else", () => {
    const matches = compileSelectors(DEFAULT_EVENT_SELECTORS);
    expect(matches(management("ec2.amazonaws.com", "RunInstances", false))).toBe(true);
    expect(matches(s3Object("GetObject", "bucket-1", "k", true))).toBe(false);
    expect(matches(networkActivity("kms.amazonaws.com", "Decrypt"))).toBe(false);
    expect(matches(insight())).toBe(false);
  });

  it("a record that does not say readOnly is taken only by All", () => {
    const login = management("signin.amazonaws.com", "ConsoleLogin", undefined);
    expect(basic({})(login)).toBe(true);
    expect(basic({ ReadWriteType: "ReadOnly" })(login)).toBe(false);
    expect(basic({ ReadWriteType: "WriteOnly" })(login)).toBe(false);
  });

  it("ExcludeManagementEventSources leaves out exactly those sources", () => {
    const matches = basic({ ExcludeManagementEventSources: ["kms.amazonaws.com"] });
    expect(matches(management("kms.amazonaws.com", "Decrypt", true))).toBe(false);
    expect(matches(management("rdsdata.amazonaws.com", "ExecuteStatement", false))).toBe(true);
  });

  it("the every-resource values select every resource of their type, and only of their type", () => {
    const matches = basic({
      IncludeManagementEvents: false,
      DataResources: [
        { Type: S3, Values: ["arn:aws:s3"] },
        { Type: DYNAMO, Values: ["arn:aws:dynamodb"] },
      ],
    });
    expect(matches(s3Object("PutObject", "any-bucket", "k", false))).toBe(true);
    expect(matches(dynamoItem("PutItem", "arn:aws:dynamodb:us-east-2:111122223333:table/T1", false))).toBe(
      true,
    );
    expect(matches(lambdaInvoke(`${FN}f`))).toBe(false);
    expect(matches(management("ec2.amazonaws.com", "RunInstances", false))).toBe(false);
  });

  it("arn:aws:s3::: selects objects in every bucket", () => {
    const matches = basic({
      IncludeManagementEvents: false,
      DataResources: [{ Type: S3, Values: ["arn:aws:s3:::"] }],
    });
    expect(matches(s3Object("GetObject", "bucket-2", "k", true))).toBe(true);
  });

  it("records older than eventCategory count as management events unless marked otherwise", () => {
    const matches = basic({});
    expect(matches({ eventVersion: "1.0", eventSource: "iam.amazonaws.com", eventName: "CreateUser" })).toBe(
      true,
    );
    const oldData = { ...s3Object("GetObject", "bucket-1", "k", true), eventCategory: undefined };
    expect(recordCategory(oldData)).toBe("Data");
    expect(matches(oldData)).toBe(false);
  });
});

describe("advanced matching", () => {
  it("NotStartsWith with two buckets leaves out both", () => {
    const matches = advanced([
      DATA,
      { Field: "resources.type", Equals: [S3] },
      { Field: "resources.ARN", NotStartsWith: ["arn:aws:s3:::bucket-1/", "arn:aws:s3:::bucket-2/"] },
    ]);
    expect(matches(s3Object("PutObject", "bucket-1", "k", false))).toBe(false);
    expect(matches(s3Object("PutObject", "bucket-2", "k", false))).toBe(false);
    expect(matches(s3Object("PutObject", "bucket-3", "k", false))).toBe(true);
  });

  it("an absent field reads as the empty string", () => {
    const login = management("signin.amazonaws.com", "ConsoleLogin", undefined);
    const userArn = { Field: "userIdentity.arn", NotEquals: ["arn:aws:iam::111122223333:user/anaya"] };
    const network = [
      { Field: "eventCategory", Equals: ["NetworkActivity"] },
      { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
    ];
    const withoutError = networkActivity("kms.amazonaws.com", "Decrypt");
    expect(
      advanced([...network, { Field: "errorCode", NotEquals: ["VpceAccessDenied"] }])(withoutError),
    ).toBe(true);
    expect(advanced([...network, { Field: "errorCode", Equals: ["VpceAccessDenied"] }])(withoutError)).toBe(
      false,
    );
    expect(advanced([MGMT, { Field: "readOnly", Equals: ["true"] }])(login)).toBe(false);
    expect(advanced([MGMT, { Field: "readOnly", Equals: ["false"] }])(login)).toBe(false);
    expect(advanced([...network, userArn])({ ...withoutError, userIdentity: undefined })).toBe(true);
  });

  it("comparisons are case-sensitive and * is a literal character", () => {
    const matches = advanced([
      DATA,
      { Field: "resources.type", Equals: [S3] },
      { Field: "eventName", Equals: ["putobject", "Put*"] },
    ]);
    expect(matches(s3Object("PutObject", "bucket-1", "k", false))).toBe(false);
    expect(matches(s3Object("Put*", "bucket-1", "k", false))).toBe(true);
  });

  it("positive operators are OR-ed, field conditions AND-ed", () => {
    const matches = advanced([
      DATA,
      { Field: "resources.type", Equals: [S3] },
      { Field: "eventName", StartsWith: ["Delete"], EndsWith: ["Object"], NotEquals: ["GetObject"] },
      { Field: "readOnly", Equals: ["false"] },
    ]);
    expect(matches(s3Object("PutObject", "b-1", "k", false))).toBe(true);
    expect(matches(s3Object("DeleteObjects", "b-1", "k", false))).toBe(true);
    expect(matches(s3Object("GetObject", "b-1", "k", false))).toBe(false);
    expect(matches(s3Object("PutObject", "b-1", "k", true))).toBe(false);
    expect(matches(s3Object("ListParts", "b-1", "k", false))).toBe(false);
  });

  it("resources.type and resources.ARN must hold for the same resource entry", () => {
    const matches = advanced([
      DATA,
      { Field: "resources.type", Equals: ["AWS::S3::Bucket"] },
      { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::bucket-1/"] },
    ]);
    // The object entry has the ARN, the bucket entry has the type: no single entry has both.
    expect(matches(s3Object("PutObject", "bucket-1", "k", false))).toBe(false);
  });

  it("network activity events are selected only by network activity selectors", () => {
    const denied = networkActivity("kms.amazonaws.com", "Decrypt", "VpceAccessDenied");
    const matches = advanced([
      { Field: "eventCategory", Equals: ["NetworkActivity"] },
      { Field: "eventSource", Equals: ["kms.amazonaws.com"] },
      { Field: "errorCode", Equals: ["VpceAccessDenied"] },
    ]);
    expect(matches(denied)).toBe(true);
    expect(matches(networkActivity("s3.amazonaws.com", "ListBuckets", "VpceAccessDenied"))).toBe(false);
    expect(advanced([MGMT])(denied)).toBe(false);
    expect(basic({})(denied)).toBe(false);
  });

  it("[] selects nothing; insight records are never selected", () => {
    const none = compileSelectors({ mode: "advanced", selectors: [] });
    expect(SAMPLE_RECORDS.some(none)).toBe(false);
    const everything = advanced([MGMT], [DATA, { Field: "resources.type", Equals: [S3] }]);
    expect(everything(insight())).toBe(false);
  });
});

/**
 * §4 of the selector reference: each basic configuration and its advanced translation select
 * the same records.
 */
describe("basic and advanced equivalents select the same records", () => {
  const s3Data = { Type: S3, Values: ["arn:aws:s3:::bucket-1/"] };
  const s3Advanced = [
    DATA,
    { Field: "resources.type", Equals: [S3] },
    { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::bucket-1/"] },
  ];
  const pairs: [string, EventSelector[], object[][]][] = [
    [
      "ReadWriteType ReadOnly",
      [{ ReadWriteType: "ReadOnly" }],
      [[MGMT, { Field: "readOnly", Equals: ["true"] }]],
    ],
    [
      "ReadWriteType WriteOnly",
      [{ ReadWriteType: "WriteOnly" }],
      [[MGMT, { Field: "readOnly", Equals: ["false"] }]],
    ],
    ["IncludeManagementEvents true", [{}], [[MGMT]]],
    [
      "ExcludeManagementEventSources kms",
      [{ ExcludeManagementEventSources: ["kms.amazonaws.com"] }],
      [[MGMT, { Field: "eventSource", NotEquals: ["kms.amazonaws.com"] }]],
    ],
    [
      "ExcludeManagementEventSources kms and rdsdata, write only",
      [
        {
          ReadWriteType: "WriteOnly",
          ExcludeManagementEventSources: ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
        },
      ],
      [
        [
          MGMT,
          { Field: "readOnly", Equals: ["false"] },
          { Field: "eventSource", NotEquals: ["kms.amazonaws.com", "rdsdata.amazonaws.com"] },
        ],
      ],
    ],
    ["S3 objects of one bucket", [{ IncludeManagementEvents: false, DataResources: [s3Data] }], [s3Advanced]],
    ["management events and S3 objects of one bucket", [{ DataResources: [s3Data] }], [[MGMT], s3Advanced]],
    [
      "read-only S3 data and management",
      [{ ReadWriteType: "ReadOnly", DataResources: [s3Data] }],
      [
        [MGMT, { Field: "readOnly", Equals: ["true"] }],
        [...s3Advanced, { Field: "readOnly", Equals: ["true"] }],
      ],
    ],
    [
      "all S3 objects and all Lambda functions",
      [
        {
          IncludeManagementEvents: false,
          DataResources: [
            { Type: S3, Values: ["arn:aws:s3"] },
            { Type: LAMBDA, Values: ["arn:aws:lambda"] },
          ],
        },
      ],
      [
        [DATA, { Field: "resources.type", Equals: [S3] }],
        [DATA, { Field: "resources.type", Equals: [LAMBDA] }],
      ],
    ],
    [
      "one Lambda function and one DynamoDB table, write only",
      [
        {
          ReadWriteType: "WriteOnly",
          IncludeManagementEvents: false,
          DataResources: [
            { Type: LAMBDA, Values: [`${FN}MyLambdaFunction`] },
            { Type: DYNAMO, Values: ["arn:aws:dynamodb:us-east-2:111122223333:table/Orders"] },
          ],
        },
      ],
      [
        [
          DATA,
          { Field: "resources.type", Equals: [LAMBDA] },
          { Field: "resources.ARN", Equals: [`${FN}MyLambdaFunction`] },
          { Field: "readOnly", Equals: ["false"] },
        ],
        [
          DATA,
          { Field: "resources.type", Equals: [DYNAMO] },
          { Field: "resources.ARN", Equals: ["arn:aws:dynamodb:us-east-2:111122223333:table/Orders"] },
          { Field: "readOnly", Equals: ["false"] },
        ],
      ],
    ],
  ];
  const records = [...SAMPLE_RECORDS, ...(loadCorpus() ?? [])];

  it.each(pairs)("%s", (_name, basicSelectors, advancedSelectors) => {
    const fromBasic = basic(...basicSelectors);
    const fromAdvanced = advanced(...advancedSelectors);
    const disagreements = records.filter((r) => fromBasic(r) !== fromAdvanced(r));
    expect(disagreements).toEqual([]);
    // Neither side may be trivial, or the comparison proves nothing.
    expect(records.some(fromBasic)).toBe(true);
    expect(records.every(fromBasic)).toBe(false);
  });
});

describe("trailCoversRecord", () => {
  type Trail = Parameters<typeof trailCoversRecord>[0];
  const trail = (
    homeRegion: string,
    isMultiRegionTrail: boolean,
    includeGlobalServiceEvents: boolean,
  ): Trail => ({
    homeRegion,
    isMultiRegionTrail,
    includeGlobalServiceEvents,
  });
  const inRegion = (awsRegion: string, eventSource = "ec2.amazonaws.com") =>
    management(eventSource, "SomeCall", false, { awsRegion });

  const cases: [string, Trail, SelectorRecord, boolean][] = [
    ["single-Region trail, its home region", trail("us-east-2", false, true), inRegion("us-east-2"), true],
    ["single-Region trail, another region", trail("us-east-2", false, true), inRegion("us-west-2"), false],
    ["multi-Region trail, any region", trail("us-east-2", true, true), inRegion("ap-south-1"), true],
    [
      "IAM in us-east-1, home us-east-1, global events on",
      trail("us-east-1", false, true),
      inRegion("us-east-1", "iam.amazonaws.com"),
      true,
    ],
    [
      "IAM in us-east-1, home us-east-1, global events off",
      trail("us-east-1", false, false),
      inRegion("us-east-1", "iam.amazonaws.com"),
      false,
    ],
    [
      "IAM in us-east-1, single-Region trail elsewhere",
      trail("us-east-2", false, true),
      inRegion("us-east-1", "iam.amazonaws.com"),
      false,
    ],
    [
      "IAM in us-east-1, multi-Region trail",
      trail("eu-west-1", true, true),
      inRegion("us-east-1", "iam.amazonaws.com"),
      true,
    ],
    [
      "IAM in us-east-1, multi-Region trail, global events off",
      trail("eu-west-1", true, false),
      inRegion("us-east-1", "iam.amazonaws.com"),
      false,
    ],
    [
      "STS global endpoint",
      trail("us-east-1", false, false),
      inRegion("us-east-1", "sts.amazonaws.com"),
      false,
    ],
    [
      "STS regional endpoint",
      trail("us-west-2", false, false),
      inRegion("us-west-2", "sts.amazonaws.com"),
      true,
    ],
    [
      "CloudFront",
      trail("us-east-1", false, false),
      inRegion("us-east-1", "cloudfront.amazonaws.com"),
      false,
    ],
    [
      "console sign-in",
      trail("us-east-1", false, false),
      inRegion("us-east-1", "signin.amazonaws.com"),
      false,
    ],
    [
      "a regional service in us-east-1, global events off",
      trail("us-east-1", false, false),
      inRegion("us-east-1"),
      true,
    ],
    ["a record without awsRegion, single-Region trail", trail("us-east-1", false, true), {}, false],
    ["a record without awsRegion, multi-Region trail", trail("us-east-1", true, true), {}, true],
  ];

  it.each(cases)("%s", (_name, t, record, expected) => {
    expect(trailCoversRecord(t, record)).toBe(expected);
  });
});

describe("the records of the AWS documentation", () => {
  const corpus = loadCorpus();
  const configs: [string, SelectorConfig][] = [
    ["default", DEFAULT_EVENT_SELECTORS],
    [
      "basic data",
      validateEventSelectors({
        EventSelectors: [
          {
            ReadWriteType: "ReadOnly",
            ExcludeManagementEventSources: ["kms.amazonaws.com"],
            DataResources: [
              { Type: S3, Values: ["arn:aws:s3"] },
              { Type: LAMBDA, Values: [`${FN}f`] },
            ],
          },
        ],
      }),
    ],
    [
      "advanced, every field",
      validateEventSelectors({
        AdvancedEventSelectors: [
          { FieldSelectors: [MGMT, { Field: "readOnly", Equals: ["false"] }] },
          {
            FieldSelectors: [
              DATA,
              { Field: "resources.type", Equals: [S3] },
              { Field: "resources.ARN", NotStartsWith: ["arn:aws:s3:::logs/"] },
              { Field: "userIdentity.arn", EndsWith: ["anaya"] },
              { Field: "sessionCredentialFromConsole", NotEquals: ["true"] },
              { Field: "eventType", Equals: ["AwsApiCall"] },
            ],
          },
          {
            FieldSelectors: [
              { Field: "eventCategory", Equals: ["NetworkActivity"] },
              { Field: "eventSource", StartsWith: ["kms"] },
              { Field: "vpcEndpointId", NotEquals: ["vpce-1"] },
            ],
          },
        ],
      }),
    ],
    ["advanced, none", { mode: "advanced", selectors: [] }],
  ];

  it.skipIf(corpus === undefined)(
    `every matcher and the region rule take every record without throwing (skipped when ${CORPUS_URL.pathname} is absent)`,
    () => {
      const records = corpus ?? [];
      expect(records.length).toBeGreaterThan(0);
      const trails = [
        { homeRegion: "us-east-1", isMultiRegionTrail: false, includeGlobalServiceEvents: true },
        { homeRegion: "us-east-2", isMultiRegionTrail: true, includeGlobalServiceEvents: false },
      ];
      for (const [, config] of configs) {
        const matches = compileSelectors(config);
        for (const record of records) {
          expect(() => matches(record)).not.toThrow();
          for (const t of trails) expect(() => trailCoversRecord(t, record)).not.toThrow();
        }
      }
      const byDefault = compileSelectors(DEFAULT_EVENT_SELECTORS);
      for (const record of records) {
        expect(byDefault(record)).toBe(recordCategory(record) === "Management");
      }
      expect(records.filter((r) => r.eventType === "AwsCloudTrailInsight").some(byDefault)).toBe(false);
    },
  );
});
