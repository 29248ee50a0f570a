import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { SignatureV4 } from "@smithy/signature-v4";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { principalFor } from "../../src/adapters/credentials.ts";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { httpClient } from "../../src/client/http.ts";
import { inProcessClient } from "../../src/client/in-process.ts";
import { type IngestProgress, ingestClient } from "../../src/client/ingest.ts";
import { type Config, type CredentialConfig, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import { NodeSha256 } from "../../src/wire/sigv4.ts";
import { builtCli } from "../support/built-cli.ts";
import { EVENT_TIME, eventById, loadCorpus, secondOf, UUID } from "../support/records.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * POST /ingest: CloudTrail log file bodies from other services, checked record by record, stored
 * all or nothing, idempotent per eventID, and given back unchanged by LookupEvents.
 */

const MAIN = "123456789012";
const CREDENTIALS: readonly CredentialConfig[] = [
  {
    accessKeyId: "AKIAINGESTMAIN",
    secretAccessKey: "main-secret",
    accountId: MAIN,
    type: "IAMUser",
    userName: "ingester",
  },
  {
    accessKeyId: "AKIAINGEST1111",
    secretAccessKey: "secret-1111",
    accountId: "111122223333",
    type: "IAMUser",
    userName: "anaya",
  },
  { accessKeyId: "AKIAINGEST8381", secretAccessKey: "secret-8381", accountId: "838185438692", type: "Root" },
];
const KEY = CREDENTIALS[0]!;
/** Small enough to cross cheaply, large enough for a record of 256 KB. */
const MAX_BODY = 1024 * 1024;
const REGION = "us-east-1";
const HOUR_MS = 3_600_000;

function credentialOf(accountId: string): CredentialConfig {
  const found = CREDENTIALS.find((c) => c.accountId === accountId);
  if (!found) throw new Error(`no credential for ${accountId}`);
  return found;
}

/** The server's configuration as a deployment would write it (credentials only via the file). */
function fileConfig(): Omit<Config, "dataDir"> {
  const dir = mkdtempSync(join(tmpdir(), "opentrail-ingest-config-"));
  try {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ credentials: CREDENTIALS, maxIngestBytes: MAX_BODY }));
    const { dataDir: _dataDir, ...config } = loadConfig({ flags: { config: file, port: 0 } });
    return config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

interface PostOptions {
  headers?: Record<string, string>;
  /** null: not signed at all. */
  credential?: CredentialConfig | null;
  region?: string;
}

/**
 * A POST /ingest signed as the ingest client signs it. node:http rather than fetch: a server that
 * answers 413 before reading drops the connection, which fetch reports as an error.
 */
async function post(url: string, body: Buffer | string, opts: PostOptions = {}): Promise<Answer> {
  const target = new URL("/ingest", url);
  const bytes = Buffer.from(body);
  let headers: Record<string, string> = {
    host: target.host,
    "content-type": "application/json",
    ...opts.headers,
  };
  const credential = opts.credential === undefined ? KEY : opts.credential;
  if (credential !== null) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: credential.accessKeyId, secretAccessKey: credential.secretAccessKey },
      region: opts.region ?? REGION,
      service: "cloudtrail",
      sha256: NodeSha256,
    });
    const signed = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      headers,
      body: bytes,
    });
    headers = signed.headers as Record<string, string>;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      target,
      { method: "POST", headers: { ...headers, "content-length": String(bytes.length) } },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) });
        });
      },
    );
    // the server may close while the body is still being written; only the answer counts
    req.on("error", (e) => {
      if (!answered) reject(e);
    });
    req.end(bytes);
  });
}

function batch(records: unknown[]): string {
  return JSON.stringify({ Records: records });
}

/** The same JSON document, grown to exactly `size` bytes with white space before its last brace. */
function paddedTo(json: string, size: number): Buffer {
  const body = Buffer.from(json);
  return Buffer.concat([body.subarray(0, -1), Buffer.alloc(size - body.length, " "), body.subarray(-1)]);
}

let counter = 0;
/** A management record with its own eventID, an hour or so old. */
function apiRecord(over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    eventVersion: "1.08",
    userIdentity: {
      type: "IAMUser",
      principalId: "AIDAEXAMPLE",
      arn: `arn:aws:iam::${MAIN}:user/pat`,
      accountId: MAIN,
      accessKeyId: "AKIAPAT",
      userName: "pat",
    },
    eventTime: secondOf(new Date(Date.now() - HOUR_MS - counter * 1000)),
    eventSource: "ec2.amazonaws.com",
    eventName: "RunInstances",
    awsRegion: REGION,
    sourceIPAddress: "203.0.113.5",
    userAgent: "ingest-test",
    requestParameters: { instanceType: "t3.micro" },
    responseElements: null,
    requestID: `req-${counter}`,
    eventID: `ingest-test-${counter}-${Math.random().toString(36).slice(2)}`,
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: MAIN,
    eventCategory: "Management",
    ...over,
  };
}

function expectRefused(answer: Answer, total: number, invalid: { index: number; reason: string }[]): void {
  expect(answer.status).toBe(400);
  expect(answer.headers["x-amzn-errortype"]).toBe("ValidationException");
  expect(answer.json).toStrictEqual({
    __type: "ValidationException",
    message: `${invalid.length} of ${total} records are invalid; nothing was stored`,
    invalidRecords: invalid,
  });
}

function expectError(answer: Answer, status: number, code: string, message: string | RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.json).toStrictEqual({
    __type: code,
    message: typeof message === "string" ? message : expect.stringMatching(message),
  });
}

let server: TestServer;
let api: CloudTrailApi & { client: { destroy(): void } };

beforeAll(async () => {
  server = await startTestServer(fileConfig());
  api = httpClient({
    endpoint: server.url,
    region: REGION,
    credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey },
    clientConfig: { maxAttempts: 1 },
  });
});

afterAll(async () => {
  api?.client.destroy();
  await server?.close();
});

async function lookupIds(eventId: string): Promise<string[]> {
  const found = await api.lookupEvents({
    LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: eventId }],
  });
  return (found.Events ?? []).map((e) => e.EventId!);
}

describe("a valid batch", () => {
  it("answers the stored ids in order; LookupEvents gives each record back as it was sent", async () => {
    const records = [
      apiRecord(),
      apiRecord({ eventName: "TerminateInstances" }),
      apiRecord({ readOnly: true }),
    ];
    const answer = await post(server.url, batch(records));
    expect(answer.status).toBe(200);
    expect(answer.headers["x-amzn-requestid"]).toMatch(UUID);
    expect(answer.json).toStrictEqual({ eventIds: records.map((r) => r.eventID), duplicates: [] });
    for (const sent of records) {
      const { event, record } = await eventById(api, sent.eventID as string);
      expect(event.CloudTrailEvent).toBe(JSON.stringify(sent));
      expect(record).toStrictEqual(sent);
      expect(event).toMatchObject({
        EventName: sent.eventName,
        EventSource: "ec2.amazonaws.com",
        ReadOnly: String(sent.readOnly),
        AccessKeyId: "AKIAPAT",
        Username: "pat",
        EventTime: new Date(sent.eventTime as string),
        Resources: [],
      });
    }
  });

  it("fills eventTime, awsRegion, eventID and recipientAccountId from the request, after the others", async () => {
    const sent = {
      eventVersion: "1.08",
      eventSource: "sqs.amazonaws.com",
      eventName: "SendMessage",
      eventType: "AwsApiCall",
    };
    const before = new Date(Math.floor(Date.now() / 1000) * 1000);
    const answer = await post(server.url, batch([sent]), { region: "eu-west-1" });
    expect(answer.status).toBe(200);
    const [eventId] = answer.json.eventIds as string[];
    expect(eventId).toMatch(UUID);
    const eu = httpClient({
      endpoint: server.url,
      region: "eu-west-1",
      credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey },
    });
    try {
      const { record } = await eventById(eu, eventId!);
      expect(Object.keys(record)).toEqual([
        ...Object.keys(sent),
        "eventTime",
        "awsRegion",
        "eventID",
        "recipientAccountId",
      ]);
      expect(record).toStrictEqual({
        ...sent,
        eventTime: expect.stringMatching(EVENT_TIME),
        awsRegion: "eu-west-1",
        eventID: eventId,
        recipientAccountId: MAIN,
      });
      const at = new Date(record.eventTime as string).getTime();
      expect(at).toBeGreaterThanOrEqual(before.getTime());
      expect(at).toBeLessThanOrEqual(Date.now());
    } finally {
      eu.client.destroy();
    }
    // the record is kept in the region it names, which here is the signing region
    expect(await lookupIds(eventId!)).toEqual([]);
  });

  it("keeps a compact record as the very text it was sent in, and writes a spaced one compact", async () => {
    const asSent = apiRecord({ eventName: "CreateBucket" });
    // valid JSON that JSON.stringify would write otherwise: an escaped letter, a number as 1.50
    const sentText = JSON.stringify(asSent)
      .replace('"CreateBucket"', '"Cre\\u0061teBucket"')
      .replace('"eventVersion":"1.08"', '"eventVersion":"1.08","weight":1.50');
    const spaced = apiRecord({ eventName: "DeleteBucket" });
    const body = `{ "Records" : [${sentText}, ${JSON.stringify(spaced, null, 2)}] }`;
    const answer = await post(server.url, body);
    expect(answer.status).toBe(200);
    const first = await eventById(api, asSent.eventID as string);
    expect(first.event.CloudTrailEvent).toBe(sentText);
    expect(first.event.EventName).toBe("CreateBucket");
    const second = await eventById(api, spaced.eventID as string);
    expect(second.event.CloudTrailEvent).toBe(JSON.stringify(spaced));
  });

  it("an empty Records list is a batch of nothing", async () => {
    const answer = await post(server.url, batch([]));
    expect([answer.status, answer.json]).toEqual([200, { eventIds: [], duplicates: [] }]);
  });
});

describe("bad records", () => {
  const wrongTypes: [string, unknown, string][] = [
    ["eventVersion", 1.08, "a string"],
    ["userIdentity", "alice", "an object"],
    ["eventTime", 1_700_000_000, "a string"],
    ["eventSource", ["ec2.amazonaws.com"], "a string"],
    ["eventName", null, "a string"],
    ["awsRegion", {}, "a string"],
    ["sourceIPAddress", 127, "a string"],
    ["userAgent", false, "a string"],
    ["errorCode", 403, "a string"],
    ["errorMessage", {}, "a string"],
    ["requestParameters", "name=x", "an object or null"],
    ["responseElements", [], "an object or null"],
    ["additionalEventData", null, "an object"],
    ["requestID", 7, "a string"],
    ["eventID", 42, "a string"],
    ["readOnly", "true", "a boolean"],
    ["resources", {}, "a list"],
    ["eventType", 1, "a string"],
    ["apiVersion", 2013, "a string"],
    ["recipientAccountId", 123456789012, "a string"],
    ["sharedEventID", true, "a string"],
    ["vpcEndpointId", [], "a string"],
    ["serviceEventDetails", "x", "an object"],
    ["managementEvent", 1, "a boolean"],
    ["eventCategory", null, "a string"],
    ["insightDetails", [], "an object"],
    ["addendum", "late", "an object"],
    ["sessionCredentialFromConsole", true, "a string"],
    ["edgeDeviceDetails", 0, "an object"],
    ["tlsDetails", "TLSv1.3", "an object"],
  ];
  const insight = { eventVersion: "1.07", eventType: "AwsCloudTrailInsight", eventCategory: "Insight" };
  const reasons: [string, unknown, string][] = [
    ["a number", 42, "record must be a JSON object"],
    ["a list", [apiRecord()], "record must be a JSON object"],
    ["null", null, "record must be a JSON object"],
    ...wrongTypes.map(([field, value, article]): [string, unknown, string] => [
      `${field} of the wrong type`,
      apiRecord({ [field]: value }),
      `${field} must be ${article}`,
    ]),
    [
      "a resource that is not an object",
      apiRecord({ resources: ["arn:aws:s3:::b"] }),
      "resources must be a list of objects",
    ],
    [
      "a resource ARN that is not a string",
      apiRecord({ resources: [{ ARN: 1 }] }),
      "resources[].ARN must be a string",
    ],
    [
      "a resource accountId that is not a string",
      apiRecord({ resources: [{ accountId: 1 }] }),
      "resources[].accountId must be a string",
    ],
    [
      "a resource type that is not a string",
      apiRecord({ resources: [{ type: null }] }),
      "resources[].type must be a string",
    ],
    ...[
      "2024-02-30T00:00:00Z",
      "2024-01-01T00:00:00.123Z",
      "2024-01-01 00:00:00Z",
      "2024-01-01T00:00:00+01:00",
      "",
    ].map((time): [string, unknown, string] => [
      `eventTime ${JSON.stringify(time)}`,
      apiRecord({ eventTime: time }),
      "eventTime must be a UTC time written YYYY-MM-DDTHH:MM:SSZ",
    ]),
    ...["1969-12-31T23:59:59Z", "2100-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"].map(
      (time): [string, unknown, string] => [
        `eventTime ${time}`,
        apiRecord({ eventTime: time }),
        "eventTime must fall in the years 1970 to 2099",
      ],
    ),
    ["an empty eventID", apiRecord({ eventID: "" }), "eventID must not be empty"],
    ...["i".repeat(2001), "_".repeat(1001), `${"x".repeat(1999)},`].map((id): [string, unknown, string] => [
      `an eventID of ${id.length} characters that LookupEvents could not look up`,
      apiRecord({ eventID: id }),
      "eventID must be at most 2000 characters long, where _, space, comma and newline count as two",
    ]),
    ["an insight without insightDetails", { ...insight }, "insightDetails is required"],
    [
      "an insight without insightDetails.eventName",
      { ...insight, insightDetails: { eventSource: "ec2.amazonaws.com" } },
      "insightDetails.eventName is required",
    ],
    [
      "an insight without insightDetails.eventSource",
      { ...insight, insightDetails: { eventName: "RunInstances", eventSource: "" } },
      "insightDetails.eventSource is required",
    ],
    ["a call without eventName", apiRecord({ eventName: undefined }), "eventName is required"],
    ["a call with an empty eventName", apiRecord({ eventName: "" }), "eventName is required"],
    ["a call without eventSource", apiRecord({ eventSource: undefined }), "eventSource is required"],
    [
      "an old record naming neither call nor caller",
      { eventVersion: "1.0", awsRegion: REGION },
      "eventName is required",
    ],
    [
      "a record for another account",
      apiRecord({ recipientAccountId: "999988887777" }),
      "record for another account",
    ],
    [
      "a record over 256 KB",
      apiRecord({ requestParameters: { blob: "x".repeat(256 * 1024) } }),
      "record larger than 256 KB",
    ],
  ];

  it.each(reasons)("refuses %s, and the good record beside it is not stored", async (_what, bad, reason) => {
    const good = apiRecord();
    const answer = await post(server.url, batch([good, bad]));
    expectRefused(answer, 2, [{ index: 1, reason }]);
    expect(await lookupIds(good.eventID as string)).toEqual([]);
  });

  it("lists every bad record of a batch by index, and stores none of the good ones", async () => {
    const good = [apiRecord(), apiRecord(), apiRecord()];
    const records = [
      good[0],
      7,
      good[1],
      apiRecord({ eventName: "" }),
      apiRecord({ readOnly: "no" }),
      good[2],
    ];
    expectRefused(await post(server.url, batch(records)), 6, [
      { index: 1, reason: "record must be a JSON object" },
      { index: 3, reason: "eventName is required" },
      { index: 4, reason: "readOnly must be a boolean" },
    ]);
    for (const record of good) expect(await lookupIds(record.eventID as string)).toEqual([]);
    // the same good records alone are taken
    const answer = await post(server.url, batch(good));
    expect(answer.json).toStrictEqual({ eventIds: good.map((r) => r.eventID), duplicates: [] });
  });

  it("takes the first and the last second of the years a record may claim", async () => {
    const edges = [
      apiRecord({ eventTime: "1970-01-01T00:00:00Z" }),
      apiRecord({ eventTime: "2099-12-31T23:59:59Z" }),
    ];
    const answer = await post(server.url, batch(edges));
    expect(answer.json).toMatchObject({ eventIds: edges.map((r) => r.eventID), duplicates: [] });
    expect((answer.json.warnings as { index: number }[]).map((w) => w.index)).toEqual([0, 1]);
  });

  it("stores records older than event history or dated ahead, and says so for each", async () => {
    const now = Date.now();
    const records = [
      apiRecord({ eventTime: secondOf(new Date(now - 91 * 24 * HOUR_MS)) }),
      apiRecord(),
      apiRecord({ eventTime: secondOf(new Date(now + HOUR_MS)) }),
      apiRecord({ eventTime: secondOf(new Date(now + 60_000)) }),
    ];
    const answer = await post(server.url, batch(records));
    expect(answer.status).toBe(200);
    expect(answer.json.eventIds).toEqual(records.map((r) => r.eventID));
    const warnings = answer.json.warnings as { index: number; reason: string }[];
    expect(warnings.map((w) => w.index)).toEqual([0, 2]);
    expect(warnings[0]!.reason).toBe(
      "eventTime is older than the 90 days of event history: stored, but LookupEvents does not find it and it is purged at the next retention pass",
    );
    expect(warnings[1]!.reason).toMatch(
      /^eventTime is 3[56]\d\d s ahead of the service's clock: stored, but LookupEvents finds it only once that time has come$/,
    );
    expect(await lookupIds(records[1]!.eventID as string)).toEqual([records[1]!.eventID]);
  });

  it("takes a record of the old form that says who acted but not what (as AWS's documentation shows one)", async () => {
    const sent = { eventVersion: "1.08", userIdentity: { type: "Root", accountId: MAIN } };
    const answer = await post(server.url, batch([sent]));
    const [eventId] = answer.json.eventIds as string[];
    const { event } = await eventById(api, eventId!);
    expect(event).toMatchObject({ EventId: eventId, Username: "root" });
  });

  it("refuses a record naming one account sent with another account's key", async () => {
    const other = credentialOf("111122223333");
    const mine = apiRecord({ recipientAccountId: MAIN });
    expectRefused(await post(server.url, batch([mine]), { credential: other }), 1, [
      { index: 0, reason: "record for another account" },
    ]);
  });
});

describe("duplicates", () => {
  it("one eventID twice in one batch is stored once", async () => {
    const record = apiRecord();
    const answer = await post(server.url, batch([record, record]));
    expect(answer.json).toStrictEqual({
      eventIds: [record.eventID, record.eventID],
      duplicates: [record.eventID],
    });
    expect(await lookupIds(record.eventID as string)).toEqual([record.eventID]);
  });

  it("a batch sent again is all duplicates, and a retry with one new record stores only that one", async () => {
    const records = [apiRecord(), apiRecord()];
    const first = await post(server.url, batch(records));
    expect(first.json).toStrictEqual({ eventIds: records.map((r) => r.eventID), duplicates: [] });
    const again = await post(server.url, batch(records));
    expect(again.json).toStrictEqual({
      eventIds: records.map((r) => r.eventID),
      duplicates: records.map((r) => r.eventID),
    });
    const extra = apiRecord();
    const third = await post(server.url, batch([...records, extra]));
    expect(third.json).toStrictEqual({
      eventIds: [...records, extra].map((r) => r.eventID),
      duplicates: records.map((r) => r.eventID),
    });
    for (const record of [...records, extra])
      expect(await lookupIds(record.eventID as string)).toEqual([record.eventID]);
  });

  it("the same eventID sent again for another region of the account is a duplicate", async () => {
    const record = apiRecord();
    expect((await post(server.url, batch([record]))).json.duplicates).toEqual([]);
    const moved = { ...record, awsRegion: "eu-west-1" };
    expect((await post(server.url, batch([moved]))).json.duplicates).toEqual([record.eventID]);
  });

  it("a second server on the same stores refuses what the first stored from its first batch on, and the other way round", async () => {
    // Its connections start without a duplicate filter and build one while the batches go in.
    // Copies in another region: the same region would also meet the unique (scope, time, id).
    const moved = (r: Record<string, unknown>) => ({ ...r, awsRegion: "eu-west-1" });
    const records = [apiRecord(), apiRecord(), apiRecord()];
    expect((await post(server.url, batch(records))).json.duplicates).toEqual([]);
    const second = await startOpenTrail(
      {
        ...fileConfig(),
        dataDir: server.dataDir,
        ...(server.database === undefined ? {} : { database: server.database }),
      },
      { log: pino({ level: "silent" }) },
    );
    try {
      const fresh = [apiRecord(), apiRecord()];
      const [again, mixed] = await Promise.all([
        post(second.url, batch(records.map(moved))),
        post(second.url, batch([moved(records[0]!), ...fresh])),
      ]);
      expect(again.json.duplicates).toEqual(records.map((r) => r.eventID));
      expect(mixed.json.duplicates).toEqual([records[0]!.eventID]);
      const back = fresh.map(moved);
      expect((await post(server.url, batch(back))).json.duplicates).toEqual(fresh.map((r) => r.eventID));
      expect((await post(second.url, batch(back))).json.duplicates).toEqual(fresh.map((r) => r.eventID));
    } finally {
      await second.close();
    }
    for (const record of records) expect(await lookupIds(record.eventID as string)).toEqual([record.eventID]);
  });

  it("the same eventID in another account is another event", async () => {
    const record = apiRecord({ recipientAccountId: undefined });
    const other = credentialOf("111122223333");
    expect((await post(server.url, batch([record]))).json.duplicates).toEqual([]);
    expect((await post(server.url, batch([record]), { credential: other })).json.duplicates).toEqual([]);
  });
});

describe("body encoding and limits", () => {
  it("takes a gzip body with Content-Encoding: gzip", async () => {
    const records = [apiRecord(), apiRecord()];
    const answer = await post(server.url, gzipSync(batch(records)), {
      headers: { "content-encoding": "gzip" },
    });
    expect(answer.json).toStrictEqual({ eventIds: records.map((r) => r.eventID), duplicates: [] });
    expect((await eventById(api, records[1]!.eventID as string)).record).toStrictEqual(records[1]);
  });

  it("refuses a corrupt gzip body", async () => {
    const body = gzipSync(batch([apiRecord()]));
    // the CRC in the trailer no longer matches
    body[body.length - 6] = body[body.length - 6]! ^ 0xff;
    const answer = await post(server.url, body, { headers: { "content-encoding": "gzip" } });
    expectError(answer, 400, "SerializationException", "Body is not valid gzip");
    const notGzip = await post(server.url, batch([apiRecord()]), { headers: { "content-encoding": "gzip" } });
    expectError(notGzip, 400, "SerializationException", "Body is not valid gzip");
  });

  it("refuses a gzip bomb: a small body that inflates beyond 8 × the body limit → 413", async () => {
    const gzip = { headers: { "content-encoding": "gzip" } };
    const bomb = gzipSync(paddedTo(batch([]), 8 * MAX_BODY + 1));
    expect(bomb.length).toBeLessThan(MAX_BODY / 16);
    const answer = await post(server.url, bomb, gzip);
    expectError(
      answer,
      413,
      "RequestEntityTooLargeException",
      `Inflated body is larger than ${8 * MAX_BODY} bytes`,
    );
    // exactly the inflated limit is fine
    const fits = await post(server.url, gzipSync(paddedTo(batch([]), 8 * MAX_BODY)), gzip);
    expect(fits.status).toBe(200);
  });

  it("refuses a body over maxIngestBytes → 413 before reading it; a body of exactly the limit is read", async () => {
    const record = apiRecord();
    const over = paddedTo(batch([record]), MAX_BODY + 1);
    const answer = await post(server.url, over);
    expectError(
      answer,
      413,
      "RequestEntityTooLargeException",
      `Request body is larger than ${MAX_BODY} bytes`,
    );
    expect(await lookupIds(record.eventID as string)).toEqual([]);
    const atLimit = await post(server.url, paddedTo(batch([record]), MAX_BODY));
    expect(atLimit.json).toStrictEqual({ eventIds: [record.eventID], duplicates: [] });
  });

  it("defaults the body limit to 32 MiB", () => {
    expect(loadConfig({ flags: { port: 0, dataDir: tmpdir() } }).maxIngestBytes).toBe(32 * 1024 * 1024);
  });

  it("refuses an encoding it does not know", async () => {
    const answer = await post(server.url, batch([apiRecord()]), { headers: { "content-encoding": "br" } });
    expectError(answer, 400, "SerializationException", "Unsupported Content-Encoding br");
  });

  it.each([
    ["text that is not JSON", "Records: []", "Body is not a JSON document"],
    ["bytes that are not UTF-8", Buffer.from([0x7b, 0xff, 0x7d]), "Body is not a JSON document"],
    ["an empty body", "", "Body is not a JSON document"],
    ["JSON without Records", "{}", 'Body must be a JSON object with a "Records" list'],
    [
      "Records that is not a list",
      '{"Records":{"eventName":"x"}}',
      'Body must be a JSON object with a "Records" list',
    ],
    ["a bare list of records", "[]", 'Body must be a JSON object with a "Records" list'],
    ["null", "null", 'Body must be a JSON object with a "Records" list'],
  ])("refuses %s with 400", async (_what, body, message) => {
    expectError(await post(server.url, body), 400, "SerializationException", message);
  });

  it("refuses a batch of more than 10,000 records → 413, and takes exactly 10,000", async () => {
    // old enough to stay out of every other test's window
    const tiny = {
      eventName: "E",
      eventSource: "s",
      eventType: "AwsApiCall",
      eventTime: "2001-01-01T00:00:00Z",
    };
    const gzip = { headers: { "content-encoding": "gzip" } };
    const over = await post(server.url, gzipSync(batch(Array(10_001).fill(tiny))), gzip);
    expectError(
      over,
      413,
      "RequestEntityTooLargeException",
      "A batch holds at most 10000 records; this one has 10001",
    );
    const full = await post(server.url, gzipSync(batch(Array(10_000).fill(tiny))), gzip);
    expect([full.status, (full.json.eventIds as string[]).length]).toEqual([200, 10_000]);
  });
});

describe("authentication", () => {
  it("refuses an unsigned request with 403 MissingAuthenticationToken", async () => {
    const record = apiRecord();
    const answer = await post(server.url, batch([record]), { credential: null });
    expectError(
      answer,
      403,
      "MissingAuthenticationTokenException",
      "Request is missing Authentication Token",
    );
    expect(await lookupIds(record.eventID as string)).toEqual([]);
  });

  it("refuses a wrong secret and an unknown key", async () => {
    const wrong = await post(server.url, batch([apiRecord()]), {
      credential: { ...KEY, secretAccessKey: "nope" },
    });
    expectError(
      wrong,
      400,
      "InvalidSignatureException",
      /^The request signature we calculated does not match/,
    );
    const unknown = await post(server.url, batch([apiRecord()]), {
      credential: { ...KEY, accessKeyId: "AKIAUNKNOWN" },
    });
    expectError(
      unknown,
      400,
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The corpus of records AWS wrote

const CORPUS = loadCorpus(new URL("../../../shared/corpus/aws-docs-records.json", import.meta.url));
const FILLED = ["eventTime", "awsRegion", "eventID", "recipientAccountId"] as const;

function accountOf(record: Record<string, unknown>): string {
  const identity = record.userIdentity as { accountId?: string } | undefined;
  return (record.recipientAccountId as string | undefined) ?? identity?.accountId ?? MAIN;
}

function isInsight(record: Record<string, unknown>): boolean {
  return record.eventCategory === "Insight" || record.eventType === "AwsCloudTrailInsight";
}

const CORPUS_TITLE = `the corpus of AWS's documented records${CORPUS ? "" : " (skipped: aws-docs-records.json is not there)"}`;
describe.skipIf(CORPUS === undefined)(CORPUS_TITLE, () => {
  const corpus = CORPUS ?? [];
  /** eventIDs the ingest answered, per record; records whose eventID another record already took. */
  const ids: string[] = [];
  const duplicateOf = new Map<number, number>();

  beforeAll(async () => {
    for (const [index, record] of corpus.entries()) {
      const answer = await post(server.url, batch([record]), { credential: credentialOf(accountOf(record)) });
      expect(answer.status, JSON.stringify(answer.json)).toBe(200);
      const [id] = answer.json.eventIds as string[];
      ids.push(id!);
      if ((answer.json.duplicates as string[]).length > 0) {
        duplicateOf.set(
          index,
          corpus.findIndex((r) => r.eventID === id && accountOf(r) === accountOf(record)),
        );
      }
    }
  });

  it("takes every record; the only duplicates are records AWS's examples give an eventID already used", () => {
    expect(ids).toHaveLength(corpus.length);
    const reused = corpus.flatMap((record, index) => {
      const first = corpus.findIndex(
        (r) => r.eventID === record.eventID && accountOf(r) === accountOf(record),
      );
      return record.eventID !== undefined && first < index ? [[index, first]] : [];
    });
    expect([...duplicateOf]).toEqual(reused);
  });

  /** LookupEvents as the record's account, in its region, at a moment an hour after it happened. */
  function lookupAs(record: Record<string, unknown>) {
    const at = new Date(new Date(record.eventTime as string).getTime() + HOUR_MS);
    const region = (record.awsRegion as string | undefined) ?? REGION;
    return inProcessClient(server.app.service, {
      principal: principalFor(credentialOf(accountOf(record)), region),
      region,
      clock: { now: () => at },
    });
  }

  it("gives every stored record back byte for byte, plus only the fields it lacked", async () => {
    for (const [index, record] of corpus.entries()) {
      if (duplicateOf.has(index)) continue;
      const filled: Record<string, unknown> = {};
      for (const field of FILLED) if (record[field] === undefined) filled[field] = expect.anything();
      const id = ids[index]!;
      // a record without eventTime was given the present moment, which the server's own clock covers
      const probe = record.eventTime === undefined ? api : lookupAs(record);
      const category = isInsight(record) ? { EventCategory: "insight" as const } : {};
      const answer = await probe.lookupEvents({
        LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: id }],
        ...category,
      });
      expect(answer.Events, `record ${index}`).toHaveLength(1);
      const text = answer.Events![0]!.CloudTrailEvent!;
      const stored = JSON.parse(text) as Record<string, unknown>;
      expect(stored, `record ${index}`).toStrictEqual({ ...record, ...filled });
      expect(stored.eventID).toBe(id);
      expect(stored.recipientAccountId).toBe(accountOf(record));
      const added = Object.fromEntries(
        FILLED.filter((f) => record[f] === undefined).map((f) => [f, stored[f]]),
      );
      expect(text, `record ${index}`).toBe(JSON.stringify({ ...record, ...added }));
    }
  });

  it("returns insight records only with EventCategory=insight, and management records only without", async () => {
    for (const [index, record] of corpus.entries()) {
      if (record.eventTime === undefined || duplicateOf.has(index)) continue;
      const client = lookupAs(record);
      const byId = [{ AttributeKey: "EventId" as const, AttributeValue: ids[index]! }];
      const plain = await client.lookupEvents({ LookupAttributes: byId });
      const insights = await client.lookupEvents({ LookupAttributes: byId, EventCategory: "insight" });
      const expected = isInsight(record) ? [0, 1] : [1, 0];
      expect([plain.Events!.length, insights.Events!.length], `record ${index}`).toEqual(expected);
    }
  });

  it("looks insight records up by the event they are about", async () => {
    for (const [index, record] of corpus.entries()) {
      if (!isInsight(record)) continue;
      const details = record.insightDetails as { eventName: string; eventSource: string };
      const found = await lookupAs(record).lookupEvents({
        LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: details.eventName }],
        EventCategory: "insight",
      });
      const event = found.Events!.find((e) => e.EventId === ids[index]);
      expect(event, `record ${index}`).toBeDefined();
      expect(event).toStrictEqual({
        EventId: ids[index],
        EventName: details.eventName,
        EventSource: details.eventSource,
        EventTime: new Date(record.eventTime as string),
        Resources: [],
        CloudTrailEvent: JSON.stringify(record),
      });
    }
  });
});

describe("data events", () => {
  it("are stored but not in event history", async () => {
    const data = apiRecord({
      eventSource: "s3.amazonaws.com",
      eventName: "GetObject",
      readOnly: true,
      managementEvent: false,
      eventCategory: "Data",
      resources: [{ type: "AWS::S3::Object", ARN: "arn:aws:s3:::bucket/key" }],
    });
    expect((await post(server.url, batch([data]))).json).toStrictEqual({
      eventIds: [data.eventID],
      duplicates: [],
    });
    expect(await lookupIds(data.eventID as string)).toEqual([]);
    const insights = await api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: data.eventID as string }],
      EventCategory: "insight",
    });
    expect(insights.Events).toEqual([]);
    // it is there: sent again, it is a duplicate
    expect((await post(server.url, batch([data]))).json.duplicates).toEqual([data.eventID]);
  });
});

// ---------------------------------------------------------------------------------------------
// Retries and reruns against a server whose clock the test moves

describe("retries at a later moment", () => {
  let app: OpenTrail;
  let dataDir: string;
  let offset = 0;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "opentrail-ingest-clock-"));
    app = await startOpenTrail(
      { ...fileConfig(), dataDir },
      { log: pino({ level: "silent" }), clock: { now: () => new Date(Date.now() + offset) } },
    );
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a record without eventTime, retried a minute later, is a duplicate", async () => {
    const record = {
      eventID: `late-retry-${Date.now()}`,
      eventName: "PutItem",
      eventSource: "dynamodb.amazonaws.com",
    };
    offset = 0;
    expect((await post(app.url, batch([record]))).json.duplicates).toEqual([]);
    offset = 60_000;
    expect((await post(app.url, batch([record]))).json.duplicates).toEqual([record.eventID]);
  });
});

// ---------------------------------------------------------------------------------------------
// Replaying log files: the client in process, and the built CLI once

describe("replaying a directory of log files", () => {
  let dir: string;
  const plain = [apiRecord(), apiRecord()];
  const zipped = [apiRecord(), apiRecord({ eventID: undefined })];
  const nested = [apiRecord()];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "opentrail-ingest-files-"));
    const day = join(dir, "AWSLogs", MAIN, "CloudTrail", REGION, "2024", "01", "02");
    mkdirSync(day, { recursive: true });
    writeFileSync(join(dir, "a.json"), batch(plain));
    writeFileSync(
      join(day, `${MAIN}_CloudTrail_${REGION}_20240102T0000Z_abc.json.gz`),
      gzipSync(batch(zipped)),
    );
    writeFileSync(join(day, "nested.json"), batch(nested));
    writeFileSync(join(dir, "notes.txt"), "not a log file");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ingestFiles stores every record once; a rerun finds them all stored", async () => {
    const progress: IngestProgress[] = [];
    // used detached, as a callback would use it
    const { ingestFiles } = ingestClient({
      endpoint: server.url,
      region: REGION,
      credentials: { accessKeyId: KEY.accessKeyId, secretAccessKey: KEY.secretAccessKey },
      batchSize: 2,
      onProgress: (p) => progress.push(p),
    });
    const first = await ingestFiles([dir]);
    expect(first).toEqual({
      files: 3,
      filesDone: 3,
      skipped: 1,
      records: 5,
      stored: 5,
      duplicates: 0,
      warned: 0,
    });
    expect(progress.at(-1)).toEqual(first);
    // the progress never goes back
    for (const [i, p] of progress.entries()) {
      expect(p.records).toBeGreaterThanOrEqual(progress[i - 1]?.records ?? 0);
      expect(p.stored + p.duplicates).toBeLessThanOrEqual(p.records);
    }
    const again = await ingestFiles([dir]);
    expect(again).toEqual({
      files: 3,
      filesDone: 3,
      skipped: 1,
      records: 5,
      stored: 0,
      duplicates: 5,
      warned: 0,
    });
    for (const record of [...plain, zipped[0]!, ...nested]) {
      expect(await lookupIds(record.eventID as string)).toEqual([record.eventID]);
    }
    // the record without an eventID got one derived from its content: the rerun recognised it
    const ids = await api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: zipped[1]!.eventName as string }],
      StartTime: new Date(zipped[1]!.eventTime as string),
      EndTime: new Date(zipped[1]!.eventTime as string),
    });
    expect(ids.Events).toHaveLength(1);
    expect(ids.Events![0]!.EventId).toMatch(UUID);
  });

  it("opentrail ingest (the built CLI) replays them too, safely", async () => {
    const cli = await builtCli();
    const fresh = await startTestServer(fileConfig());
    try {
      const run = (paths: string[]) =>
        promisify(execFile)(
          process.execPath,
          [cli, "ingest", ...paths, "--endpoint", fresh.url, "--batch-size", "3"],
          {
            env: {
              ...process.env,
              AWS_ACCESS_KEY_ID: KEY.accessKeyId,
              AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey,
            },
          },
        );
      expect((await run([dir])).stdout).toBe(
        "ingested 3 files: 5 records, 5 stored, 0 already stored; 1 other file skipped\n",
      );
      expect((await run([join(dir, "a.json"), dir])).stdout).toBe(
        "ingested 4 files: 7 records, 0 stored, 7 already stored; 1 other file skipped\n",
      );
      await expect(run([join(dir, "missing.json")])).rejects.toMatchObject({ code: 1 });
    } finally {
      await fresh.close();
    }
  }, 120_000);
});
