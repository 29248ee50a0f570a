import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
  NoSuchKey,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isS3Request } from "../../src/http/s3-routing.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** The local buckets through the S3 read API on the API's endpoint: the official S3 client and the AWS CLI. */

const run = promisify(execFile);
const BUCKET = "local-s3-bucket";
let server: TestServer;
let s3: S3Client;
let home: string;

function cli(...args: string[]) {
  return run("python3", ["-m", "awscli", ...args, "--endpoint-url", server.url], {
    env: {
      PATH: process.env.PATH,
      HOME: home,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_DEFAULT_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
    },
  });
}

beforeAll(async () => {
  server = await startTestServer({ ingestWorkers: 0 });
  home = mkdtempSync(join(tmpdir(), "opentrail-s3cli-"));
  s3 = new S3Client({
    endpoint: server.url,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  server.createBucket(BUCKET);
  const keys = ["a/1.json", "a/2.json", "a/b/3.json", "c.json", "d e+%.json"];
  for (const [i, key] of keys.entries()) {
    await server.app.objects.putObject(BUCKET, key, Buffer.from(`{"n":${i}}`), {
      contentType: "application/json",
      metadata: { signature: `sig${i}` },
    });
  }
});

afterAll(async () => {
  s3.destroy();
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

describe("the S3 read API (@aws-sdk/client-s3, path-style)", () => {
  it("lists buckets, and a bucket's location", async () => {
    const { Buckets } = await s3.send(new ListBucketsCommand({}));
    expect(Buckets?.map((b) => b.Name)).toEqual([BUCKET]);
    const { LocationConstraint } = await s3.send(new GetBucketLocationCommand({ Bucket: BUCKET }));
    expect(LocationConstraint ?? "").toBe("");
  });

  it("lists keys with prefix, delimiter, start-after and pages", async () => {
    const all = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(all.Contents?.map((c) => c.Key)).toEqual([
      "a/1.json",
      "a/2.json",
      "a/b/3.json",
      "c.json",
      "d e+%.json",
    ]);
    expect(all.Contents?.[0]).toMatchObject({ Size: 7, ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
    const folders = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: "/" }));
    expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/"]);
    expect(folders.Contents?.map((c) => c.Key)).toEqual(["c.json", "d e+%.json"]);
    const inA = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "a/", Delimiter: "/" }));
    expect(inA.Contents?.map((c) => c.Key)).toEqual(["a/1.json", "a/2.json"]);
    expect(inA.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["a/b/"]);
    const after = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, StartAfter: "a/b/3.json" }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(["c.json", "d e+%.json"]);

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 2, Delimiter: "/", ContinuationToken: token }),
      );
      paged.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
        ...(page.Contents ?? []).map((c) => c.Key!),
      );
      expect(page.KeyCount).toBeLessThanOrEqual(2);
      token = page.NextContinuationToken;
    } while (token !== undefined);
    expect(paged).toEqual(["a/", "c.json", "d e+%.json"]);
  });

  it("gets and heads an object with its metadata, whole or a range", async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "d e+%.json" }));
    expect(await got.Body?.transformToString()).toBe('{"n":4}');
    expect(got).toMatchObject({
      ContentType: "application/json",
      Metadata: { signature: "sig4" },
      ContentLength: 7,
    });
    const part = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "c.json", Range: "bytes=1-4" }));
    expect(await part.Body?.transformToString()).toBe('"n":');
    expect(part.ContentRange).toBe("bytes 1-4/7");
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "a/1.json" }));
    expect(head).toMatchObject({ ContentLength: 7, Metadata: { signature: "sig0" } });
    expect(head.LastModified).toBeInstanceOf(Date);
  });

  it("answers S3's errors: NoSuchKey, NoSuchBucket, InvalidRange, BucketAlreadyOwnedByYou", async () => {
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "nope" }))).rejects.toBeInstanceOf(
      NoSuchKey,
    );
    await expect(s3.send(new ListObjectsV2Command({ Bucket: "no-such-bucket" }))).rejects.toBeInstanceOf(
      NoSuchBucket,
    );
    await expect(
      s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: "c.json", Range: "bytes=50-60" })),
    ).rejects.toMatchObject({ name: "InvalidRange", $metadata: { httpStatusCode: 416 } });
    await s3.send(new CreateBucketCommand({ Bucket: "made-by-sdk" }));
    await expect(s3.send(new CreateBucketCommand({ Bucket: "made-by-sdk" }))).rejects.toMatchObject({
      name: "BucketAlreadyOwnedByYou",
    });
    await expect(s3.send(new CreateBucketCommand({ Bucket: "Bad_Name" }))).rejects.toMatchObject({
      name: "InvalidBucketName",
    });
  });

  it("refuses a wrong secret and an unknown key as S3 does", async () => {
    const wrong = new S3Client({
      endpoint: server.url,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "test", secretAccessKey: "wrong" },
    });
    const unknown = new S3Client({
      endpoint: server.url,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
    });
    try {
      await expect(wrong.send(new ListBucketsCommand({}))).rejects.toMatchObject({
        name: "SignatureDoesNotMatch",
        $metadata: { httpStatusCode: 403 },
      });
      await expect(unknown.send(new ListBucketsCommand({}))).rejects.toMatchObject({
        name: "InvalidAccessKeyId",
      });
    } finally {
      wrong.destroy();
      unknown.destroy();
    }
    const anonymous = await fetch(`${server.url}/${BUCKET}/c.json`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain("<Code>AccessDenied</Code>");
  });
});

describe("the AWS CLI on the one endpoint", () => {
  it("aws s3 mb, aws s3 ls and aws s3 cp", async () => {
    expect((await cli("s3", "mb", "s3://made-by-cli")).stdout).toContain("make_bucket: made-by-cli");
    const buckets = (await cli("s3", "ls")).stdout;
    expect(buckets).toMatch(/ local-s3-bucket\n/);
    expect(buckets).toMatch(/ made-by-cli\n/);
    const listing = (await cli("s3", "ls", "--recursive", `s3://${BUCKET}/`)).stdout;
    expect(
      listing
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/).slice(3).join(" ")),
    ).toEqual(["a/1.json", "a/2.json", "a/b/3.json", "c.json", "d e+%.json"]);
    await cli("s3", "cp", "--recursive", `s3://${BUCKET}/`, join(home, "copy"));
    expect(readFileSync(join(home, "copy", "a", "b", "3.json"), "utf8")).toBe('{"n":2}');
    expect(readFileSync(join(home, "copy", "d e+%.json"), "utf8")).toBe('{"n":4}');
  });
});

describe("isS3Request", () => {
  const own = new Set(["POST /", "GET /health", "GET /metrics"]);
  const signed = (service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=test/20261203/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`,
  });
  it("goes by the signing name, else by S3's path-style shapes", () => {
    expect(isS3Request("GET", "/health", signed("s3"), own)).toBe(true);
    expect(isS3Request("POST", "/", signed("cloudtrail"), own)).toBe(false);
    expect(isS3Request("GET", "/", {}, own)).toBe(true);
    expect(isS3Request("GET", "/health", {}, own)).toBe(false);
    expect(isS3Request("PUT", "/bucket", {}, own)).toBe(true);
    expect(isS3Request("PUT", "/bucket/key", {}, own)).toBe(false);
    expect(
      isS3Request("GET", "/b/k?X-Amz-Credential=test%2F20261203%2Fus-east-1%2Fs3%2Faws4_request", {}, own),
    ).toBe(true);
  });
});
