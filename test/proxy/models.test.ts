import { existsSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_MODEL_TABLE, loadModelTable } from "../../src/proxy/models.ts";

describe("the committed model table (scripts/gen-aws-models.py)", () => {
  const table = loadModelTable();

  it("loads, names its source, and stays small", () => {
    expect(table.source).toBe("botocore");
    expect(Object.keys(table.services).length).toBeGreaterThan(400);
    expect(statSync(DEFAULT_MODEL_TABLE).size).toBeLessThan(5 * 1024 * 1024);
    // botocore is Apache-2.0: its NOTICE travels with the table.
    expect(existsSync(new URL("./NOTICE", DEFAULT_MODEL_TABLE))).toBe(true);
  });

  it("carries what placement needs per service", () => {
    expect(table.services.s3).toMatchObject({
      protocols: ["rest-xml"],
      signingName: "s3",
      apiVersion: "2006-03-01",
    });
    expect(table.services.dynamodb).toMatchObject({ protocols: ["json"], targetPrefix: "DynamoDB_20120810" });
    expect(table.services.iam).toMatchObject({ protocols: ["query"], globalRegion: "us-east-1" });
    expect(table.services.ec2?.protocols).toEqual(["ec2"]);
    expect(table.services.cloudwatch?.protocols[0]).toBe("smithy-rpc-v2-cbor");
    expect(table.services.lambda?.operations.Invoke).toMatchObject({
      m: "POST",
      u: "/2015-03-31/functions/{FunctionName}/invocations",
    });
  });

  it("keeps the traits rendering needs: locations, sensitive, streaming payloads", () => {
    const s3 = table.services.s3!;
    const put = s3.shapes.PutObjectRequest!;
    expect(put.p).toBe("Body");
    expect((put.m as Record<string, unknown>).ACL).toEqual({ l: "header", n: "x-amz-acl", s: "s" });
    expect((put.m as Record<string, unknown>).Body).toMatchObject({ st: 1 });
    expect(table.services.iam!.shapes.passwordType?.S).toBe(1);
  });
});
