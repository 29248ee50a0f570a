import { DescribeTrailsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * Calls that arrive together are recorded together (one group commit): each one is still
 * recorded, its failure included, by the time its caller has its answer.
 */

let server: TestServer;
let api: ReturnType<typeof httpClient>;

beforeAll(async () => {
  server = await startTestServer();
  // one attempt: a call is recorded once, not once per retry
  api = httpClient({ endpoint: server.url, clientConfig: { maxAttempts: 1 } });
});

afterAll(async () => {
  api.client.destroy();
  await server.close();
});

async function recordsOf(eventName: string): Promise<Record<string, unknown>[]> {
  const found = await api.lookupEvents({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: eventName }],
    MaxResults: 50,
  });
  return (found.Events ?? []).map((e) => JSON.parse(e.CloudTrailEvent!) as Record<string, unknown>);
}

describe("concurrent calls", () => {
  it("records every one of them, failures included, before answering", async () => {
    const described = Array.from({ length: 30 }, () => api.client.send(new DescribeTrailsCommand({})));
    const missing = Array.from({ length: 10 }, (_, i) =>
      api.getTrail({ Name: `missing-${i}` }).then(
        () => undefined,
        (e: { name: string; $metadata: { requestId?: string } }) => e,
      ),
    );
    const answers = await Promise.all(described);
    const failures = await Promise.all(missing);

    const describeIds = answers.map((a) => a.$metadata.requestId).sort();
    expect(new Set(describeIds).size).toBe(30);
    expect((await recordsOf("DescribeTrails")).map((r) => r.requestID).sort()).toEqual(describeIds);

    expect(failures.map((f) => f?.name)).toEqual(Array(10).fill("TrailNotFoundException"));
    const gets = await recordsOf("GetTrail");
    expect(gets.map((r) => r.requestID).sort()).toEqual(failures.map((f) => f!.$metadata.requestId).sort());
    expect(gets.every((r) => r.errorCode === "TrailNotFoundException")).toBe(true);
  });
});
