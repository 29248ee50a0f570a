import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** README's command-line examples as a reader pastes them, with only the address changed. */

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const REPO = new URL("../../", import.meta.url).pathname;

/** Every fenced sh block's text. */
const shellBlocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

function block(containing: string): string {
  const found = shellBlocks.filter((b) => b.includes(containing));
  expect(found, containing).toHaveLength(1);
  return found[0]!;
}

const sh = (script: string, url: string) =>
  promisify(execFile)("bash", ["-c", script.replaceAll("http://127.0.0.1:4566", url)], {
    cwd: REPO,
    // npm_config_yes=false: npx runs the clone's own bin, never one fetched from a registry
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      npm_config_yes: "false",
    },
  });

describe("README's examples", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => server?.close());

  it("run the command line one way: npx opentrail, never node dist/…", () => {
    expect(README).not.toMatch(/node dist\//);
    for (const text of shellBlocks) {
      for (const line of text.split("\n")) {
        if (/^\s*opentrail\s/.test(line)) throw new Error(`README runs the CLI without npx: ${line}`);
      }
    }
  });

  it("POST /ingest with curl stores the record, as the example's comment shows", async () => {
    const { stdout } = await sh(block("/ingest"), server.url);
    expect(JSON.parse(stdout)).toMatchObject({ eventIds: [expect.any(String)], duplicates: [] });
  });

  it("the validate-logs example runs as written", async () => {
    const example = block("npx opentrail validate-logs").replace(
      /--trail-arn \S+/,
      (flag) => `${flag} --endpoint ${server.url} --data-dir ${server.dataDir}`,
    );
    server.createBucket("my-bucket");
    const api = httpClient({
      endpoint: server.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    await api.createTrail({ Name: "my-trail", S3BucketName: "my-bucket" });
    api.client.destroy();
    const run = await sh(example, server.url).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(
      /^Validating log files for trail arn:aws:cloudtrail:us-east-1:123456789012:trail\/my-trail between /,
    );
  }, 60_000);
});
