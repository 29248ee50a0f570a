import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  TagResourceCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { cbor, dateToTag } from "@smithy/core/cbor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProxiedRequest } from "../../src/proxy/call.ts";
import { loadModelTable } from "../../src/proxy/models.ts";
import { createPlacer, type Placer } from "../../src/proxy/place.ts";
import { createCallRenderer, type ProxyCallRenderer } from "../../src/proxy/render.ts";
import { type Exchange, startTap, type Tap } from "./tap.ts";

/**
 * Placement of REST (S3 path-style and virtual-hosted, Lambda) and rpc-v2-cbor calls, from the
 * requests the official clients send. Virtual-hosted requests keep the Host the SDK signed
 * (`<bucket>.s3.<region>.amazonaws.com`) and are delivered to the tap, as a proxy in between sees them.
 */

const credentials = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "secret" };
let tap: Tap;
let placer: Placer;
let renderer: ProxyCallRenderer;

beforeAll(async () => {
  const table = loadModelTable();
  placer = createPlacer(table);
  renderer = createCallRenderer(table);
  tap = await startTap(undefined);
});
afterAll(async () => {
  await tap?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: any official client and command
type Client = { send(command: any): Promise<unknown>; destroy(): void; middlewareStack: any };

/** After signing, sends the request to the tap, keeping the Host the client signed. */
function toTap(client: Client): Client {
  const port = Number(new URL(tap.endpoint).port);
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: { request: Record<string, unknown> }) => {
      Object.assign(args.request, { protocol: "http:", hostname: "127.0.0.1", port });
      return next(args);
    },
    { step: "deserialize", name: "toTap" },
  );
  return client;
}

async function sent(client: Client, command: unknown): Promise<Exchange> {
  await client.send(command).catch(() => undefined);
  client.destroy();
  const exchanges = tap.take();
  expect(exchanges.length).toBeGreaterThan(0);
  return exchanges[0]!;
}

async function placeOf(client: Client, command: unknown) {
  const { req } = await sent(client, command);
  const { service, operation, protocol } = placer.place(req);
  return { service, operation, protocol };
}

const pathStyle = () =>
  new S3Client({
    endpoint: tap.endpoint,
    region: "eu-west-1",
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  }) as unknown as Client;
const virtualHost = () =>
  toTap(new S3Client({ region: "eu-west-1", credentials, maxAttempts: 1 }) as unknown as Client);

const S3_CALLS: [string, unknown][] = [
  ["CreateBucket", new CreateBucketCommand({ Bucket: "bucket-1" })],
  ["PutObject", new PutObjectCommand({ Bucket: "bucket-1", Key: "a/b c.txt", Body: "x" })],
  ["GetObject", new GetObjectCommand({ Bucket: "bucket-1", Key: "a/b c.txt" })],
  ["HeadObject", new HeadObjectCommand({ Bucket: "bucket-1", Key: "k" })],
  ["DeleteObject", new DeleteObjectCommand({ Bucket: "bucket-1", Key: "k" })],
  ["ListObjectsV2", new ListObjectsV2Command({ Bucket: "bucket-1", Prefix: "a/" })],
  ["CreateMultipartUpload", new CreateMultipartUploadCommand({ Bucket: "bucket-1", Key: "big" })],
  [
    "UploadPart",
    new UploadPartCommand({ Bucket: "bucket-1", Key: "big", UploadId: "u1", PartNumber: 1, Body: "x" }),
  ],
  [
    "CompleteMultipartUpload",
    new CompleteMultipartUploadCommand({
      Bucket: "bucket-1",
      Key: "big",
      UploadId: "u1",
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: "e" }] },
    }),
  ],
  ["CopyObject", new CopyObjectCommand({ Bucket: "bucket-1", Key: "copy", CopySource: "bucket-1/k" })],
  ["DeleteObjects", new DeleteObjectsCommand({ Bucket: "bucket-1", Delete: { Objects: [{ Key: "k" }] } })],
  [
    "PutBucketTagging",
    new PutBucketTaggingCommand({ Bucket: "bucket-1", Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }),
  ],
  ["GetBucketLocation", new GetBucketLocationCommand({ Bucket: "bucket-1" })],
];

describe("placement: S3 (rest-xml)", () => {
  it.each(S3_CALLS)("path-style %s", async (operation, command) => {
    expect(await placeOf(pathStyle(), command)).toEqual({ service: "s3", operation, protocol: "rest-xml" });
  });

  it.each(S3_CALLS)("virtual-hosted %s", async (operation, command) => {
    expect(await placeOf(virtualHost(), command)).toEqual({ service: "s3", operation, protocol: "rest-xml" });
  });

  it("ListBuckets has no bucket in the Host or the path", async () => {
    expect(await placeOf(virtualHost(), new ListBucketsCommand({}))).toEqual({
      service: "s3",
      operation: "ListBuckets",
      protocol: "rest-xml",
    });
  });

  it("bucket and key come from the Host (virtual-hosted) or the path, keys decoded once", async () => {
    for (const client of [pathStyle(), virtualHost()]) {
      const { req, answer } = await sent(
        client,
        new PutObjectCommand({ Bucket: "bucket-1", Key: "a/b c%.txt", Body: "x" }),
      );
      const r = renderer.render(renderer.place(req), req, answer, { accountId: "123456789012" });
      expect(r?.requestParameters).toMatchObject({
        bucketName: "bucket-1",
        key: "a/b c%.txt",
        "x-id": "PutObject",
      });
      expect(r?.resources?.[0]).toEqual({ type: "AWS::S3::Object", ARN: "arn:aws:s3:::bucket-1/a/b c%.txt" });
    }
  });

  it("S3 Host forms: AWS's, local bases, and IP or localhost as path-style", () => {
    const req = (host: string, path: string): ProxiedRequest => ({
      method: "GET",
      path,
      query: "",
      headers: { host },
      body: undefined,
      region: "us-east-1",
      signingName: "s3",
    });
    const p = (host: string, path: string) => {
      const r = renderer.render(renderer.place(req(host, path)), req(host, path), {
        status: 200,
        headers: {},
        body: undefined,
      });
      return [r?.eventName, r?.requestParameters?.bucketName, r?.requestParameters?.key];
    };
    expect(p("bkt.s3.amazonaws.com", "/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("bkt.s3.eu-west-1.amazonaws.com", "/k/l")).toEqual(["GetObject", "bkt", "k/l"]);
    expect(p("bkt.s3-eu-west-1.amazonaws.com", "/")).toEqual(["ListObjects", "bkt", undefined]);
    expect(p("s3.eu-west-1.amazonaws.com", "/bkt/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("127.0.0.1:4569", "/bkt/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("localhost:4566", "/bkt/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("bkt.localhost:4566", "/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("s3.localhost.localstack.cloud:4566", "/bkt/k")).toEqual(["GetObject", "bkt", "k"]);
    expect(p("my.dotted.bucket.s3.amazonaws.com", "/k")).toEqual(["GetObject", "my.dotted.bucket", "k"]);
  });

  it("an unsigned GET (public object) is S3's", () => {
    const req: ProxiedRequest = {
      method: "GET",
      path: "/bkt/k",
      query: "",
      headers: { host: "127.0.0.1:4569" },
      body: undefined,
      region: "us-east-1",
      signingName: undefined,
    };
    expect(placer.place(req)).toMatchObject({ service: "s3", operation: "GetObject" });
  });

  it("a denied S3 call keeps its parameters; an anonymous one has no signature fields", () => {
    const req: ProxiedRequest = {
      method: "GET",
      path: "/bkt",
      query: "list-type=2&encoding-type=url&prefix=",
      headers: { host: "s3.amazonaws.com" },
      body: undefined,
      region: "us-east-1",
      signingName: undefined,
    };
    const denied = renderer.render(renderer.place(req), req, {
      status: 403,
      headers: { "x-amz-id-2": "id2" },
      body: new TextEncoder().encode(
        "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
      ),
    });
    expect(denied).toMatchObject({
      eventName: "ListObjects",
      error: { code: "AccessDenied", message: "Access Denied" },
    });
    expect(denied?.requestParameters).toEqual({
      bucketName: "bkt",
      Host: "s3.amazonaws.com",
      "list-type": "2",
      "encoding-type": "url",
      prefix: "",
    });
    expect(denied?.additionalEventData).toEqual({
      bytesTransferredIn: 0,
      "x-amz-id-2": "id2",
      bytesTransferredOut: 72,
    });
  });

  it("S3 Control is told apart by its path", () => {
    const req: ProxiedRequest = {
      method: "GET",
      path: "/v20180820/configuration/publicAccessBlock",
      query: "",
      headers: {
        host: "123456789012.s3-control.us-east-1.amazonaws.com",
        "x-amz-account-id": "123456789012",
      },
      body: undefined,
      region: "us-east-1",
      signingName: "s3",
    };
    expect(placer.place(req)).toMatchObject({ service: "s3control", operation: "GetPublicAccessBlock" });
    const r = renderer.render(renderer.place(req), req, { status: 200, headers: {}, body: undefined });
    expect(r).toMatchObject({ eventSource: "s3.amazonaws.com", eventName: "GetAccountPublicAccessBlock" });
  });

  it("object bodies are streamed, not kept; XML configuration bodies are kept", async () => {
    const put = await sent(pathStyle(), new PutObjectCommand({ Bucket: "bucket-1", Key: "k", Body: "x" }));
    expect(renderer.keepsRequestBody(put.req)).toBe(false);
    const tagging = await sent(
      pathStyle(),
      new PutBucketTaggingCommand({ Bucket: "bucket-1", Tagging: { TagSet: [{ Key: "k", Value: "v" }] } }),
    );
    expect(renderer.keepsRequestBody(tagging.req)).toBe(true);
    const get = await sent(pathStyle(), new GetObjectCommand({ Bucket: "bucket-1", Key: "k" }));
    const placed = renderer.place(get.req);
    expect(renderer.keepsResponseBody(placed, { status: 200, headers: {} })).toBe(false);
    expect(renderer.keepsResponseBody(placed, { status: 404, headers: {} })).toBe(true);
  });
});

describe("placement: Lambda (rest-json)", () => {
  const lambda = () =>
    new LambdaClient({
      endpoint: tap.endpoint,
      region: "eu-west-1",
      credentials,
      maxAttempts: 1,
    }) as unknown as Client;
  it.each([
    [
      "CreateFunction",
      new CreateFunctionCommand({
        FunctionName: "f",
        Role: "arn:aws:iam::1:role/r",
        Code: { ZipFile: new Uint8Array([1]) },
      }),
    ],
    ["Invoke", new InvokeCommand({ FunctionName: "f", Payload: new TextEncoder().encode("{}") })],
    ["GetFunction", new GetFunctionCommand({ FunctionName: "f" })],
    ["ListFunctions", new ListFunctionsCommand({})],
    [
      "AddPermission",
      new AddPermissionCommand({
        FunctionName: "f",
        StatementId: "s",
        Action: "lambda:InvokeFunction",
        Principal: "s3.amazonaws.com",
      }),
    ],
    [
      "TagResource",
      new TagResourceCommand({ Resource: "arn:aws:lambda:eu-west-1:1:function:f", Tags: { a: "b" } }),
    ],
    [
      "UpdateFunctionConfiguration",
      new UpdateFunctionConfigurationCommand({
        FunctionName: "f",
        Environment: { Variables: { SECRET: "s" } },
        Layers: ["l"],
      }),
    ],
  ])("%s", async (operation, command) => {
    expect(await placeOf(lambda(), command)).toEqual({ service: "lambda", operation, protocol: "rest-json" });
  });

  it("records Lambda's versioned names, leave secrets out, and make Invoke a data event", async () => {
    const update = await sent(
      lambda(),
      new UpdateFunctionConfigurationCommand({
        FunctionName: "f",
        Environment: { Variables: { SECRET: "s" } },
        Layers: ["l"],
      }),
    );
    const u = renderer.render(renderer.place(update.req), update.req, update.answer, {
      accountId: "123456789012",
    });
    expect(u).toMatchObject({ eventName: "UpdateFunctionConfiguration20150331v2", readOnly: false });
    expect(u?.requestParameters).toEqual({ environment: {}, functionName: "f", layers: ["l"] });
    const create = await sent(
      lambda(),
      new CreateFunctionCommand({ FunctionName: "f", Role: "r", Code: { ZipFile: new Uint8Array([1]) } }),
    );
    const c = renderer.render(renderer.place(create.req), create.req, create.answer);
    expect(c?.eventName).toBe("CreateFunction20150331");
    expect(c?.requestParameters).toEqual({ code: {}, functionName: "f", role: "r" });
    const invoke = await sent(
      lambda(),
      new InvokeCommand({ FunctionName: "f", Payload: new TextEncoder().encode("{}") }),
    );
    const i = renderer.render(renderer.place(invoke.req), invoke.req, invoke.answer, {
      accountId: "123456789012",
    });
    expect(i).toMatchObject({ eventName: "Invoke", category: "Data", responseElements: null });
    expect(i?.requestParameters).toEqual({ functionName: "f" });
    expect(i?.resources).toEqual([
      {
        accountId: "123456789012",
        type: "AWS::Lambda::Function",
        ARN: "arn:aws:lambda:eu-west-1:123456789012:function:f",
      },
    ]);
  });
});

describe("placement: CloudWatch, json through botocore and rpc-v2-cbor", () => {
  it("botocore 1.43 sends CloudWatch calls as json (X-Amz-Target), which places them", async () => {
    const script = fileURLToPath(new URL("./golden_calls.py", import.meta.url));
    const calls = [
      {
        index: 0,
        service: "cloudwatch",
        operation: "PutMetricData",
        region: "eu-west-1",
        params: { Namespace: "ns", MetricData: [{ MetricName: "m", Value: 1 }] },
      },
      {
        index: 1,
        service: "cloudwatch",
        operation: "ListMetrics",
        region: "eu-west-1",
        params: { Namespace: "ns" },
      },
    ];
    await new Promise<void>((resolve, reject) => {
      const child = execFile("python3", [script], { timeout: 60_000 }, (e) => (e ? reject(e) : resolve()));
      child.stdin?.end(JSON.stringify({ endpoint: tap.endpoint, calls }));
    });
    const exchanges = tap.take();
    expect(exchanges.map(({ req }) => placer.place(req))).toMatchObject([
      { service: "cloudwatch", operation: "PutMetricData" },
      { service: "cloudwatch", operation: "ListMetrics" },
    ]);
    const { req, answer } = exchanges[0]!;
    const r = renderer.render(renderer.place(req), req, { ...answer, status: 200 });
    expect(r).toMatchObject({
      eventSource: "monitoring.amazonaws.com",
      eventName: "PutMetricData",
      readOnly: false,
      requestParameters: { namespace: "ns", metricData: [{ metricName: "m", value: 1 }] },
    });
  });

  it("an rpc-v2-cbor request (body encoded with the SDK's CBOR codec) and its CBOR error", () => {
    const req: ProxiedRequest = {
      method: "POST",
      path: "/service/GraniteServiceVersion20100801/operation/PutMetricData",
      query: "",
      headers: {
        host: "monitoring.eu-west-1.amazonaws.com",
        "smithy-protocol": "rpc-v2-cbor",
        "content-type": "application/cbor",
      },
      body: cbor.serialize({
        Namespace: "ns",
        MetricData: [{ MetricName: "m", Value: 2.5, Timestamp: dateToTag(new Date(0)) }],
      }),
      region: "eu-west-1",
      signingName: "monitoring",
    };
    const placed = renderer.place(req);
    expect(placed).toEqual({
      service: "cloudwatch",
      operation: "PutMetricData",
      protocol: "smithy-rpc-v2-cbor",
    });
    expect(renderer.keepsRequestBody(req)).toBe(true);
    const ok = renderer.render(placed, req, { status: 200, headers: {}, body: new Uint8Array() });
    expect(ok?.requestParameters).toEqual({
      namespace: "ns",
      metricData: [{ metricName: "m", value: 2.5, timestamp: "Jan 1, 1970, 12:00:00 AM" }],
    });
    const failed = renderer.render(placed, req, {
      status: 400,
      headers: {},
      body: cbor.serialize({
        __type: "com.amazonaws.cloudwatch#InvalidParameterValueException",
        message: "bad",
      }),
    });
    expect(failed?.error).toEqual({ code: "InvalidParameterValueException", message: "bad" });
  });
});
