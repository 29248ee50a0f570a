import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { classifyProbeError, S3ObjectStore, toObjectStoreError } from "../../src/adapters/s3/object-store.ts";
import { s3Reader } from "../../src/adapters/s3/reader.ts";
import {
  createBucket,
  freePort,
  type S3TestServer,
  s3Client,
  startMoto,
  startS3rver,
} from "../support/s3-servers.ts";
import { objectReaderContract } from "./object-reader.contract.ts";
import { gzipBody, objectStoreContract, type StoreQuirks } from "./object-store.contract.ts";

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

const KMS_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/** `aws s3api get-object` (the AWS CLI the validator runs in) against a test server. */
async function cliGetObject(
  server: S3TestServer,
  bucket: string,
  key: string,
): Promise<{ output: Record<string, unknown>; body: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "opentrail-awscli-"));
  try {
    const config = join(dir, "config");
    await writeFile(config, "[default]\ns3 =\n  addressing_style = path\n");
    const outfile = join(dir, "body");
    const { stdout } = await promisify(execFile)(
      "python3",
      ["-m", "awscli", "s3api", "get-object", "--bucket", bucket, "--key", key, outfile],
      {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          AWS_CONFIG_FILE: config,
          AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
          AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
          AWS_DEFAULT_REGION: server.region,
          AWS_ENDPOINT_URL_S3: server.endpoint,
        },
        timeout: 60_000,
      },
    );
    return { output: JSON.parse(stdout) as Record<string, unknown>, body: await readFile(outfile) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a test server does with an object beyond the contract. */
interface ServerTraits {
  quirks?: StoreQuirks;
  /** HeadObject reports the SSE-KMS a put asked for. */
  keepsSseKms: boolean;
}

function contractAgainst(name: string, start: () => Promise<S3TestServer>, traits: ServerTraits): void {
  const { quirks } = traits;
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
        ...(quirks === undefined ? {} : { quirks }),
        close: () => store.close(),
      };
    });

    objectReaderContract(`s3Reader on ${name}`, async () => {
      const running = server!;
      const writer = storeFor(running);
      // two keys a page, so that every listing of the suite turns pages, where the server pages
      const paging = quirks?.noListPaging ? {} : { maxKeys: 2 };
      const reader = s3Reader({ ...running, forcePathStyle: true, concurrency: 4, ...paging });
      return {
        reader,
        writer,
        createBucket: (bucket) => createBucket(running, bucket),
        ...(quirks === undefined ? {} : { quirks }),
        async close() {
          await reader.close();
          await writer.close();
        },
      };
    });

    describe(`what other S3 clients see of an object S3ObjectStore put into ${name}`, () => {
      let store: S3ObjectStore;
      const bucket = `ot-seen-${name}`;
      const key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz";
      const body = gzipBody(11);
      const signature = "0f".repeat(256);

      beforeAll(async () => {
        store = storeFor(server!);
        await createBucket(server!, bucket);
        await store.putObject(bucket, key, body, {
          contentType: "application/json",
          contentEncoding: "gzip",
          metadata: { signature, "signature-algorithm": "SHA256withRSA" },
          kmsKeyId: KMS_KEY,
        });
      });

      afterAll(async () => {
        await store.close();
      });

      it("the AWS CLI reads the signature metadata and the raw gzip bytes", async () => {
        const { output, body: got } = await cliGetObject(server!, bucket, key);
        expect(output.Metadata).toEqual({ signature, "signature-algorithm": "SHA256withRSA" });
        expect(output).toMatchObject({ ContentType: "application/json", ContentEncoding: "gzip" });
        expect(got.equals(body)).toBe(true);
      });

      it.runIf(traits.keepsSseKms)("HeadObject shows the SSE-KMS key the put asked for", async () => {
        const client = s3Client(server!);
        try {
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          expect(head).toMatchObject({ ServerSideEncryption: "aws:kms", SSEKMSKeyId: KMS_KEY });
        } finally {
          client.destroy();
        }
      });
    });
  });
}

// s3rver lists keys in its file system's directory order, compares StartAfter as JavaScript
// strings, makes V2 continuation tokens with DES (which OpenSSL 3 no longer offers), answers a
// put of a buffered body before its write stream has finished, and drops SSE headers.
contractAgainst("s3rver", startS3rver, {
  quirks: { unorderedListing: true, utf16StartAfter: true, noListPaging: true, answersBeforeWritten: true },
  keepsSseKms: false,
});
contractAgainst("moto", startMoto, { keepsSseKms: true });

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

interface StubAnswer {
  status: number;
  body?: string;
}

/** A server that records each request and answers as the test says. */
async function startStub(answer: (url: URL, method: string) => StubAnswer) {
  const seen: { method: string; url: URL; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const http = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stub");
      seen.push({ method: req.method ?? "", url, headers: req.headers, body: Buffer.concat(chunks) });
      const { status, body } = answer(url, req.method ?? "");
      res.writeHead(status, { "content-type": "application/xml", "x-amz-request-id": "stub" }).end(body);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const store = storeOnPort(port);
  return {
    seen,
    store,
    async stop() {
      await store.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Runs `test` against a stub server, which is stopped whatever happens. */
async function withStub(
  answer: (url: URL, method: string) => StubAnswer,
  test: (stub: Awaited<ReturnType<typeof startStub>>) => Promise<void>,
): Promise<void> {
  const stub = await startStub(answer);
  try {
    await test(stub);
  } finally {
    await stub.stop();
  }
}

const errorXml = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>stub says ${code}</Message></Error>`;

function listXml(keys: string[], truncated: boolean, token?: string): string {
  const contents = keys.map((k) => `<Contents><Key>${k}</Key><Size>1</Size></Contents>`).join("");
  const next = token === undefined ? "" : `<NextContinuationToken>${token}</NextContinuationToken>`;
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>${keys.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${next}${contents}</ListBucketResult>`;
}

async function listAll(store: S3ObjectStore, prefix: string, startAfter?: string): Promise<string[]> {
  const out: string[] = [];
  for await (const key of store.listKeys("b", prefix, startAfter)) out.push(key);
  return out;
}

describe("S3ObjectStore on the wire", () => {
  it("puts with the ACL, content headers, user metadata and SSE-KMS", async () => {
    await withStub(
      () => ({ status: 200 }),
      async (stub) => {
        const body = gzipBody(3);
        await stub.store.putObject("wire-bucket", "p/AWSLogs/k.json.gz", body, {
          contentType: "application/json",
          contentEncoding: "gzip",
          metadata: { Signature: "abc", "signature-algorithm": "SHA256withRSA" },
          kmsKeyId: KMS_KEY,
        });
        const [put] = stub.seen;
        expect(put?.method).toBe("PUT");
        expect(put?.url.pathname).toBe("/wire-bucket/p/AWSLogs/k.json.gz");
        expect(put?.body.equals(body)).toBe(true);
        expect(put?.headers).toMatchObject({
          "x-amz-acl": "bucket-owner-full-control",
          "content-type": "application/json",
          "content-encoding": "gzip",
          "x-amz-meta-signature": "abc",
          "x-amz-meta-signature-algorithm": "SHA256withRSA",
          "x-amz-server-side-encryption": "aws:kms",
          "x-amz-server-side-encryption-aws-kms-key-id": KMS_KEY,
        });
      },
    );
  });

  it("sends no encryption header without a KMS key, and the ACL always", async () => {
    await withStub(
      () => ({ status: 200 }),
      async (stub) => {
        await stub.store.putObject("wire-bucket", "k", Buffer.from("x"));
        const headers = stub.seen[0]?.headers ?? {};
        expect(headers["x-amz-acl"]).toBe("bucket-owner-full-control");
        expect(Object.keys(headers).filter((h) => h.startsWith("x-amz-server-side-encryption"))).toEqual([]);
        expect(Object.keys(headers).filter((h) => h.startsWith("x-amz-meta-"))).toEqual([]);
      },
    );
  });

  const putCases = [
    [404, errorXml("NoSuchBucket"), "NoSuchBucket"],
    [404, undefined, "NoSuchBucket"],
    [403, errorXml("AccessDenied"), "AccessDenied"],
    [403, undefined, "AccessDenied"],
    [503, errorXml("SlowDown"), "SlowDown"],
    [500, errorXml("InternalError"), "InternalError"],
    [502, undefined, "ServiceUnavailable"],
    [400, errorXml("InvalidArgument"), "InvalidArgument"],
    [400, undefined, "InvalidRequest"],
    // S3's answers to an SSE-KMS put whose key is disabled, pending deletion or gone
    [400, errorXml("KMS.DisabledException"), "KMS.DisabledException"],
    [400, errorXml("KMS.KMSInvalidStateException"), "KMS.KMSInvalidStateException"],
    [400, errorXml("KMS.NotFoundException"), "KMS.NotFoundException"],
  ] as const;
  for (const [status, body, code] of putCases) {
    it(`fails a put answered ${status} ${body === undefined ? "without a body" : "with a code"} as ${code}`, async () => {
      await withStub(
        () => ({ status, ...(body === undefined ? {} : { body }) }),
        async (stub) => {
          await expect(stub.store.putObject("b", "k", Buffer.from("x"))).rejects.toMatchObject({
            name: "ObjectStoreError",
            code,
          });
        },
      );
    });
  }

  it("reads a missing key as undefined, with or without NoSuchKey, and a missing bucket as an error", async () => {
    let answer: StubAnswer = { status: 404, body: errorXml("NoSuchKey") };
    await withStub(
      () => answer,
      async (stub) => {
        expect(await stub.store.getObject("b", "k")).toBeUndefined();
        answer = { status: 404 };
        expect(await stub.store.getObject("b", "k")).toBeUndefined();
        answer = { status: 404, body: errorXml("NoSuchBucket") };
        await expect(stub.store.getObject("b", "k")).rejects.toMatchObject({ code: "NoSuchBucket" });
        await expect(stub.store.deleteObject("b", "k")).rejects.toMatchObject({ code: "NoSuchBucket" });
        await expect(listAll(stub.store, "")).rejects.toMatchObject({ code: "NoSuchBucket" });
      },
    );
  });

  it("lists with ListObjectsV2, StartAfter and Prefix, following continuation tokens", async () => {
    await withStub(
      (url) =>
        url.searchParams.get("continuation-token") === "t1"
          ? { status: 200, body: listXml(["p/c"], false) }
          : { status: 200, body: listXml(["p/a", "p/b"], true, "t1") },
      async (stub) => {
        expect(await listAll(stub.store, "p/", "p/0")).toEqual(["p/a", "p/b", "p/c"]);
        const [first, second] = stub.seen.map((r) => r.url.searchParams);
        expect(first?.get("list-type")).toBe("2");
        expect(first?.get("prefix")).toBe("p/");
        expect(first?.get("start-after")).toBe("p/0");
        expect(second?.get("continuation-token")).toBe("t1");
        expect(second?.has("start-after")).toBe(false);
      },
    );
  });

  it("pages by the last key when a truncated answer carries no token", async () => {
    await withStub(
      (url) =>
        url.searchParams.get("start-after") === "b"
          ? { status: 200, body: listXml(["c"], false) }
          : { status: 200, body: listXml(["a", "b"], true) },
      async (stub) => {
        expect(await listAll(stub.store, "")).toEqual(["a", "b", "c"]);
        expect(stub.seen[0]?.url.searchParams.has("prefix")).toBe(false);
        expect(stub.seen).toHaveLength(2);
      },
    );
  });

  it("fails with ServiceUnavailable when nothing listens", async () => {
    const store = storeOnPort(await freePort());
    try {
      const failure = store.putObject("b", "k", Buffer.from("x"));
      await expect(failure).rejects.toMatchObject({ code: "ServiceUnavailable" });
      await expect(failure).rejects.toThrow(/ECONNREFUSED/);
      await expect(store.getObject("b", "k")).rejects.toMatchObject({ code: "ServiceUnavailable" });
    } finally {
      await store.close();
    }
  });

  it("fails with ServiceUnavailable when the endpoint never answers", async () => {
    const silent = createServer((req) => req.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const store = storeOnPort((silent.address() as AddressInfo).port, 200);
    try {
      await expect(store.putObject("b", "k", Buffer.from("x"))).rejects.toMatchObject({
        code: "ServiceUnavailable",
      });
    } finally {
      await store.close();
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe("toObjectStoreError", () => {
  it("keeps an ObjectStoreError and calls errors without an answer InternalError or ServiceUnavailable", () => {
    const own = toObjectStoreError(new Error("x"), "put b/k");
    expect(toObjectStoreError(own, "again")).toBe(own);
    expect(own.code).toBe("InternalError");
    expect(toObjectStoreError({ name: "TimeoutError" }, "put").code).toBe("ServiceUnavailable");
    expect(toObjectStoreError(Object.assign(new Error("reset"), { code: "ECONNRESET" }), "put").code).toBe(
      "ServiceUnavailable",
    );
  });
});
