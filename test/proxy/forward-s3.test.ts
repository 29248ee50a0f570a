import { createHash, createHmac } from "node:crypto";
import { request } from "node:http";
import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { localLogFiles } from "../delivery/fixtures.ts";
import { DEV_KEY, type ProxyRig, presignS3Get, REGION, signS3, startProxyRig } from "../support/proxy.ts";
import { freePort } from "../support/s3-servers.ts";
import { startTestServer } from "../support/server.ts";

/**
 * S3 through opentrail's recording proxy to moto, with the official client: the answers are the
 * upstream's, the refusals S3's own, and every call acknowledged is in event history.
 */

let rig: ProxyRig;
const clients: { destroy(): void }[] = [];

function s3(
  endpoint: string,
  credentials = DEV_KEY,
  extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
) {
  const client = new S3Client({
    endpoint,
    region: REGION,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
    ...extra,
  });
  clients.push(client);
  return client;
}

function trail(endpoint: string) {
  const api = httpClient({ endpoint, clientConfig: { maxAttempts: 1 } });
  clients.push(api.client);
  return api;
}

async function eventNames(endpoint: string): Promise<string[]> {
  const found = await trail(endpoint).lookupEvents({});
  // LookupEvents is recorded too: leave this service's own calls out
  return (found.Events ?? [])
    .filter((e) => e.EventSource !== "cloudtrail.amazonaws.com")
    .map((e) => e.EventName ?? "");
}

/** A signed GET by hand, so that both ends' raw bytes can be compared. */
async function signedGet(endpoint: string, path: string): Promise<{ status: number; body: Buffer }> {
  const url = new URL(path, endpoint);
  const headers = await signS3(url, "GET", { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" });
  const res = await fetch(url, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

const TRAIL_BUCKET = "trail-bucket";

/** The records every log file delivered so far holds (delivery drained first). */
async function delivered(): Promise<Record<string, unknown>[]> {
  await rig.server.app.delivery.drain();
  return localLogFiles(rig.server.bucketsDir, TRAIL_BUCKET).flatMap((f) => f.records);
}

beforeAll(async () => {
  rig = await startProxyRig();
  rig.server.createBucket(TRAIL_BUCKET);
  const api = trail(rig.endpoint);
  await api.createTrail({ Name: "everything", S3BucketName: TRAIL_BUCKET });
  // management events and S3 object-level events of bucket-1 only
  await api.putEventSelectors({
    TrailName: "everything",
    AdvancedEventSelectors: [
      { Name: "management", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
      {
        Name: "bucket-1 objects",
        FieldSelectors: [
          { Field: "eventCategory", Equals: ["Data"] },
          { Field: "resources.type", Equals: ["AWS::S3::Object"] },
          { Field: "resources.ARN", StartsWith: ["arn:aws:s3:::bucket-1/"] },
        ],
      },
    ],
  });
  await api.startLogging({ Name: "everything" });
  await s3(rig.endpoint).send(new CreateBucketCommand({ Bucket: "bucket-1" }));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await rig?.close();
});

describe("S3 through the proxy", () => {
  it("puts and gets an object; the answers are moto's, byte for byte", async () => {
    const body = Buffer.from("hello, trail\n".repeat(1000));
    await s3(rig.endpoint).send(new PutObjectCommand({ Bucket: "bucket-1", Key: "a/b c.txt", Body: body }));
    const got = await s3(rig.endpoint).send(new GetObjectCommand({ Bucket: "bucket-1", Key: "a/b c.txt" }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);

    const viaProxy = await signedGet(rig.endpoint, "/bucket-1/a/b%20c.txt");
    const direct = await signedGet(rig.moto.endpoint, "/bucket-1/a/b%20c.txt");
    expect(viaProxy.status).toBe(200);
    expect(viaProxy.body).toEqual(direct.body);
    const listProxy = await signedGet(rig.endpoint, "/");
    const listDirect = await signedGet(rig.moto.endpoint, "/");
    expect(listProxy.body.toString()).toBe(listDirect.body.toString());
    // event history holds management events only, as AWS's: the bucket's creation, not its objects' reads
    expect(await eventNames(rig.endpoint)).toContain("CreateBucket");
  });

  it("uploads in parts (aws-chunked with trailing checksums where the SDK sends them)", async () => {
    const client = s3(rig.endpoint);
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: "bucket-1", Key: "big" }),
    );
    const part = Buffer.alloc(5 * 1024 * 1024, 7);
    const parts = [];
    for (const PartNumber of [1, 2]) {
      const { ETag } = await client.send(
        new UploadPartCommand({
          Bucket: "bucket-1",
          Key: "big",
          UploadId,
          PartNumber,
          Body: part,
          ChecksumAlgorithm: "CRC32",
        }),
      );
      parts.push({ ETag, PartNumber });
    }
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: "bucket-1",
        Key: "big",
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: "bucket-1", Key: "big" }));
    expect(head.ContentLength).toBe(10 * 1024 * 1024);
  });

  it("passes an aws-chunked body with a trailing checksum through unchanged", async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a);
    let sentHash: string | undefined;
    const client = s3(rig.endpoint);
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers: Record<string, string> }).headers;
        sentHash = headers["x-amz-content-sha256"];
        return next(args);
      },
      { step: "finalizeRequest", priority: "low" },
    );
    // a stream of known length: the SDK sends it aws-chunked with the CRC32 in a trailer
    await client.send(
      new PutObjectCommand({
        Bucket: "bucket-1",
        Key: "chunked",
        Body: Readable.from([data.subarray(0, 1_000_000), data.subarray(1_000_000)]),
        ContentLength: data.length,
        ChecksumAlgorithm: "CRC32",
      }),
    );
    expect(sentHash).toBe("STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    const got = await s3(rig.endpoint).send(new GetObjectCommand({ Bucket: "bucket-1", Key: "chunked" }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
  });

  it("checks the chunk signatures of a signed aws-chunked upload and passes it through unchanged", async () => {
    const send = async (key: string, tamper: boolean) => {
      const url = new URL(`/bucket-1/${key}`, rig.endpoint);
      const sizes = [65536, 1024, 0];
      const encodedLength = sizes.reduce(
        (n, size) => n + size.toString(16).length + 17 + 64 + 2 + size + 2,
        0,
      );
      const headers: Record<string, string> = {
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": String(encodedLength),
      };
      const signedHeaders = await signS3(url, "PUT", headers);
      const amzDate = signedHeaders["x-amz-date"]!;
      let previous = /Signature=([0-9a-f]{64})/.exec(signedHeaders.authorization!)![1]!;
      const hmac = (k: string | Buffer, d: string) => createHmac("sha256", k).update(d).digest();
      const key4 = hmac(hmac(hmac(hmac("AWS4test", amzDate.slice(0, 8)), REGION), "s3"), "aws4_request");
      const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
      const parts = sizes.map((size) => {
        const data = Buffer.alloc(size, 0x61);
        const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request\n${previous}\n${sha(Buffer.alloc(0))}\n${sha(data)}`;
        previous = createHmac("sha256", key4).update(toSign).digest("hex");
        if (tamper && size === 1024) data[0] = 0x62;
        return Buffer.concat([
          Buffer.from(`${size.toString(16)};chunk-signature=${previous}\r\n`),
          data,
          Buffer.from("\r\n"),
        ]);
      });
      const res = await fetch(url, { method: "PUT", headers: signedHeaders, body: Buffer.concat(parts) });
      return { status: res.status, text: await res.text() };
    };
    expect(await send("signed-chunks", false)).toMatchObject({ status: 200 });
    const got = await s3(rig.endpoint).send(
      new GetObjectCommand({ Bucket: "bucket-1", Key: "signed-chunks" }),
    );
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.alloc(66560, 0x61))).toBe(true);

    const refused = await send("tampered-chunks", true);
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("<Code>SignatureDoesNotMatch</Code>");
    await expect(
      s3(rig.endpoint).send(new HeadObjectCommand({ Bucket: "bucket-1", Key: "tampered-chunks" })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it("serves a presigned GET, signed in the query", async () => {
    await s3(rig.endpoint).send(
      new PutObjectCommand({ Bucket: "bucket-1", Key: "shared", Body: "presigned body" }),
    );
    const url = new URL("/bucket-1/shared", rig.endpoint);
    const presigned = await presignS3Get(url);
    const res = await fetch(presigned);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("presigned body");

    const tampered = await fetch(presigned.replace(/X-Amz-Signature=[0-9a-f]{4}/, "X-Amz-Signature=0000"));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
  });

  it("refuses a wrong secret and an unknown key with S3's own errors, and records neither", async () => {
    const before = (await eventNames(rig.endpoint)).length;
    await expect(
      s3(rig.endpoint, { accessKeyId: "test", secretAccessKey: "wrong" }).send(new ListBucketsCommand({})),
    ).rejects.toMatchObject({ name: "SignatureDoesNotMatch", $metadata: { httpStatusCode: 403 } });
    await expect(
      s3(rig.endpoint, { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" }).send(new ListBucketsCommand({})),
    ).rejects.toMatchObject({ name: "InvalidAccessKeyId", $metadata: { httpStatusCode: 403 } });
    expect((await eventNames(rig.endpoint)).length).toBe(before);
  });

  it("leaves no record and no object when the client goes away mid-upload", async () => {
    const puts = (records: Record<string, unknown>[]) =>
      records.filter((r) => r.eventName === "PutObject").length;
    const putsBefore = puts(await delivered());
    const url = new URL("/bucket-1/half", rig.endpoint);
    const length = 8 * 1024 * 1024;
    const headers = await signS3(url, "PUT", {
      "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
      "content-length": String(length),
    });
    await new Promise<void>((resolve) => {
      const req = request(url, { method: "PUT", headers });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(1024 * 1024), () => {
        setImmediate(() => {
          req.destroy();
          resolve();
        });
      });
    });
    // the proxy has seen the close once a later request on another connection is answered
    await expect(
      s3(rig.endpoint).send(new HeadObjectCommand({ Bucket: "bucket-1", Key: "half" })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const records = await delivered();
    expect(records.some((r) => r.eventName === "CreateBucket")).toBe(true);
    expect(puts(records)).toBe(putsBefore);
    expect(putsBefore).toBeGreaterThan(0);
  });
});

describe("the trail's selectors choose among proxied records", () => {
  it("delivers PutObject into bucket-1 and not into bucket-2 (the seed's example)", async () => {
    const client = s3(rig.endpoint);
    await client.send(new CreateBucketCommand({ Bucket: "bucket-2" }));
    await client.send(new PutObjectCommand({ Bucket: "bucket-1", Key: "selected", Body: "1" }));
    await client.send(new PutObjectCommand({ Bucket: "bucket-2", Key: "not-selected", Body: "2" }));
    const puts = (await delivered()).filter((r) => r.eventName === "PutObject");
    const keys = puts.map((r) => (r.requestParameters as { key?: string } | null)?.key);
    expect(keys).toContain("selected");
    expect(keys).not.toContain("not-selected");
    const put = puts.find((r) => (r.requestParameters as { key?: string }).key === "selected")!;
    expect(put).toMatchObject({
      eventSource: "s3.amazonaws.com",
      eventCategory: "Data",
      managementEvent: false,
      userIdentity: { type: "IAMUser", accessKeyId: "test" },
    });
  });
});

describe("an unreachable upstream", () => {
  it("answers S3's 503 ServiceUnavailable and keeps serving", async () => {
    const port = await freePort();
    const server = await startTestServer({
      upstreams: { default: `http://127.0.0.1:${port}`, services: {} },
    });
    try {
      await expect(s3(server.url).send(new ListBucketsCommand({}))).rejects.toMatchObject({
        name: "ServiceUnavailable",
        $metadata: { httpStatusCode: 503 },
      });
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      // the client saw the service fail: the call is recorded with that error, as AWS records failed calls
      const found = await trail(server.url).lookupEvents({});
      const failed = (found.Events ?? []).find((e) => e.EventName === "ListBuckets");
      expect(JSON.parse(failed?.CloudTrailEvent ?? "{}")).toMatchObject({ errorCode: "ServiceUnavailable" });
    } finally {
      await server.close();
    }
  });
});
