import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as sdk from "@aws-sdk/client-cloudtrail";
import { CloudTrailClient, ListEventDataStoresCommand, StartQueryCommand } from "@aws-sdk/client-cloudtrail";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS, UNSERVED_OPERATIONS } from "../../src/api/index.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** The operations of the CloudTrail model beyond the 18: listed, documented, and answered honestly. */

const sdkOperations = Object.keys(sdk)
  .filter((k) => /^[A-Z]\w*Command$/.test(k))
  .map((k) => k.slice(0, -"Command".length))
  .sort();

const botocoreOperations = (): string[] =>
  JSON.parse(
    execFileSync(
      "python3",
      [
        "-c",
        "import botocore.loaders, json; print(json.dumps(sorted(botocore.loaders.Loader().load_service_model('cloudtrail', 'service-2')['operations'])))",
      ],
      { encoding: "utf8" },
    ),
  ) as string[];

describe("operations not served", () => {
  it("are every operation of the SDK's model and of botocore's but the 18", () => {
    const served = new Set<string>(OPERATIONS);
    expect([...UNSERVED_OPERATIONS]).toEqual(sdkOperations.filter((op) => !served.has(op)));
    expect([...UNSERVED_OPERATIONS]).toEqual(botocoreOperations().filter((op) => !served.has(op)));
  });

  it("are listed in README's Not implemented section", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const section = /<!-- not-implemented:start -->\n(.*)\n<!-- not-implemented:end -->/.exec(readme);
    expect(section?.[1]?.split(", ").map((op) => op.replaceAll("`", ""))).toEqual([...UNSERVED_OPERATIONS]);
  });

  describe("called", () => {
    let server: TestServer;
    let client: CloudTrailClient;
    beforeAll(async () => {
      server = await startTestServer();
      client = new CloudTrailClient({
        endpoint: server.url,
        region: "us-east-1",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      });
    });
    afterAll(async () => {
      client?.destroy();
      await server?.close();
    });

    it("answer UnsupportedOperationException naming the operation, 400", async () => {
      for (const command of [
        new ListEventDataStoresCommand({}),
        new StartQueryCommand({ QueryStatement: "x" }),
      ]) {
        const err = (await client
          .send(command as never)
          .catch((e: unknown) => e)) as sdk.CloudTrailServiceException;
        expect(err.name).toBe("UnsupportedOperationException");
        expect(err.$metadata.httpStatusCode).toBe(400);
      }
      const err = (await client.send(new ListEventDataStoresCommand({})).catch((e: unknown) => e)) as Error;
      expect(err.message).toBe("ListEventDataStores is not supported by opentrail.");
    });

    it("are authenticated first, and an operation the model does not have is still unknown", async () => {
      const unsigned = await fetch(server.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "CloudTrail_20131101.ListChannels",
        },
        body: "{}",
      });
      expect(((await unsigned.json()) as { __type: string }).__type).toBe(
        "MissingAuthenticationTokenException",
      );
      const unknown = await fetch(server.url, {
        method: "POST",
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "CloudTrail_20131101.ListWidgets",
        },
        body: "{}",
      });
      expect(await unknown.json()).toEqual({
        __type: "UnknownOperationException",
        message: "Unknown operation CloudTrail_20131101.ListWidgets",
      });
    });
  });
});
