import { CloudTrailClient, LookupEventsCommand, ThrottlingException } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRateLimit } from "../../src/service/rate-limit.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** AWS's LookupEvents limit of 2 requests per second per account and region, as an option. */

describe("createRateLimit", () => {
  it("lets a second's worth through, then refills continuously", () => {
    let now = 1_000_000;
    const limit = createRateLimit(2, { now: () => new Date(now) });
    limit.take("111122223333", "us-east-1");
    limit.take("111122223333", "us-east-1");
    expect(() => limit.take("111122223333", "us-east-1")).toThrow(
      expect.objectContaining({ code: "ThrottlingException", message: "Rate exceeded", status: 400 }),
    );
    // other accounts and regions have buckets of their own
    limit.take("111122223333", "eu-west-1");
    limit.take("444455556666", "us-east-1");
    now += 499;
    expect(() => limit.take("111122223333", "us-east-1")).toThrow("Rate exceeded");
    now += 1;
    limit.take("111122223333", "us-east-1");
    now += 10_000;
    limit.take("111122223333", "us-east-1");
    limit.take("111122223333", "us-east-1");
    expect(() => limit.take("111122223333", "us-east-1")).toThrow("Rate exceeded");
  });

  it("below one a second, lets one call through every 1/rate seconds", () => {
    let now = 1_000_000;
    const limit = createRateLimit(0.5, { now: () => new Date(now) });
    limit.take("111122223333", "us-east-1");
    expect(() => limit.take("111122223333", "us-east-1")).toThrow("Rate exceeded");
    now += 1_999;
    expect(() => limit.take("111122223333", "us-east-1")).toThrow("Rate exceeded");
    now += 1;
    limit.take("111122223333", "us-east-1");
    now += 60_000;
    limit.take("111122223333", "us-east-1");
    expect(() => limit.take("111122223333", "us-east-1")).toThrow("Rate exceeded");
  });
});

describe("LookupEvents with --lookup-events-rate 2", () => {
  let server: TestServer;
  // a clock that stands still unless the test moves it: the limit's seconds are the test's
  let now = Date.now();
  const client = (maxAttempts: number) =>
    new CloudTrailClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts,
    });

  beforeAll(async () => {
    server = await startTestServer({ lookupEventsRate: 2 }, { clock: { now: () => new Date(now) } });
  });
  afterAll(async () => server?.close());

  it("answers the third call within a second with ThrottlingException, 400, Rate exceeded", async () => {
    const once = client(1);
    await once.send(new LookupEventsCommand({}));
    await once.send(new LookupEventsCommand({}));
    const refused = await once.send(new LookupEventsCommand({})).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ThrottlingException);
    expect(refused).toMatchObject({ name: "ThrottlingException", message: "Rate exceeded" });
    expect((refused as ThrottlingException).$metadata.httpStatusCode).toBe(400);
    now += 1000;
    await expect(once.send(new LookupEventsCommand({}))).resolves.toMatchObject({
      Events: expect.any(Array),
    });
    once.destroy();
  });
});

describe("LookupEvents without a rate", () => {
  it("is not limited by default", async () => {
    const server = await startTestServer();
    const c = new CloudTrailClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    for (let i = 0; i < 10; i++) await c.send(new LookupEventsCommand({}));
    c.destroy();
    await server.close();
  });
});
