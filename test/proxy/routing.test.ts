import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeFor } from "../../src/http/server.ts";
import { DEV_KEY, REGION } from "../support/proxy.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

describe("routeFor", () => {
  it.each([
    ["/", { "x-amz-target": "CloudTrail_20131101.ListTrails" }, "routes"],
    ["/", { "x-amz-target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrail" }, "routes"],
    ["/ingest", {}, "routes"],
    ["/health", {}, "routes"],
    ["/_opentrail/reset", {}, "routes"],
    ["/", { "x-amz-target": "DynamoDB_20120810.ListTables" }, "proxy"],
    ["/", { "content-type": "application/x-www-form-urlencoded" }, "proxy"],
    ["/my-bucket/key", {}, "proxy"],
    ["/2015-03-31/functions/", {}, "proxy"],
  ] as const)("%s %j → %s with an upstream", (path, headers, expected) => {
    expect(routeFor(path, headers, true)).toBe(expected);
  });

  it("sends everything to the route table without an upstream", () => {
    expect(routeFor("/my-bucket/key", {}, false)).toBe("routes");
    expect(routeFor("/", { "x-amz-target": "DynamoDB_20120810.ListTables" }, false)).toBe("routes");
  });
});

describe("without an upstream", () => {
  let server: TestServer;
  const clients: { destroy(): void }[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
  });

  it("answers other services' calls as before: DynamoDB with its error, S3 from the local buckets", async () => {
    const ddb = new DynamoDBClient({
      endpoint: server.url,
      region: REGION,
      credentials: DEV_KEY,
      maxAttempts: 1,
    });
    const s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      credentials: DEV_KEY,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    clients.push(ddb, s3);
    await expect(ddb.send(new ListTablesCommand({}))).rejects.toMatchObject({
      name: "UnknownOperationException",
    });
    // the local buckets answer the S3 read API on the same endpoint
    await expect(s3.send(new ListBucketsCommand({}))).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200 },
    });
  });
});
