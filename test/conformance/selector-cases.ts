import type { AdvancedEventSelector, AdvancedFieldSelector, EventSelector } from "@aws-sdk/client-cloudtrail";

/** PutEventSelectors inputs refused with InvalidEventSelectorsException, and the message. */

const category = (value: string): AdvancedFieldSelector => ({ Field: "eventCategory", Equals: [value] });
const management = (...more: AdvancedFieldSelector[]): AdvancedEventSelector => ({
  FieldSelectors: [category("Management"), ...more],
});
const s3Data = (...more: AdvancedFieldSelector[]): AdvancedEventSelector => ({
  FieldSelectors: [category("Data"), { Field: "resources.type", Equals: ["AWS::S3::Object"] }, ...more],
});

function s3Values(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `arn:aws:s3:::bucket-${i}/`);
}

export const BAD_BASIC_SELECTORS: readonly (readonly [string, EventSelector[], string])[] = [
  ["no selector", [], "The number of event selectors must be between 1 and 5; 0 were specified."],
  [
    "six selectors",
    Array.from({ length: 6 }, () => ({ ReadWriteType: "All" })),
    "The number of event selectors must be between 1 and 5; 6 were specified.",
  ],
  [
    "an unknown ReadWriteType",
    [{ ReadWriteType: "Sometimes" as EventSelector["ReadWriteType"] }],
    "Value Sometimes for ReadWriteType is invalid. Valid values are: All, ReadOnly, WriteOnly",
  ],
  [
    "an unknown data resource type",
    [{ DataResources: [{ Type: "AWS::S3::Bucket", Values: ["arn:aws:s3:::b-1"] }] }],
    "Value AWS::S3::Bucket for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object",
  ],
  [
    "a data resource without a type",
    [{ DataResources: [{ Values: ["arn:aws:s3"] }] }],
    "Value null for DataResources.Type is invalid. Valid values are: AWS::DynamoDB::Table, AWS::Lambda::Function, AWS::S3::Object",
  ],
  [
    "an S3 value with an invalid bucket",
    [{ DataResources: [{ Type: "AWS::S3::Object", Values: ["arn:aws:s3:::Bad_Bucket/"] }] }],
    "Value arn:aws:s3:::Bad_Bucket/ for DataResources.Values is invalid.",
  ],
  [
    "a Lambda value that is no function ARN",
    [
      {
        DataResources: [{ Type: "AWS::Lambda::Function", Values: ["arn:aws:lambda:us-east-1:1:function:f"] }],
      },
    ],
    "Value arn:aws:lambda:us-east-1:1:function:f for DataResources.Values is invalid.",
  ],
  [
    "a DynamoDB value of another service",
    [{ DataResources: [{ Type: "AWS::DynamoDB::Table", Values: ["arn:aws:s3"] }] }],
    "Value arn:aws:s3 for DataResources.Values is invalid.",
  ],
  [
    "an excluded source that cannot be excluded",
    [{ ExcludeManagementEventSources: ["s3.amazonaws.com"] }],
    "Value s3.amazonaws.com for ExcludeManagementEventSources is invalid. Valid values are: kms.amazonaws.com, rdsdata.amazonaws.com",
  ],
  [
    "a selector that selects nothing",
    [{ IncludeManagementEvents: false }],
    "Invalid combination of parameters in EventSelectors. When includeManagementEvents is false, DataResources must not be empty.",
  ],
  [
    "251 data resource values",
    [
      { DataResources: [{ Type: "AWS::S3::Object", Values: s3Values(200) }] },
      { DataResources: [{ Type: "AWS::S3::Object", Values: s3Values(51) }] },
    ],
    "The total number of data resource values in all event selectors must not exceed 250; 251 were specified.",
  ],
];

export const BAD_ADVANCED_SELECTORS: readonly (readonly [string, AdvancedEventSelector[], string])[] = [
  [
    "a selector without field selectors",
    [{ Name: "empty", FieldSelectors: [] }],
    "Each advanced event selector must contain at least one field selector.",
  ],
  [
    "a Name over 1000 characters",
    [{ Name: "n".repeat(1001), ...management() }],
    "The Name of an advanced event selector must not be longer than 1000 characters.",
  ],
  [
    "a malformed field name",
    [management({ Field: "bad field", Equals: ["x"] })],
    "Value bad field for FieldSelectors.Field is invalid.",
  ],
  [
    "an unknown field",
    [management({ Field: "userName", Equals: ["x"] })],
    "Field userName is not supported in advanced event selectors for trails.",
  ],
  [
    "a field selector without an operator",
    [{ FieldSelectors: [{ Field: "eventCategory" }] }],
    "The field selector for eventCategory must specify at least one of Equals, StartsWith, EndsWith, NotEquals, NotStartsWith, NotEndsWith.",
  ],
  [
    "an operator without values",
    [{ FieldSelectors: [{ Field: "eventCategory", Equals: [] }] }],
    "Equals for field eventCategory must contain at least one value.",
  ],
  [
    "an empty value",
    [s3Data({ Field: "eventName", StartsWith: [""] })],
    "Each value of StartsWith for field eventName must be between 1 and 2048 characters long.",
  ],
  [
    "a value over 2048 characters",
    [s3Data({ Field: "eventName", Equals: ["e".repeat(2049)] })],
    "Each value of Equals for field eventName must be between 1 and 2048 characters long.",
  ],
  [
    "no eventCategory",
    [{ FieldSelectors: [{ Field: "readOnly", Equals: ["true"] }] }],
    "Each advanced event selector must contain an eventCategory field selector.",
  ],
  [
    "eventCategory twice",
    [{ FieldSelectors: [category("Management"), category("Management")] }],
    "Field eventCategory can be used only once in an advanced event selector.",
  ],
  [
    "eventCategory with StartsWith",
    [{ FieldSelectors: [{ Field: "eventCategory", StartsWith: ["Man"] }] }],
    "Field eventCategory supports only the Equals operator.",
  ],
  [
    "eventCategory with two values",
    [{ FieldSelectors: [{ Field: "eventCategory", Equals: ["Management", "Data"] }] }],
    "Field eventCategory requires exactly one value for Equals.",
  ],
  [
    "an event category of event data stores",
    [{ FieldSelectors: [category("Insight")] }],
    "Value Insight for eventCategory is invalid. Valid values for trails are: Management, Data, NetworkActivity",
  ],
  [
    "a data field on management events",
    [management({ Field: "eventName", Equals: ["PutObject"] })],
    "Field eventName is not supported for Management events on a trail.",
  ],
  [
    "readOnly with NotEquals",
    [management({ Field: "readOnly", NotEquals: ["true"] })],
    "Field readOnly supports only the Equals operator.",
  ],
  [
    "readOnly that is no boolean",
    [management({ Field: "readOnly", Equals: ["maybe"] })],
    "Value maybe for readOnly is invalid. Valid values are: true, false",
  ],
  [
    "a malformed resources.type",
    [{ FieldSelectors: [category("Data"), { Field: "resources.type", Equals: ["S3Object"] }] }],
    "Value S3Object for resources.type is invalid.",
  ],
  [
    "a resources.ARN naming no object",
    [s3Data({ Field: "resources.ARN", Equals: ["arn:aws:s3:::bucket-1"] })],
    "Value arn:aws:s3:::bucket-1 for resources.ARN is invalid.",
  ],
  [
    "a management eventSource other than an exclusion",
    [management({ Field: "eventSource", Equals: ["s3.amazonaws.com"] })],
    "For Management events, eventSource supports only NotEquals with kms.amazonaws.com or rdsdata.amazonaws.com.",
  ],
  [
    "an unknown network errorCode",
    [
      {
        FieldSelectors: [
          category("NetworkActivity"),
          { Field: "eventSource", Equals: ["s3.amazonaws.com"] },
          { Field: "errorCode", Equals: ["Other"] },
        ],
      },
    ],
    "Value Other for errorCode is invalid. Valid values are: VpceAccessDenied",
  ],
  [
    "data events without resources.type",
    [{ FieldSelectors: [category("Data"), { Field: "eventName", Equals: ["GetObject"] }] }],
    "Advanced event selectors for Data events must contain a resources.type field selector.",
  ],
  [
    "network activity without eventSource",
    [{ FieldSelectors: [category("NetworkActivity")] }],
    "Advanced event selectors for NetworkActivity events must contain an eventSource field selector.",
  ],
  [
    "501 condition values",
    [s3Data({ Field: "eventName", Equals: Array.from({ length: 499 }, (_, i) => `Event${i}`) })],
    "The total number of values for all conditions in all advanced event selectors must not exceed 500; 501 were specified.",
  ],
  [
    "251 resources.ARN values",
    [s3Data({ Field: "resources.ARN", StartsWith: s3Values(251) })],
    "The total number of resources.ARN values in all advanced event selectors must not exceed 250; 251 were specified.",
  ],
];

/** Accepted at the limits: 5 basic selectors with 250 values in all, every value form. */
export const EDGE_BASIC_SELECTORS: EventSelector[] = [
  { ReadWriteType: "ReadOnly", IncludeManagementEvents: true },
  {
    ReadWriteType: "WriteOnly",
    ExcludeManagementEventSources: ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
  },
  {
    IncludeManagementEvents: false,
    DataResources: [
      { Type: "AWS::S3::Object", Values: ["arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:::bucket-1/"] },
      { Type: "AWS::Lambda::Function", Values: ["arn:aws:lambda"] },
      { Type: "AWS::DynamoDB::Table", Values: ["arn:aws:dynamodb"] },
    ],
  },
  {
    DataResources: [
      { Type: "AWS::Lambda::Function", Values: ["arn:aws:lambda:us-east-1:123456789012:function:my-fn"] },
      { Type: "AWS::DynamoDB::Table", Values: ["arn:aws:dynamodb:us-east-1:123456789012:table/my-table"] },
    ],
  },
  { DataResources: [{ Type: "AWS::S3::Object", Values: s3Values(243) }] },
];

/** Accepted at the limits: every trail category, 500 values in all (240 of them resources.ARN). */
export const EDGE_ADVANCED_SELECTORS: AdvancedEventSelector[] = [
  {
    Name: "management writes",
    FieldSelectors: [category("Management"), { Field: "readOnly", Equals: ["false"] }],
  },
  {
    Name: "n".repeat(1000),
    FieldSelectors: [
      category("Management"),
      { Field: "eventSource", NotEquals: ["kms.amazonaws.com", "rdsdata.amazonaws.com"] },
    ],
  },
  s3Data(
    { Field: "resources.ARN", StartsWith: s3Values(240) },
    { Field: "eventName", NotStartsWith: Array.from({ length: 250 }, (_, i) => `Skip${i}`) },
  ),
  {
    FieldSelectors: [
      category("NetworkActivity"),
      { Field: "eventSource", Equals: ["s3.amazonaws.com"] },
      { Field: "errorCode", Equals: ["VpceAccessDenied"] },
    ],
  },
];
