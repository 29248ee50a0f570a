import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyProbeError, S3ObjectStore } from "../../src/adapters/s3/object-store.ts";
import { createBucket, freePort, type S3TestServer, startMoto, startS3rver } from "../support/s3-servers.ts";
import { objectStoreContract } from "./object-store.contract.ts";

function storeFor(server: S3TestServer): S3ObjectStore {
  return new S3ObjectStore({
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
  });
}

/** A store for a local port, with credentials the stub servers never check. */
function storeOnPort(port: number, requestTimeoutMs?: number): S3ObjectStore {
  return new S3ObjectStore({
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: "k", secretAccessKey: "s" },
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  });
}

function contractAgainst(name: string, start: () => Promise<S3TestServer>): void {
  describe(name, () => {
    let server: S3TestServer | undefined;

    beforeAll(async () => {
      server = await start();
    });

    afterAll(async () => {
      await server?.stop();
    });

    objectStoreContract(`S3ObjectStore on ${name}`, async () => {
      const running = server!;
      const store = storeFor(running);
      return {
        store,
        createBucket: (bucket) => createBucket(running, bucket),
        close: () => store.close(),
      };
    });
  });
}

contractAgainst("s3rver", startS3rver);
contractAgainst("moto", startMoto);

describe("S3ObjectStore without a usable endpoint", () => {
  it("answers unreachable when nothing listens on the port", async () => {
    const store = storeOnPort(await freePort());
    try {
      expect(await store.probeBucket("any-bucket")).toBe("unreachable");
    } finally {
      await store.close();
    }
  });

  it("answers unreachable when the endpoint accepts but never answers, after two attempts", async () => {
    let requests = 0;
    const silent = createServer(() => {
      requests += 1;
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const store = storeOnPort(port, 200);
    try {
      expect(await store.probeBucket("any-bucket")).toBe("unreachable");
      expect(requests).toBe(2);
    } finally {
      await store.close();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  describe("against a server that answers HEAD with a fixed status", () => {
    let status = 200;
    let requests = 0;
    let http: Server;
    let store: S3ObjectStore;

    beforeAll(async () => {
      http = createServer((req, res) => {
        requests += 1;
        req.resume();
        res.writeHead(status, { "x-amz-request-id": "stub" }).end();
      });
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => http.close(() => resolve()));
    });

    beforeEach(() => {
      requests = 0;
      const { port } = http.address() as AddressInfo;
      store = storeOnPort(port);
    });

    afterEach(async () => {
      await store.close();
    });

    const cases = [
      [200, "ok"],
      [404, "missing"],
      [403, "denied"],
      [500, "unreachable"],
      [503, "unreachable"],
    ] as const;
    for (const [code, expected] of cases) {
      it(`maps ${code} to ${expected}`, async () => {
        status = code;
        expect(await store.probeBucket("stub-bucket")).toBe(expected);
      });
    }

    it("tries a failing endpoint no more than twice", async () => {
      status = 503;
      await store.probeBucket("stub-bucket");
      expect(requests).toBe(2);
    });

    it("uses path-style addressing by default", async () => {
      let path = "";
      http.once("request", (req) => {
        path = req.url ?? "";
      });
      status = 200;
      await store.probeBucket("stub-bucket");
      expect(path).toMatch(/^\/stub-bucket\/?$/);
    });

    it("passes on an answer it cannot interpret", async () => {
      status = 400;
      await expect(store.probeBucket("stub-bucket")).rejects.toMatchObject({
        $metadata: { httpStatusCode: 400 },
      });
    });
  });
});

describe("classifyProbeError", () => {
  it("reads SDK error names when no status is known", () => {
    expect(classifyProbeError({ name: "NoSuchBucket" })).toBe("missing");
    expect(classifyProbeError({ name: "AccessDenied" })).toBe("denied");
    expect(classifyProbeError({ name: "TimeoutError" })).toBe("unreachable");
    expect(classifyProbeError(Object.assign(new Error("x"), { code: "ECONNRESET" }))).toBe("unreachable");
  });

  it("leaves errors it does not know alone", () => {
    expect(classifyProbeError(new Error("Could not load credentials"))).toBeUndefined();
    expect(
      classifyProbeError({ name: "PermanentRedirect", $metadata: { httpStatusCode: 301 } }),
    ).toBeUndefined();
    expect(classifyProbeError("text")).toBeUndefined();
  });
});
