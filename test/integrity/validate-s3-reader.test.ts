import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { text } from "node:stream/consumers";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseListPage, s3Reader, xmlText } from "../../src/adapters/s3/reader.ts";
import { type ObjectReader, ObjectStoreError } from "../../src/ports/index.ts";
import { createBucket, type S3TestServer, s3Client, startMoto } from "../support/s3-servers.ts";
import { startS3rverProcess } from "./validate-s3rver.ts";

/**
 * The validator's SDK-free S3 reader against moto and s3rver: listing page by page, metadata,
 * missing keys and buckets. Neither server checks a SigV4 signature, so a recording server checks
 * that the requests arrive as the SDK sends them and that their signatures hold.
 */

const BUCKET = "ot-reader";
// S3 lists in UTF-8 byte order; these are in it, and each needs escaping in a path or XML
const KEYS = [
  "AWSLogs/1/a b+c&d.json.gz",
  "AWSLogs/1/plain.json.gz",
  "AWSLogs/1/x(1)!*'~.json.gz",
  "AWSLogs/2/<tag>.json.gz",
  "AWSLogs/2/=;,$@:.json.gz",
  "AWSLogs/2/\u00e9t\u00e9.json.gz",
  "AWSLogs/2/\u{1f600}.json.gz",
];

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out;
}

const servers = [
  { name: "moto", start: startMoto },
  { name: "s3rver", start: startS3rverProcess },
] as const;

describe.each(servers)("s3Reader on $name", ({ name, start }) => {
  let s3: S3TestServer;
  let sdk: S3Client;
  let reader: ObjectReader;

  beforeAll(async () => {
    s3 = await start();
    sdk = s3Client(s3);
    await createBucket(s3, BUCKET);
    for (const key of KEYS) {
      await sdk.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: `body of ${key}`,
          Metadata: { signature: `sig-${KEYS.indexOf(key)}`, "signature-algorithm": "SHA256withRSA" },
        }),
      );
    }
    reader = s3Reader({ ...s3, forcePathStyle: true, concurrency: 4, maxKeys: 2 });
  }, 60_000);

  afterAll(async () => {
    await reader?.close();
    sdk?.destroy();
    await s3?.stop();
  });

  test("lists every key in order across pages of two", async () => {
    expect(await collect(reader.listKeys(BUCKET, ""))).toEqual(KEYS);
  });

  test("lists under a prefix and after a key", async () => {
    expect(await collect(reader.listKeys(BUCKET, "AWSLogs/2/"))).toEqual(KEYS.slice(3));
    expect(await collect(reader.listKeys(BUCKET, "AWSLogs/", KEYS[1]))).toEqual(KEYS.slice(2));
    expect(await collect(reader.listKeys(BUCKET, "AWSLogs/3/"))).toEqual([]);
  });

  test("lists more than 1,000 keys at the server's page size", async () => {
    const many = Array.from({ length: 1_003 }, (_, i) => `many/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < many.length; i += 50) {
      await Promise.all(
        many
          .slice(i, i + 50)
          .map((Key) => sdk.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: "x" }))),
      );
    }
    const wide = s3Reader({ ...s3, forcePathStyle: true, concurrency: 4 });
    try {
      expect(await collect(wide.listKeys(BUCKET, "many/"))).toEqual(many);
    } finally {
      await wide.close();
    }
  }, 60_000);

  test("reads a body and its signature metadata, by whole object and as a stream", async () => {
    for (const [i, key] of KEYS.entries()) {
      const got = await reader.getObject(BUCKET, key);
      expect(got?.body.toString("utf8")).toBe(`body of ${key}`);
      expect(got?.metadata).toEqual({ signature: `sig-${i}`, "signature-algorithm": "SHA256withRSA" });
      const stream = await reader.openObject(BUCKET, key);
      expect(stream && (await text(stream))).toBe(`body of ${key}`);
    }
  });

  test("a missing key is undefined", async () => {
    expect(await reader.getObject(BUCKET, "AWSLogs/1/gone.json.gz")).toBeUndefined();
    expect(await reader.openObject(BUCKET, "AWSLogs/1/gone.json.gz")).toBeUndefined();
  });

  test("a bucket that does not exist is NoSuchBucket", async () => {
    const noBucket = { name: "ObjectStoreError", code: "NoSuchBucket" };
    await expect(collect(reader.listKeys("ot-reader-none", ""))).rejects.toMatchObject(noBucket);
    await expect(reader.getObject("ot-reader-none", "k")).rejects.toMatchObject(noBucket);
    await expect(reader.openObject("ot-reader-none", "k")).rejects.toMatchObject(noBucket);
  });

  test.runIf(name === "s3rver")("a refused access key is an error with the server's code", async () => {
    const wrong = s3Reader({
      ...s3,
      credentials: { accessKeyId: "NOBODY", secretAccessKey: "S3RVER" },
      forcePathStyle: true,
      concurrency: 1,
    });
    try {
      const refused = wrong.getObject(BUCKET, KEYS[0]!);
      await expect(refused).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(refused).rejects.toMatchObject({ code: "InvalidAccessKeyId" });
    } finally {
      await wrong.close();
    }
  });

  test.runIf(name === "moto")("addresses a bucket by host name when path style is off", async () => {
    // the SDK keeps an IP endpoint path-style; a name is needed for the bucket to go into the host
    const byHost = s3Reader({
      ...s3,
      endpoint: s3.endpoint.replace("127.0.0.1", "localhost"),
      forcePathStyle: false,
      concurrency: 1,
    });
    try {
      expect(await collect(byHost.listKeys(BUCKET, "AWSLogs/1/"))).toEqual(KEYS.slice(0, 3));
      expect((await byHost.getObject(BUCKET, KEYS[0]!))?.metadata.signature).toBe("sig-0");
      expect(await byHost.getObject(BUCKET, "AWSLogs/1/gone.json.gz")).toBeUndefined();
    } finally {
      await byHost.close();
    }
  });
});

describe("ListObjectsV2 answers", () => {
  test("keys come only from <Contents>, with XML escapes undone", () => {
    const xml =
      "<ListBucketResult><Name>b</Name><Prefix>a&amp;b</Prefix><IsTruncated>true</IsTruncated>" +
      "<Contents><Key>a&amp;b&lt;c&#62;&#x41;</Key><Size>1</Size></Contents>" +
      "<Contents><Key>plain</Key></Contents>" +
      "<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";
    expect(parseListPage(xml)).toEqual({ keys: ["a&b<c>A", "plain"], truncated: true, token: "tok+/=" });
    expect(parseListPage("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>")).toEqual({
      keys: [],
      truncated: false,
    });
    expect(xmlText("&quot;&apos;&unknown;")).toBe("\"'&unknown;");
  });
});

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
const strict = (v: string) =>
  encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 for S3 recomputed from the request as it arrived, written apart from the signer under test. */
function signatureHolds(req: IncomingMessage, secret: string): boolean {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(
    String(req.headers.authorization),
  );
  if (!auth) return false;
  const [, credential, signedHeaders, signature] = auth as unknown as [string, string, string, string];
  const [, date, region, service] = credential.split("/") as [string, string, string, string];
  const url = req.url!;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = (q < 0 ? [] : url.slice(q + 1).split("&"))
    .map((pair) => pair.split("=").map((part) => strict(decodeURIComponent(part))) as [string, string])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v ?? ""}`)
    .join("&");
  const names = signedHeaders.split(";");
  const headers = names.map((n) => `${n}:${String(req.headers[n]).trim()}\n`).join("");
  const canonical = ["GET", path, query, headers, signedHeaders, req.headers["x-amz-content-sha256"]].join(
    "\n",
  );
  const toSign = [
    "AWS4-HMAC-SHA256",
    req.headers["x-amz-date"],
    `${date}/${region}/${service}/aws4_request`,
    createHash("sha256").update(canonical).digest("hex"),
  ].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return names.includes("host") && hmac(key, toSign).toString("hex") === signature;
}

describe("requests on the wire", () => {
  test("paths are escaped as the SDK escapes them, and every signature holds", async () => {
    const seen: { url: string; host: string; holds: boolean }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url!, host: String(req.headers.host), holds: signatureHolds(req, "secret") });
      res.writeHead(404, { "content-type": "application/xml" });
      res.end("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const credentials = { accessKeyId: "AKID", secretAccessKey: "secret" };
    const sdk = new S3Client({
      endpoint,
      region: "eu-west-1",
      credentials,
      forcePathStyle: true,
      maxAttempts: 1,
    });
    const reader = s3Reader({
      endpoint,
      region: "eu-west-1",
      credentials,
      forcePathStyle: true,
      concurrency: 2,
    });
    try {
      for (const key of KEYS) {
        await sdk.send(new GetObjectCommand({ Bucket: BUCKET, Key: key })).catch(() => {});
        expect(await reader.getObject(BUCKET, key)).toBeUndefined();
      }
      await collect(reader.listKeys(BUCKET, "AWSLogs/a b&c=d", "AWSLogs/\u00e9")).catch(() => {});
      const path = (url: string) => url.split("?")[0];
      const ours = seen.filter((_, i) => i % 2 === 1 || i === seen.length - 1);
      expect(ours).toHaveLength(KEYS.length + 1);
      for (let i = 0; i < KEYS.length; i++) expect(path(seen[2 * i + 1]!.url)).toBe(path(seen[2 * i]!.url));
      expect(ours.map((r) => r.holds)).toEqual(ours.map(() => true));
      expect(seen.at(-1)!.url).toContain("start-after=AWSLogs%2F%C3%A9");
    } finally {
      await reader.close();
      sdk.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
