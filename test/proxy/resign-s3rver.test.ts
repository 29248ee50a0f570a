import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_KEY, presignS3Get, REGION } from "../support/proxy.ts";
import { type S3TestServer, startS3rver } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * s3rver checks every signature against its own key (S3RVER/S3RVER): the proxy verifies the
 * client's signature with opentrail's key and forwards the request signed again with the
 * upstream's key from the configuration.
 */

let upstream: S3TestServer;
let server: TestServer;
const clients: S3Client[] = [];

function s3(credentials = DEV_KEY): S3Client {
  const c = new S3Client({
    endpoint: server.url,
    region: REGION,
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  upstream = await startS3rver();
  server = await startTestServer({
    upstreams: { default: "http://127.0.0.1:1", services: { s3: upstream.endpoint } },
    upstreamCredentials: upstream.credentials,
  });
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  await upstream?.stop();
});

describe("re-signing for s3rver", () => {
  it("creates, puts, lists and gets through the proxy signed with the client's key", async () => {
    const client = s3();
    await client.send(new CreateBucketCommand({ Bucket: "resigned" }));
    await client.send(new PutObjectCommand({ Bucket: "resigned", Key: "k 1", Body: "resigned body" }));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: "resigned" }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(["k 1"]);
    const got = await client.send(new GetObjectCommand({ Bucket: "resigned", Key: "k 1" }));
    expect(await got.Body!.transformToString()).toBe("resigned body");
  });

  it("re-presigns a presigned GET", async () => {
    const url = new URL("/resigned/k%201", server.url);
    const res = await fetch(await presignS3Get(url));
    expect(await res.text()).toBe("resigned body");
    expect(res.status).toBe(200);
  });

  it("is needed: without the upstream's key, s3rver refuses the client's signature", async () => {
    const plain = await startTestServer({ upstreams: { services: { s3: upstream.endpoint } } });
    try {
      const c = new S3Client({
        endpoint: plain.url,
        region: REGION,
        credentials: DEV_KEY,
        forcePathStyle: true,
        maxAttempts: 1,
      });
      clients.push(c);
      await expect(c.send(new ListObjectsV2Command({ Bucket: "resigned" }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 403 },
      });
    } finally {
      await plain.close();
    }
  });

  it("still refuses the client's wrong secret itself", async () => {
    await expect(
      s3({ accessKeyId: "test", secretAccessKey: "nope" }).send(
        new ListObjectsV2Command({ Bucket: "resigned" }),
      ),
    ).rejects.toMatchObject({
      name: "SignatureDoesNotMatch",
    });
  });
});
