import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { DEV_KEY, REGION } from "../support/proxy.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * An upstream that takes every request and never answers: past the upstream timeout the client
 * gets the proxy's own AWS-shaped 504, the call is recorded as failed, and the proxy keeps serving.
 */

let hung: Server;
let server: TestServer;
const held: { destroy(): void }[] = [];

beforeAll(async () => {
  hung = createServer((req) => {
    req.resume();
    held.push(req.socket);
  });
  await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
  const port = (hung.address() as AddressInfo).port;
  server = await startTestServer({
    upstreams: { default: `http://127.0.0.1:${port}`, services: {} },
    upstreamTimeoutMs: 300,
  });
});

afterAll(async () => {
  await server.close();
  for (const s of held) s.destroy();
  await new Promise<void>((resolve) => hung.close(() => resolve()));
});

async function recorded(eventName: string): Promise<Record<string, unknown> | undefined> {
  const api = httpClient({ endpoint: server.url, clientConfig: { maxAttempts: 1 } });
  try {
    const found = await api.lookupEvents({});
    const event = (found.Events ?? []).find((e) => e.EventName === eventName);
    return event ? JSON.parse(event.CloudTrailEvent ?? "{}") : undefined;
  } finally {
    api.client.destroy();
  }
}

describe("a hung upstream", () => {
  it("answers S3's 504 after the timeout and records the call as failed", async () => {
    const s3 = new S3Client({
      endpoint: server.url,
      region: REGION,
      credentials: DEV_KEY,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    try {
      const started = Date.now();
      await expect(s3.send(new ListBucketsCommand({}))).rejects.toMatchObject({
        name: "GatewayTimeout",
        $metadata: { httpStatusCode: 504 },
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      s3.destroy();
    }
    expect(await recorded("ListBuckets")).toMatchObject({
      eventSource: "s3.amazonaws.com",
      errorCode: "GatewayTimeout",
    });
    expect(server.app.proxyStats()?.upstreamTimeouts).toBeGreaterThanOrEqual(1);
  });

  it("answers a JSON service's 504 with its __type, and still answers afterwards", async () => {
    const ddb = new DynamoDBClient({
      endpoint: server.url,
      region: REGION,
      credentials: DEV_KEY,
      maxAttempts: 1,
    });
    try {
      await expect(ddb.send(new ListTablesCommand({}))).rejects.toMatchObject({
        name: "GatewayTimeout",
        $metadata: { httpStatusCode: 504 },
      });
    } finally {
      ddb.destroy();
    }
    expect(await recorded("ListTables")).toMatchObject({
      eventSource: "dynamodb.amazonaws.com",
      errorCode: "GatewayTimeout",
    });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
