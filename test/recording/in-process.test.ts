import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { IN_PROCESS_USER_AGENT } from "../../src/client/in-process.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** Calls through `OpenTrail.client()` (inProcessClient with a recorder) are recorded as over HTTP. */

const REGION = "us-east-1";
const BUCKET = "in-process-bucket";
let server: TestServer;

/** The record of the one call of `eventName` on trail `name`, read with LookupEvents. */
async function recordOf(name: string, eventName: string): Promise<Record<string, unknown>> {
  const api = httpClient({ endpoint: server.url, region: REGION });
  try {
    const found = await api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: name }],
    });
    const events = (found.Events ?? []).filter((e) => e.EventName === eventName);
    expect(events).toHaveLength(1);
    return JSON.parse(events[0]!.CloudTrailEvent!) as Record<string, unknown>;
  } finally {
    api.client.destroy();
  }
}

beforeAll(async () => {
  server = await startTestServer({ ingestWorkers: 0 });
  server.createBucket(BUCKET);
});

afterAll(async () => {
  await server.close();
});

describe("OpenTrail.client()", () => {
  it("records a call as the HTTP wire does, with the same fields", async () => {
    const api = httpClient({ endpoint: server.url, region: REGION });
    await api.createTrail({ Name: "over-http", S3BucketName: BUCKET });
    api.client.destroy();
    await server.app.client().createTrail({ Name: "in-process", S3BucketName: BUCKET });

    const overHttp = await recordOf("over-http", "CreateTrail");
    const inProcess = await recordOf("in-process", "CreateTrail");
    expect(Object.keys(inProcess).sort()).toEqual(Object.keys(overHttp).sort());
    expect(inProcess.userIdentity).toEqual(overHttp.userIdentity);
    expect(inProcess).toMatchObject({
      eventSource: "cloudtrail.amazonaws.com",
      eventName: "CreateTrail",
      awsRegion: REGION,
      sourceIPAddress: "127.0.0.1",
      userAgent: IN_PROCESS_USER_AGENT,
      requestParameters: { name: "in-process", s3BucketName: BUCKET },
    });
    expect((inProcess.responseElements as Record<string, unknown>).name).toBe("in-process");
  });

  it("records a refused call with its error, and still throws it", async () => {
    await expect(server.app.client().getTrail({ Name: "no-such-trail" })).rejects.toMatchObject({
      code: "TrailNotFoundException",
    });
    const record = await recordOf("no-such-trail", "GetTrail");
    expect(record).toMatchObject({ errorCode: "TrailNotFoundException" });
  });

  it("acts as another configured key, in another region", async () => {
    expect(() => server.app.client({ accessKeyId: "AKIANOTCONFIGURED" })).toThrow(/AKIANOTCONFIGURED/);
    await server.app.client({ region: "eu-west-1" }).listTrails({});
  });
});
