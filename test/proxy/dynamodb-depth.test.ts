import type { Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpClient } from "../../src/client/http.ts";
import { localLogFiles } from "../delivery/fixtures.ts";
import { DEV_KEY, REGION } from "../support/proxy.ts";
import { type S3TestServer, startMoto } from "../support/s3-servers.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * DynamoDB in depth through opentrail's recording proxy, against dynalite and against moto, with
 * @aws-sdk/client-dynamodb: the table's life (CreateTable, DescribeTable, DeleteTable) is made of
 * management events, in event history; item calls (PutItem, GetItem, Query, UpdateItem,
 * DeleteItem, BatchWriteItem) are data events, never in event history, delivered only to a trail
 * whose advanced selectors select `AWS::DynamoDB::Table` (and only for the table they name).
 * Records are checked field by field against recording-other-services.md (§2.5, §2.6, §2.11, §3):
 * keys unwrapped, items reduced to their attribute names, no attribute value of an item anywhere.
 */

const require = createRequire(import.meta.url);

interface Upstream {
  endpoint: string;
  stop(): Promise<void>;
}

async function startDynalite(): Promise<Upstream> {
  const dynalite = require("dynalite") as (opts: { createTableMs: number }) => Server;
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function startMotoUpstream(): Promise<Upstream> {
  const moto: S3TestServer = await startMoto();
  return { endpoint: moto.endpoint, stop: () => moto.stop() };
}

const UPSTREAMS = [
  ["dynalite", startDynalite],
  ["moto", startMotoUpstream],
] as const;

const TRAIL_BUCKET = "trail-bucket";
/** Values of non-key attributes: they must appear in no record. */
const SECRET_ALBUM = "Secret Album Title 42";
const SECRET_UPDATE = "Updated Secret Title 43";
type Rec = Record<string, unknown>;

describe.each(UPSTREAMS)("DynamoDB through the proxy to %s", (_name, start) => {
  let upstream: Upstream;
  let server: TestServer;
  let ddb: DynamoDBClient;
  const clients: { destroy(): void }[] = [];
  let records: Rec[] = [];
  let history: { name: string; source: string }[] = [];
  let account = "";

  const api = () => {
    const c = httpClient({ endpoint: server.url, clientConfig: { maxAttempts: 1 } });
    clients.push(c.client);
    return c;
  };
  const tableArn = (t: string) => `arn:aws:dynamodb:${REGION}:${account}:table/${t}`;
  const one = (name: string, table = "Music"): Rec => {
    const found = records.filter(
      (r) => r.eventName === name && (r.requestParameters as Rec | null)?.tableName === table,
    );
    expect(found.length, `${name} on ${table}`).toBeGreaterThanOrEqual(1);
    return found[0]!;
  };

  beforeAll(async () => {
    upstream = await start();
    server = await startTestServer({ upstreams: { default: upstream.endpoint, services: {} } });
    server.createBucket(TRAIL_BUCKET);
    const trail = api();
    await trail.createTrail({ Name: "tables", S3BucketName: TRAIL_BUCKET });
    await trail.putEventSelectors({
      TrailName: "tables",
      AdvancedEventSelectors: [
        { Name: "management", FieldSelectors: [{ Field: "eventCategory", Equals: ["Management"] }] },
        {
          Name: "Music items",
          FieldSelectors: [
            { Field: "eventCategory", Equals: ["Data"] },
            { Field: "resources.type", Equals: ["AWS::DynamoDB::Table"] },
            { Field: "resources.ARN", EndsWith: [":table/Music"] },
          ],
        },
      ],
    });
    await trail.startLogging({ Name: "tables" });

    ddb = new DynamoDBClient({ endpoint: server.url, region: REGION, credentials: DEV_KEY, maxAttempts: 1 });
    clients.push(ddb);
    for (const TableName of ["Music", "Other"]) {
      await ddb.send(
        new CreateTableCommand({
          TableName,
          KeySchema: [
            { AttributeName: "Artist", KeyType: "HASH" },
            { AttributeName: "SongTitle", KeyType: "RANGE" },
          ],
          AttributeDefinitions: [
            { AttributeName: "Artist", AttributeType: "S" },
            { AttributeName: "SongTitle", AttributeType: "S" },
          ],
          ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        }),
      );
      // dynalite makes a table ACTIVE on its next turn; DescribeTable until it is (no sleeps)
      for (let i = 0; i < 50; i++) {
        const d = await ddb.send(new DescribeTableCommand({ TableName }));
        if (d.Table?.TableStatus === "ACTIVE") break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const key = { Artist: { S: "No One You Know" }, SongTitle: { S: "Scared of My Shadow" } };
    await ddb.send(
      new PutItemCommand({
        TableName: "Music",
        Item: { ...key, AlbumTitle: { S: SECRET_ALBUM }, Year: { N: "2015" } },
        ReturnConsumedCapacity: "TOTAL",
      }),
    );
    await ddb.send(
      new PutItemCommand({ TableName: "Other", Item: { ...key, AlbumTitle: { S: SECRET_ALBUM } } }),
    );
    const got = await ddb.send(new GetItemCommand({ TableName: "Music", Key: key }));
    expect(got.Item?.AlbumTitle?.S).toBe(SECRET_ALBUM);
    const queried = await ddb.send(
      new QueryCommand({
        TableName: "Music",
        KeyConditionExpression: "Artist = :a",
        ExpressionAttributeValues: { ":a": { S: "No One You Know" } },
      }),
    );
    expect(queried.Count).toBe(1);
    await ddb.send(
      new UpdateItemCommand({
        TableName: "Music",
        Key: key,
        UpdateExpression: "SET AlbumTitle = :t",
        ExpressionAttributeValues: { ":t": { S: SECRET_UPDATE } },
      }),
    );
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          Music: [
            {
              PutRequest: {
                Item: {
                  Artist: { S: "Acme Band" },
                  SongTitle: { S: "Happy Day" },
                  AlbumTitle: { S: SECRET_ALBUM },
                },
              },
            },
            { DeleteRequest: { Key: { Artist: { S: "Acme Band" }, SongTitle: { S: "Gone" } } } },
          ],
        },
      }),
    );
    const batchGot = await ddb.send(new BatchGetItemCommand({ RequestItems: { Music: { Keys: [key] } } }));
    expect(batchGot.Responses?.Music?.[0]?.AlbumTitle?.S).toBe(SECRET_UPDATE);
    // a legacy filter on a non-key value: the value must not be written
    await ddb.send(
      new ScanCommand({
        TableName: "Music",
        ScanFilter: { AlbumTitle: { ComparisonOperator: "EQ", AttributeValueList: [{ S: SECRET_UPDATE }] } },
      }),
    );
    await ddb.send(new DeleteItemCommand({ TableName: "Music", Key: key }));
    await ddb.send(new DeleteTableCommand({ TableName: "Music" }));

    await server.app.delivery.drain();
    records = localLogFiles(server.bucketsDir, TRAIL_BUCKET)
      .flatMap((f) => f.records)
      .filter((r) => r.eventSource === "dynamodb.amazonaws.com");
    const found = await api().lookupEvents({ MaxResults: 50 });
    history = (found.Events ?? [])
      .filter((e) => e.EventSource !== "cloudtrail.amazonaws.com")
      .map((e) => ({ name: e.EventName ?? "", source: e.EventSource ?? "" }));
    account = String((records[0]?.userIdentity as Rec | undefined)?.accountId ?? "");
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server?.close();
    await upstream?.stop();
  });

  it("every record: DynamoDB's source, apiVersion, the caller's identity, the upstream's request id", () => {
    expect(records.length).toBeGreaterThanOrEqual(11);
    expect(account).toMatch(/^\d{12}$/);
    for (const r of records) {
      expect(r).toMatchObject({
        eventSource: "dynamodb.amazonaws.com",
        awsRegion: REGION,
        eventType: "AwsApiCall",
        apiVersion: "2012-08-10",
        recipientAccountId: account,
        userIdentity: { type: "IAMUser", accessKeyId: DEV_KEY.accessKeyId, accountId: account },
      });
      expect(r.requestID).toEqual(expect.any(String));
      expect(r.errorCode).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain(SECRET_ALBUM);
      expect(JSON.stringify(r)).not.toContain(SECRET_UPDATE);
    }
  });

  it("management calls: in event history, CloudTrail's spelling of the request, the table description answered", () => {
    const create = one("CreateTable");
    expect(create).toMatchObject({ readOnly: false, managementEvent: true, eventCategory: "Management" });
    expect(create.requestParameters).toEqual({
      tableName: "Music",
      keySchema: [
        { attributeName: "Artist", keyType: "HASH" },
        { attributeName: "SongTitle", keyType: "RANGE" },
      ],
      attributeDefinitions: [
        { attributeName: "Artist", attributeType: "S" },
        { attributeName: "SongTitle", attributeType: "S" },
      ],
      provisionedThroughput: { readCapacityUnits: 5, writeCapacityUnits: 5 },
    });
    const description = (create.responseElements as Rec).tableDescription as Rec;
    expect(description).toMatchObject({
      tableName: "Music",
      keySchema: [
        { attributeName: "Artist", keyType: "HASH" },
        { attributeName: "SongTitle", keyType: "RANGE" },
      ],
    });
    // the upstream's own ARN, as it answered it (dynalite's account is 000000000000)
    expect(description.tableArn).toMatch(/^arn:aws:dynamodb:us-east-1:\d{12}:table\/Music$/);
    // timestamps in the comma form (spec §2.7), never epoch numbers
    expect(description.creationDateTime).toMatch(/^[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}:\d{2} [AP]M$/);

    const describe = one("DescribeTable");
    expect(describe).toMatchObject({
      readOnly: true,
      managementEvent: true,
      eventCategory: "Management",
      requestParameters: { tableName: "Music" },
      responseElements: null,
    });
    const deleted = one("DeleteTable");
    expect(deleted).toMatchObject({
      readOnly: false,
      managementEvent: true,
      requestParameters: { tableName: "Music" },
    });
    expect(((deleted.responseElements as Rec).tableDescription as Rec).tableName).toBe("Music");

    const names = history.filter((e) => e.source === "dynamodb.amazonaws.com").map((e) => e.name);
    expect(new Set(names)).toEqual(new Set(["CreateTable", "DescribeTable", "DeleteTable"]));
  });

  it("item calls: data events of the table, keys unwrapped, items as attribute names, no values", () => {
    const data = records.filter((r) => r.eventCategory === "Data");
    expect(data.length).toBeGreaterThanOrEqual(8);
    for (const r of data) {
      expect(r).toMatchObject({ managementEvent: false, responseElements: null });
      const resources = r.resources as Rec[];
      expect(resources).toHaveLength(1);
      expect(resources[0]).toMatchObject({ type: "AWS::DynamoDB::Table" });
      expect(resources[0]!.ARN).toMatch(/^arn:aws:dynamodb:us-east-1:\d{12}:table\/Music$/);
    }
    const key = { Artist: "No One You Know", SongTitle: "Scared of My Shadow" };
    expect(one("PutItem")).toMatchObject({
      readOnly: false,
      eventCategory: "Data",
      requestParameters: {
        tableName: "Music",
        key,
        item: ["Artist", "SongTitle", "AlbumTitle", "Year"],
        returnConsumedCapacity: "TOTAL",
      },
    });
    expect(one("PutItem").requestParameters).toEqual({
      tableName: "Music",
      key,
      item: ["Artist", "SongTitle", "AlbumTitle", "Year"],
      returnConsumedCapacity: "TOTAL",
    });
    expect(one("GetItem")).toMatchObject({ readOnly: true, eventCategory: "Data" });
    expect(one("GetItem").requestParameters).toEqual({ tableName: "Music", key });
    expect(one("Query")).toMatchObject({ readOnly: true, eventCategory: "Data" });
    expect(one("Query").requestParameters).toEqual({
      tableName: "Music",
      keyConditionExpression: "Artist = :a",
    });
    expect(one("UpdateItem")).toMatchObject({ readOnly: false, eventCategory: "Data" });
    expect(one("UpdateItem").requestParameters).toEqual({
      tableName: "Music",
      key,
      updateExpression: "SET AlbumTitle = :t",
    });
    expect(one("DeleteItem")).toMatchObject({ readOnly: false, eventCategory: "Data" });
    expect(one("DeleteItem").requestParameters).toEqual({ tableName: "Music", key });

    const batch = records.find((r) => r.eventName === "BatchWriteItem");
    expect(batch).toMatchObject({ readOnly: false, eventCategory: "Data", managementEvent: false });
    expect(batch?.requestParameters).toEqual({
      requestItems: {
        Music: [
          { putRequest: { item: ["Artist", "SongTitle", "AlbumTitle"] } },
          { deleteRequest: { key: { Artist: "Acme Band", SongTitle: "Gone" } } },
        ],
      },
    });

    expect(records.find((r) => r.eventName === "BatchGetItem")).toMatchObject({
      readOnly: true,
      eventCategory: "Data",
      requestParameters: { requestItems: { Music: { keys: [key] } } },
    });
    expect(one("Scan")).toMatchObject({ readOnly: true, eventCategory: "Data" });
    expect(one("Scan").requestParameters).toEqual({ tableName: "Music", scanFilter: ["AlbumTitle"] });

    // none of them is in event history
    const historyNames = new Set(history.map((e) => e.name));
    for (const name of [
      "PutItem",
      "GetItem",
      "Query",
      "Scan",
      "UpdateItem",
      "DeleteItem",
      "BatchWriteItem",
      "BatchGetItem",
    ])
      expect(historyNames.has(name), name).toBe(false);
  });

  // The owner of the table is the caller's account (spec §2.11), but forward.ts calls render()
  // without the caller (src/proxy/forward.ts record()), so the renderer falls back to
  // 000000000000. Flips to passing when forward.ts passes `{ accountId: principal.accountId }`.
  it("item calls name the table in the caller's account", () => {
    for (const r of records.filter((x) => x.eventCategory === "Data"))
      expect(r.resources).toEqual([
        { accountId: account, type: "AWS::DynamoDB::Table", ARN: tableArn("Music") },
      ]);
  });

  it("the trail's selectors choose the data events of the table they name, not of another", () => {
    expect(
      records.some(
        (r) => r.eventName === "CreateTable" && (r.requestParameters as Rec).tableName === "Other",
      ),
    ).toBe(true);
    const otherItems = records.filter(
      (r) => r.eventCategory === "Data" && (r.requestParameters as Rec | null)?.tableName === "Other",
    );
    expect(otherItems).toEqual([]);
  });
});
