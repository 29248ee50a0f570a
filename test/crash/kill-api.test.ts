import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudTrailClient, DescribeTrailsCommand, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng } from "../../bench/support/records.ts";
import { assertBuilt, type ServerProcess, startServerProcess } from "../../bench/support/server-process.ts";

/*
 * kill -9 while many connections call the API: calls that arrive together commit their records
 * together, and none may be answered before that commit. The server is killed at seeded random
 * moments with calls in flight and restarted on the same data directory; afterwards every
 * answered call's record must be in event history.
 *
 * Runs the built server (`npm run build` first; the test command does).
 */

const SEED = 20261203;
const ROUNDS = 4;
const CONNECTIONS = 32;
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

describe("kill -9 under concurrent API calls", () => {
  let dir: string;
  let server: ServerProcess | undefined;

  beforeAll(() => {
    assertBuilt();
    dir = mkdtempSync(join(tmpdir(), "opentrail-kill-api-"));
  });

  afterAll(async () => {
    await server?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses no answered call's record", async () => {
    const random = prng(SEED);
    const dataDir = join(dir, "data");
    const answered: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      server = await startServerProcess({ dataDir, port: server?.port });
      const client = new CloudTrailClient({
        endpoint: server.url,
        region: "us-east-1",
        credentials: CREDENTIALS,
        maxAttempts: 1,
      });
      // the kill comes after a seeded number of answers, with the other connections' calls in flight
      const killAfter = answered.length + 50 + Math.floor(random() * 300);
      let killed = false;
      const victim = server;
      const lane = async () => {
        while (!killed) {
          try {
            const out = await client.send(new DescribeTrailsCommand({}));
            answered.push(out.$metadata.requestId!);
          } catch {
            if (killed) return;
            throw new Error("a call failed before the kill");
          }
          if (answered.length >= killAfter && !killed) {
            killed = true;
            expect((await victim.stop("SIGKILL")).signal).toBe("SIGKILL");
          }
        }
      };
      await Promise.all(Array.from({ length: CONNECTIONS }, lane));
      client.destroy();
    }

    server = await startServerProcess({ dataDir, port: server?.port });
    const client = new CloudTrailClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: CREDENTIALS,
    });
    const recorded = new Set<string>();
    let token: string | undefined;
    do {
      const page = await client.send(
        new LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "DescribeTrails" }],
          MaxResults: 50,
          NextToken: token,
        }),
      );
      for (const e of page.Events ?? [])
        recorded.add((JSON.parse(e.CloudTrailEvent!) as { requestID: string }).requestID);
      token = page.NextToken;
    } while (token !== undefined);
    client.destroy();
    const lost = answered.filter((id) => !recorded.has(id));
    expect({ answered: answered.length, lost: lost.slice(0, 5) }).toEqual({
      answered: answered.length,
      lost: [],
    });
    expect((await server.stop("SIGTERM")).code).toBe(0);
    server = undefined;
  }, 120_000);
});
