import { describe, expect, it } from "vitest";
import { isCloudTrailError, OPERATIONS, type OperationName } from "../../src/api/index.ts";
import { decodeInput, INPUT_SHAPES } from "../../src/wire/shapes.ts";

function decodeError(operation: OperationName, body: unknown): string {
  try {
    decodeInput(operation, body);
  } catch (e) {
    if (isCloudTrailError(e) && e.code === "SerializationException") return e.message;
    throw e;
  }
  throw new Error("expected a SerializationException");
}

describe("input shapes as data", () => {
  it("has a shape for each of the 19 operations", () => {
    expect(Object.keys(INPUT_SHAPES).sort()).toEqual([...OPERATIONS].sort());
  });

  it("uses the lower-camel DescribeTrails member names", () => {
    expect(Object.keys(INPUT_SHAPES.DescribeTrails.members)).toEqual([
      "trailNameList",
      "includeShadowTrails",
    ]);
  });
});

describe("member types: Coral's SerializationException messages", () => {
  it.each([
    ["a number for a string", { Name: 23 }, "NUMBER_VALUE cannot be converted to String"],
    ["a decimal for a string", { Name: 2.5 }, "DECIMAL_VALUE cannot be converted to String"],
    ["true for a string", { Name: true }, "TRUE_VALUE cannot be converted to String"],
    ["false for a string", { Name: false }, "FALSE_VALUE cannot be converted to String"],
    ["a list for a string", { Name: [] }, "Unrecognized collection type class java.lang.String"],
    ["an object for a string", { Name: {} }, "Start of structure or map found where not expected"],
  ])("GetTrail: %s", (_, body, message) => {
    expect(decodeError("GetTrail", body)).toBe(message);
  });

  it.each([
    ["a string for a boolean", { IsMultiRegionTrail: "true" }, "Unexpected token received from parser"],
    ["a number for a boolean", { IsMultiRegionTrail: 1 }, "NUMBER_VALUE cannot be converted to Boolean"],
    ["a decimal for a boolean", { IsMultiRegionTrail: 0.5 }, "DECIMAL_VALUE cannot be converted to Boolean"],
    [
      "a list for a boolean",
      { IsMultiRegionTrail: [true] },
      "Unrecognized collection type class java.lang.Boolean",
    ],
    [
      "an object for a boolean",
      { IsMultiRegionTrail: {} },
      "Start of structure or map found where not expected",
    ],
    ["a string for a list", { TagsList: "k=v" }, "Unexpected field type"],
    [
      "an object for a list",
      { TagsList: { Key: "k" } },
      "Start of structure or map found where not expected",
    ],
    [
      "a list for a structure",
      { TagsList: [["k"]] },
      "Unrecognized collection type class com.amazonaws.cloudtrail.v20131101.Tag",
    ],
    ["a string for a structure", { TagsList: ["k"] }, "Unexpected field type"],
    [
      "a number inside a structure in a list",
      { TagsList: [{ Key: 1 }] },
      "NUMBER_VALUE cannot be converted to String",
    ],
  ])("CreateTrail: %s", (_, body, message) => {
    expect(decodeError("CreateTrail", body)).toBe(message);
  });

  it.each([
    ["a string for an integer", { MaxResults: "5" }, "STRING_VALUE cannot be converted to Integer"],
    ["true for an integer", { MaxResults: true }, "TRUE_VALUE cannot be converted to Integer"],
    ["a list for an integer", { MaxResults: [5] }, "Unrecognized collection type class java.lang.Integer"],
    ["an integer beyond 32 bits", { MaxResults: 2147483648 }, "NUMBER_VALUE cannot be converted to Integer"],
    ["a huge number", { MaxResults: 1e308 }, "NUMBER_VALUE cannot be converted to Integer"],
    ["a word for a timestamp", { StartTime: "yesterday" }, "STRING_VALUE cannot be converted to Timestamp"],
    ["true for a timestamp", { StartTime: true }, "TRUE_VALUE cannot be converted to Timestamp"],
    [
      "an object for a timestamp",
      { StartTime: { s: 1 } },
      "Start of structure or map found where not expected",
    ],
    ["a timestamp out of range", { StartTime: 1e300 }, "NUMBER_VALUE cannot be converted to Timestamp"],
  ])("LookupEvents: %s", (_, body, message) => {
    expect(decodeError("LookupEvents", body)).toBe(message);
  });

  it("checks members nested three levels down", () => {
    const body = {
      TrailName: "t",
      EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Object", Values: [5] }] }],
    };
    expect(decodeError("PutEventSelectors", body)).toBe("NUMBER_VALUE cannot be converted to String");
    const advanced = {
      AdvancedEventSelectors: [{ FieldSelectors: [{ Field: "eventCategory", Equals: "Data" }] }],
    };
    expect(decodeError("PutEventSelectors", advanced)).toBe("Unexpected field type");
  });
});

describe("decoding", () => {
  it.each([
    ["an integer", 1577836800, "2020-01-01T00:00:00.000Z"],
    ["fractional seconds", 1577836800.5, "2020-01-01T00:00:00.500Z"],
    ["milliseconds", 1454022144.869, "2016-01-28T23:02:24.869Z"],
    ["an ISO string", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00.000Z"],
    ["an ISO string with offset and fraction", "2020-01-01T02:00:00.25+02:00", "2020-01-01T00:00:00.250Z"],
    ["an ISO date", "2020-01-01", "2020-01-01T00:00:00.000Z"],
    ["a numeric string", "1577836800", "2020-01-01T00:00:00.000Z"],
    ["zero", 0, "1970-01-01T00:00:00.000Z"],
  ])("accepts a timestamp given as %s", (_, value, iso) => {
    const input = decodeInput("ListPublicKeys", { StartTime: value });
    expect(input.StartTime).toBeInstanceOf(Date);
    expect((input.StartTime as Date).toISOString()).toBe(iso);
  });

  it("truncates a fractional integer as Coral does", () => {
    expect(decodeInput("LookupEvents", { MaxResults: 7.9 })).toEqual({ MaxResults: 7 });
    expect(decodeInput("LookupEvents", { MaxResults: -0.5 })).toEqual({ MaxResults: 0 });
  });

  it("treats null as absent at every level, including list elements", () => {
    const input = decodeInput("PutEventSelectors", {
      TrailName: "t",
      AdvancedEventSelectors: null,
      EventSelectors: [
        null,
        { ReadWriteType: null, DataResources: [{ Type: "AWS::S3::Object", Values: [null, "x"] }] },
      ],
    });
    expect(input).toEqual({
      TrailName: "t",
      EventSelectors: [{ DataResources: [{ Type: "AWS::S3::Object", Values: ["x"] }] }],
    });
  });

  it("ignores unknown members, member names are case-sensitive, and __proto__ stays inert", () => {
    const body = JSON.parse('{"name":"lower","Name":"t","__proto__":{"polluted":true},"constructor":1}');
    const input = decodeInput("GetTrail", body);
    expect(input).toEqual({ Name: "t" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("keeps empty strings and empty lists (their meaning is the service's call)", () => {
    expect(decodeInput("PutInsightSelectors", { TrailName: "", InsightSelectors: [] })).toEqual({
      TrailName: "",
      InsightSelectors: [],
    });
  });

  it("knows the members newer SDKs send", () => {
    expect(decodeInput("CreateTrail", { Name: "t", RecursiveLogging: false })).toEqual({
      Name: "t",
      RecursiveLogging: false,
    });
  });
});
