import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CloudTrailApi } from "../../src/api/index.ts";
import { methodName, type OperationName } from "../../src/api/operations.ts";
import { httpClient } from "../../src/client/http.ts";
import { type CredentialConfig, loadConfig } from "../../src/config/index.ts";
import {
  captureRequests,
  EVENT_TIME,
  eventById,
  floorSecond,
  recordSpelling,
  type SdkCapture,
  UUID,
} from "../support/records.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * The records of calls made through `@aws-sdk/client-cloudtrail`, read back with LookupEvents and
 * compared field by field with log-files.md §3. Records are made by the wire layer, so every
 * call here goes over HTTP.
 */

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const EU = "eu-west-1";
const BUCKET = "records-bucket";
const DEV_KEY = { accessKeyId: "test", secretAccessKey: "test" };

/** The development credential's identity (an IAM user named `test`), as §2 spells it. */
const DEV_IDENTITY = {
  type: "IAMUser",
  principalId: `AIDA${ACCOUNT}`,
  arn: `arn:aws:iam::${ACCOUNT}:user/test`,
  accountId: ACCOUNT,
  accessKeyId: "test",
  userName: "test",
};

interface Sdk {
  api: ReturnType<typeof httpClient>;
  capture: SdkCapture;
}

const clients: { destroy(): void }[] = [];

function sdk(
  server: TestServer,
  region = REGION,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = DEV_KEY,
  extraHeaders?: () => Record<string, string>,
  customUserAgent?: string,
): Sdk {
  // one attempt: an error must be recorded once, not once per retry
  const api = httpClient({
    endpoint: server.url,
    region,
    credentials,
    clientConfig: { maxAttempts: 1, ...(customUserAgent ? { customUserAgent } : {}) },
  });
  clients.push(api.client);
  return { api, capture: captureRequests(api.client, extraHeaders) };
}

/** A call's outcome and everything the record must repeat of it. */
interface Sent {
  requestId: string;
  userAgent: string;
  before: Date;
  after: Date;
  output?: Record<string, unknown>;
  error?: { name: string; message: string };
}

async function send(s: Sdk, call: (api: CloudTrailApi) => Promise<object>): Promise<Sent> {
  const before = floorSecond(new Date());
  let output: Record<string, unknown> | undefined;
  let error: Sent["error"];
  let requestId: string | undefined;
  try {
    const answer = (await call(s.api)) as Record<string, unknown> & {
      $metadata: { requestId?: string };
    };
    output = answer;
    requestId = answer.$metadata.requestId;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { requestId?: string } };
    error = { name: err.name, message: err.message };
    requestId = err.$metadata?.requestId;
  }
  if (!requestId) throw new Error("the answer carried no x-amzn-RequestId");
  const userAgent = s.capture.lastHeaders["user-agent"];
  if (!userAgent) throw new Error("the SDK sent no User-Agent");
  return { requestId, userAgent, before, after: new Date(), output, error };
}

/**
 * The record of one call: found among the events of its operation by requestID, then fetched
 * again by its EventId, which must find exactly that event.
 */
async function recordOf(s: Sdk, sent: Sent, eventName: string) {
  const found = await s.api.lookupEvents({
    LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: eventName }],
    StartTime: sent.before,
  });
  const matching = (found.Events ?? []).filter(
    (e) => (JSON.parse(e.CloudTrailEvent!) as { requestID?: string }).requestID === sent.requestId,
  );
  expect(matching, `records with requestID ${sent.requestId}`).toHaveLength(1);
  const eventId = matching[0]!.EventId!;
  const { event, record } = await eventById(s.api, eventId);
  expect(record.eventID).toBe(eventId);
  return { event, record };
}

/** Every field §3 fixes for a call of this service, with what the call itself determines. */
function expectedRecord(
  sent: Sent,
  over: {
    eventName: string;
    readOnly: boolean;
    requestParameters: unknown;
    responseElements?: unknown;
    region?: string;
    identity?: Record<string, unknown>;
    account?: string;
  },
): Record<string, unknown> {
  const record: Record<string, unknown> = {
    eventVersion: "1.08",
    userIdentity: over.identity ?? DEV_IDENTITY,
    eventTime: expect.stringMatching(EVENT_TIME),
    eventSource: "cloudtrail.amazonaws.com",
    eventName: over.eventName,
    awsRegion: over.region ?? REGION,
    sourceIPAddress: "127.0.0.1",
    userAgent: sent.userAgent,
  };
  if (sent.error) {
    record.errorCode = sent.error.name;
    record.errorMessage = sent.error.message;
  }
  Object.assign(record, {
    requestParameters: over.requestParameters,
    responseElements: sent.error ? null : (over.responseElements ?? null),
    requestID: sent.requestId,
    eventID: expect.stringMatching(UUID),
    readOnly: over.readOnly,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: over.account ?? ACCOUNT,
    eventCategory: "Management",
  });
  return record;
}

/** The record's eventTime is the second the call completed in. */
function expectTimeWithin(record: Record<string, unknown>, sent: Sent): void {
  const time = new Date(record.eventTime as string).getTime();
  expect(time).toBeGreaterThanOrEqual(sent.before.getTime());
  expect(time).toBeLessThanOrEqual(sent.after.getTime());
}

function writeConfig(dir: string, config: object): string {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  return file;
}

let server: TestServer;
let dev: Sdk;

beforeAll(async () => {
  server = await startTestServer();
  server.createBucket(BUCKET);
  dev = sdk(server);
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await server?.close();
});

describe("records of SDK v3 calls", () => {
  it("CreateTrail that succeeds: parameters and response in record spelling", async () => {
    const input = {
      Name: "recorded-trail",
      S3BucketName: BUCKET,
      IsMultiRegionTrail: false,
      EnableLogFileValidation: true,
      TagsList: [{ Key: "team", Value: "audit" }],
    };
    const sent = await send(dev, (api) => api.createTrail(input));
    expect(sent.error).toBeUndefined();
    const { event, record } = await recordOf(dev, sent, "CreateTrail");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "CreateTrail",
        readOnly: false,
        requestParameters: {
          name: "recorded-trail",
          s3BucketName: BUCKET,
          isMultiRegionTrail: false,
          enableLogFileValidation: true,
          tagsList: [{ key: "team", value: "audit" }],
        },
        responseElements: recordSpelling(sent.output),
      }),
    );
    // the response members AWS's own example shows, spelled as it spells them
    expect(record.responseElements).toMatchObject({
      name: "recorded-trail",
      s3BucketName: BUCKET,
      trailARN: `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/recorded-trail`,
      logFileValidationEnabled: true,
      isOrganizationTrail: false,
    });
    expectTimeWithin(record, sent);
    expect(event).toStrictEqual({
      EventId: record.eventID,
      EventName: "CreateTrail",
      ReadOnly: "false",
      AccessKeyId: "test",
      EventTime: new Date(record.eventTime as string),
      EventSource: "cloudtrail.amazonaws.com",
      Username: "test",
      Resources: [{ ResourceType: "AWS::CloudTrail::Trail", ResourceName: "recorded-trail" }],
      CloudTrailEvent: expect.any(String),
    });
  });

  it("CreateTrail that fails: errorCode and errorMessage, no responseElements", async () => {
    await send(dev, (api) => api.createTrail({ Name: "twice-trail", S3BucketName: BUCKET }));
    const sent = await send(dev, (api) => api.createTrail({ Name: "twice-trail", S3BucketName: BUCKET }));
    expect(sent.error).toEqual({
      name: "TrailAlreadyExistsException",
      message: `Trail twice-trail already exists for customer: ${ACCOUNT}`,
    });
    const { record } = await recordOf(dev, sent, "CreateTrail");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "CreateTrail",
        readOnly: false,
        requestParameters: { name: "twice-trail", s3BucketName: BUCKET },
      }),
    );
    expectTimeWithin(record, sent);
  });

  it("a mutating call with no output and a validation failure: responseElements null", async () => {
    const sent = await send(dev, (api) => api.startLogging({ Name: "-bad name-" }));
    expect(sent.error?.name).toBe("InvalidTrailNameException");
    const { record } = await recordOf(dev, sent, "StartLogging");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "StartLogging",
        readOnly: false,
        requestParameters: { name: "-bad name-" },
      }),
    );
  });

  it("a read-only call: readOnly true and responseElements null", async () => {
    await send(dev, (api) => api.createTrail({ Name: "read-trail", S3BucketName: BUCKET }));
    const sent = await send(dev, (api) => api.getTrail({ Name: "read-trail" }));
    expect(sent.output?.Trail).toBeDefined();
    const { event, record } = await recordOf(dev, sent, "GetTrail");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "GetTrail",
        readOnly: true,
        requestParameters: { name: "read-trail" },
      }),
    );
    expect(event.ReadOnly).toBe("true");
  });

  it("a call that sends no members: requestParameters null", async () => {
    const sent = await send(dev, (api) => api.listTrails({}));
    const { event, record } = await recordOf(dev, sent, "ListTrails");
    expect(record).toStrictEqual(
      expectedRecord(sent, { eventName: "ListTrails", readOnly: true, requestParameters: null }),
    );
    expect(event.Resources).toEqual([]);
  });

  it("a call in eu-west-1 is recorded in eu-west-1 and only there", async () => {
    const eu = sdk(server, EU);
    const sent = await send(eu, (api) => api.getTrailStatus({ Name: "no-such-trail" }));
    expect(sent.error?.name).toBe("TrailNotFoundException");
    const { record } = await recordOf(eu, sent, "GetTrailStatus");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "GetTrailStatus",
        readOnly: true,
        requestParameters: { name: "no-such-trail" },
        region: EU,
      }),
    );
    const inUsEast = await dev.api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "EventId", AttributeValue: record.eventID as string }],
    });
    expect(inUsEast.Events).toEqual([]);
  });

  it("LookupEvents itself is recorded, with its timestamps as ISO-8601 text", async () => {
    const start = new Date("2024-01-02T03:04:05.000Z");
    const sent = await send(dev, (api) =>
      api.lookupEvents({
        StartTime: start,
        EndTime: new Date(),
        MaxResults: 3,
        LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "nobody" }],
      }),
    );
    const { record } = await recordOf(dev, sent, "LookupEvents");
    expect(record.requestParameters).toStrictEqual({
      startTime: start.toISOString(),
      endTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/),
      maxResults: 3,
      lookupAttributes: [{ attributeKey: "Username", attributeValue: "nobody" }],
    });
    expect([record.readOnly, record.responseElements]).toEqual([true, null]);
  });
});

describe("every operation", () => {
  const trail = "every-op-trail";
  const arn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/${trail}`;
  // in an order that leaves each call something to act on; operations.md gives readOnly
  const calls: [OperationName, boolean, object][] = [
    ["CreateTrail", false, { Name: trail, S3BucketName: BUCKET }],
    ["UpdateTrail", false, { Name: trail, S3KeyPrefix: "logs" }],
    [
      "PutEventSelectors",
      false,
      { TrailName: trail, EventSelectors: [{ ReadWriteType: "All", IncludeManagementEvents: true }] },
    ],
    [
      "PutInsightSelectors",
      false,
      { TrailName: trail, InsightSelectors: [{ InsightType: "ApiCallRateInsight" }] },
    ],
    ["AddTags", false, { ResourceId: arn, TagsList: [{ Key: "k", Value: "v" }] }],
    ["RemoveTags", false, { ResourceId: arn, TagsList: [{ Key: "k" }] }],
    ["StartLogging", false, { Name: trail }],
    ["StopLogging", false, { Name: trail }],
    ["DescribeTrails", true, { includeShadowTrails: false }],
    ["GetTrail", true, { Name: trail }],
    ["GetTrailStatus", true, { Name: trail }],
    ["GetEventSelectors", true, { TrailName: trail }],
    ["GetInsightSelectors", true, { TrailName: trail }],
    ["ListTags", true, { ResourceIdList: [arn] }],
    ["ListTrails", true, {}],
    ["ListPublicKeys", true, {}],
    ["LookupEvents", true, { MaxResults: 1 }],
    ["DeleteTrail", false, { Name: trail }],
  ];
  const withResponse = new Set(["CreateTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"]);

  it("readOnly as operations.md says; parameters as sent; responseElements only for the four with output", async () => {
    for (const [operation, readOnly, input] of calls) {
      const sent = await send(dev, (api) =>
        (api as unknown as Record<string, (input: object) => Promise<object>>)[methodName(operation)]!(input),
      );
      if (withResponse.has(operation)) expect(sent.error, operation).toBeUndefined();
      const { record } = await recordOf(dev, sent, operation);
      expect(record, operation).toStrictEqual(
        expectedRecord(sent, {
          eventName: operation,
          readOnly,
          requestParameters: Object.keys(input).length === 0 ? null : recordSpelling(input),
          responseElements: withResponse.has(operation) ? recordSpelling(sent.output) : null,
        }),
      );
    }
  });
});

describe("limits and resources", () => {
  it("cuts a User-Agent longer than 1 KB to its first 1024 bytes", async () => {
    const long = sdk(server, REGION, DEV_KEY, undefined, `padding/${"x".repeat(1500)}`);
    const sent = await send(long, (api) => api.listTrails({}));
    expect(sent.userAgent.length).toBeGreaterThan(1500);
    const { record } = await recordOf(long, sent, "ListTrails");
    expect(record.userAgent).toBe(sent.userAgent.slice(0, 1024));
  });

  it("records a request over 100 KB with its requestParameters marked omitted", async () => {
    const sent = await send(dev, (api) =>
      api.createTrail({ Name: "n".repeat(120_000), S3BucketName: BUCKET }),
    );
    expect(sent.error?.name).toBe("InvalidTrailNameException");
    const { record } = await recordOf(dev, sent, "CreateTrail");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "CreateTrail",
        readOnly: false,
        requestParameters: { omitted: true },
      }),
    );
  });

  it("names each trail a call names as a resource, once, as the call names it", async () => {
    await send(dev, (api) => api.createTrail({ Name: "listed-trail", S3BucketName: BUCKET }));
    const arn = `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/listed-trail`;
    const sent = await send(dev, (api) =>
      api.describeTrails({ trailNameList: ["listed-trail", arn, "listed-trail"] }),
    );
    const { event, record } = await recordOf(dev, sent, "DescribeTrails");
    expect(record.requestParameters).toStrictEqual({ trailNameList: ["listed-trail", arn, "listed-trail"] });
    expect(event.Resources).toEqual([
      { ResourceType: "AWS::CloudTrail::Trail", ResourceName: "listed-trail" },
      { ResourceType: "AWS::CloudTrail::Trail", ResourceName: arn },
    ]);
    const tagged = await send(dev, (api) =>
      api.addTags({ ResourceId: arn, TagsList: [{ Key: "k", Value: "v" }] }),
    );
    const { event: tagEvent } = await recordOf(dev, tagged, "AddTags");
    expect(tagEvent.Resources).toEqual([{ ResourceType: "AWS::CloudTrail::Trail", ResourceName: arn }]);
  });
});

describe("calls that are not recorded", () => {
  /** ResourceName finds a trail-named call's record whatever its operation. */
  async function recordsNaming(name: string) {
    const found = await dev.api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: name }],
    });
    return found.Events ?? [];
  }

  it("a call signed with a wrong secret or an unknown key leaves no record", async () => {
    const wrongSecret = await send(
      sdk(server, REGION, { accessKeyId: "test", secretAccessKey: "wrong" }),
      (api) => api.getTrail({ Name: "auth-probe" }),
    );
    expect(wrongSecret.error?.name).toBe("InvalidSignatureException");
    const unknownKey = await send(
      sdk(server, REGION, { accessKeyId: "AKIANOBODY", secretAccessKey: "x" }),
      (api) => api.getTrail({ Name: "auth-probe" }),
    );
    expect(unknownKey.error?.name).toBe("UnrecognizedClientException");
    expect(await recordsNaming("auth-probe")).toEqual([]);

    // the same call, properly signed, is found the same way
    const signed = await send(dev, (api) => api.getTrail({ Name: "auth-probe" }));
    expect(signed.error?.name).toBe("TrailNotFoundException");
    const found = await recordsNaming("auth-probe");
    expect(found.map((e) => JSON.parse(e.CloudTrailEvent!).requestID)).toEqual([signed.requestId]);
  });
});

describe("sourceIPAddress", () => {
  const FORWARDED = "198.51.100.1, 203.0.113.7";

  it("ignores X-Forwarded-For from a peer the configuration does not trust", async () => {
    const proxied = sdk(server, REGION, DEV_KEY, () => ({ "x-forwarded-for": FORWARDED }));
    const sent = await send(proxied, (api) => api.listTrails({}));
    const { record } = await recordOf(proxied, sent, "ListTrails");
    expect(record.sourceIPAddress).toBe("127.0.0.1");
  });

  describe("behind a trusted proxy", () => {
    let proxyServer: TestServer;
    beforeAll(async () => {
      proxyServer = await startTestServer({ trustedProxies: ["127.0.0.1"] });
    });
    afterAll(() => proxyServer?.close());

    it.each([
      ["the nearest untrusted hop", FORWARDED, "203.0.113.7"],
      ["trusted hops skipped", "203.0.113.9, 127.0.0.1", "203.0.113.9"],
      ["an IPv4-mapped hop in plain form", "::ffff:192.0.2.44", "192.0.2.44"],
      ["an IPv6 hop", "2001:db8::1", "2001:db8::1"],
      ["the proxy itself when no hop is an address", "unknown", "127.0.0.1"],
    ])("takes %s", async (_what, header, expected) => {
      const proxied = sdk(proxyServer, REGION, DEV_KEY, () => ({ "x-forwarded-for": header }));
      const sent = await send(proxied, (api) => api.listTrails({}));
      const { record } = await recordOf(proxied, sent, "ListTrails");
      expect(record.sourceIPAddress).toBe(expected);
    });

    it("uses the peer when there is no X-Forwarded-For", async () => {
      const direct = sdk(proxyServer);
      const sent = await send(direct, (api) => api.listTrails({}));
      const { record } = await recordOf(direct, sent, "ListTrails");
      expect(record.sourceIPAddress).toBe("127.0.0.1");
    });
  });
});

describe("userIdentity of configured credentials", () => {
  const ROOT: CredentialConfig = {
    accessKeyId: "AKIAROOTEXAMPLE",
    secretAccessKey: "root-secret",
    accountId: "111122223333",
    type: "Root",
  };
  const ROLE: CredentialConfig = {
    accessKeyId: "ASIAROLEEXAMPLE",
    secretAccessKey: "role-secret",
    sessionToken: "role-session-token",
    accountId: "444455556666",
    type: "AssumedRole",
    roleName: "Auditor",
    sessionName: "nightly-check",
    principalId: "AROAEXAMPLEROLEID",
    sessionCreated: "2026-11-25T08:00:00Z",
  };
  let idServer: TestServer;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "opentrail-records-config-"));
    try {
      const file = writeConfig(dir, { credentials: [ROOT, ROLE] });
      const { dataDir: _dataDir, ...config } = loadConfig({ flags: { config: file, port: 0 } });
      idServer = await startTestServer(config);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  afterAll(() => idServer?.close());

  it("Root: the account's root ARN and the key, no userName; event history names it root", async () => {
    const root = sdk(idServer, REGION, ROOT);
    const sent = await send(root, (api) => api.listTrails({}));
    const { event, record } = await recordOf(root, sent, "ListTrails");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "ListTrails",
        readOnly: true,
        requestParameters: null,
        account: ROOT.accountId,
        identity: {
          type: "Root",
          principalId: ROOT.accountId,
          arn: `arn:aws:iam::${ROOT.accountId}:root`,
          accountId: ROOT.accountId,
          accessKeyId: ROOT.accessKeyId,
        },
      }),
    );
    expect([event.Username, event.AccessKeyId]).toEqual(["root", ROOT.accessKeyId]);
  });

  it("AssumedRole: session ARN, role as session issuer, the temporary key", async () => {
    const role = sdk(idServer, REGION, ROLE);
    const sent = await send(role, (api) => api.getTrail({ Name: "role-trail" }));
    expect(sent.error?.name).toBe("TrailNotFoundException");
    const { event, record } = await recordOf(role, sent, "GetTrail");
    expect(record).toStrictEqual(
      expectedRecord(sent, {
        eventName: "GetTrail",
        readOnly: true,
        requestParameters: { name: "role-trail" },
        account: ROLE.accountId,
        identity: {
          type: "AssumedRole",
          principalId: "AROAEXAMPLEROLEID:nightly-check",
          arn: `arn:aws:sts::${ROLE.accountId}:assumed-role/Auditor/nightly-check`,
          accountId: ROLE.accountId,
          accessKeyId: ROLE.accessKeyId,
          sessionContext: {
            sessionIssuer: {
              type: "Role",
              principalId: "AROAEXAMPLEROLEID",
              arn: `arn:aws:iam::${ROLE.accountId}:role/Auditor`,
              accountId: ROLE.accountId,
              userName: "Auditor",
            },
            attributes: { creationDate: "2026-11-25T08:00:00Z", mfaAuthenticated: "false" },
          },
        },
      }),
    );
    // the session name is the user event history shows for a role session
    expect([event.Username, event.AccessKeyId]).toEqual(["nightly-check", ROLE.accessKeyId]);
  });

  it("a role key without its session token is refused and not recorded", async () => {
    const noToken = sdk(idServer, REGION, {
      accessKeyId: ROLE.accessKeyId,
      secretAccessKey: ROLE.secretAccessKey,
    });
    const sent = await send(noToken, (api) => api.getTrail({ Name: "tokenless-trail" }));
    expect(sent.error?.name).toBe("UnrecognizedClientException");
    const role = sdk(idServer, REGION, ROLE);
    const found = await role.api.lookupEvents({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "tokenless-trail" }],
    });
    expect(found.Events).toEqual([]);
  });
});
