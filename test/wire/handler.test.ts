import { describe, expect, it } from "vitest";
import { fail } from "../../src/api/index.ts";
import type { RecordedCall } from "../../src/wire/handler.ts";
import { BOTO_PREFIX, json, memoryLogger, raw, signed, stubService, wireWith } from "./sign.ts";

describe("framing: target", () => {
  it("accepts both target prefixes and routes to the named operation", async () => {
    for (const target of [`${BOTO_PREFIX}.GetTrail`, "CloudTrail_20131101.GetTrail"]) {
      const service = stubService(async () => ({ Trail: { Name: "t" } }));
      const { handle } = wireWith(service);
      const res = await handle(await signed({ target, body: '{"Name":"t"}' }));
      expect(res.status).toBe(200);
      expect(json(res)).toEqual({ Trail: { Name: "t" } });
      expect(service.calls.map((c) => c.operation)).toEqual(["GetTrail"]);
    }
  });

  it.each([
    ["missing", null, "Missing X-Amz-Target header"],
    [
      "unknown operation",
      "CloudTrail_20131101.CreateWidget",
      "Unknown operation CloudTrail_20131101.CreateWidget",
    ],
    ["wrong prefix", "DynamoDB_20120810.ListTrails", "Unknown operation DynamoDB_20120810.ListTrails"],
    ["no prefix", "ListTrails", "Unknown operation ListTrails"],
    ["wrong case", "CloudTrail_20131101.listTrails", "Unknown operation CloudTrail_20131101.listTrails"],
  ])("%s target → UnknownOperationException", async (_, target, message) => {
    const service = stubService();
    const { handle } = wireWith(service);
    const res = await handle(await signed({ target }));
    expect(res.status).toBe(400);
    expect(json(res)).toEqual({ __type: "UnknownOperationException", message });
    expect(service.calls).toHaveLength(0);
  });

  it("an operation of the model that is not served → UnsupportedOperationException naming it", async () => {
    const service = stubService();
    const { handle } = wireWith(service);
    const res = await handle(await signed({ target: "CloudTrail_20131101.CreateEventDataStore" }));
    expect(res.status).toBe(400);
    expect(json(res)).toEqual({
      __type: "UnsupportedOperationException",
      message: "CreateEventDataStore is not supported by opentrail.",
    });
    expect(service.calls).toHaveLength(0);
  });
});

describe("framing: content type and body", () => {
  it.each(["application/x-amz-json-1.1", "application/json", "application/x-amz-json-1.1; charset=utf-8"])(
    "accepts %s",
    async (contentType) => {
      const { handle } = wireWith(stubService());
      expect((await handle(await signed({ contentType }))).status).toBe(200);
    },
  );

  it("answers a body in another media type with 404 UnknownOperationException, as AWS does", async () => {
    const service = stubService();
    const { handle } = wireWith(service);
    const res = await handle(await signed({ contentType: "text/plain" }));
    expect(res.status).toBe(404);
    expect(json(res)).toEqual({
      __type: "UnknownOperationException",
      message: "Unsupported content type text/plain",
    });
    expect(service.calls).toHaveLength(0);
  });

  it("treats an empty body as {} whatever the content type", async () => {
    const service = stubService();
    const { handle } = wireWith(service);
    const res = await handle(await signed({ body: "", contentType: null }));
    expect(res.status).toBe(200);
    expect(service.calls[0]!.input).toEqual({});
  });

  it.each([
    ["not JSON", "{nope", "Request body is not valid JSON"],
    ["a JSON array", "[]", "Start of list found where not expected"],
    ["a JSON number", "42", "Request body must be a JSON object"],
    ["JSON null", "null", "Request body must be a JSON object"],
    ["truncated JSON", '{"Name":', "Request body is not valid JSON"],
  ])("a body that is %s → SerializationException", async (_, body, message) => {
    const { handle } = wireWith(stubService());
    const res = await handle(await signed({ body }));
    expect(res.status).toBe(400);
    expect(json(res)).toEqual({ __type: "SerializationException", message });
  });

  it("a body that is not UTF-8 → SerializationException", async () => {
    const { handle } = wireWith(stubService());
    const res = await handle(await signed({ body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }));
    expect(json(res)).toEqual({
      __type: "SerializationException",
      message: "Request body is not valid UTF-8",
    });
  });
});

describe("check order: content type → JSON → target → auth → types", () => {
  it("bad JSON beats an unknown target", async () => {
    const { handle } = wireWith(stubService());
    const res = await handle(
      raw({ "content-type": "application/x-amz-json-1.1", "x-amz-target": "Nope.Nope" }, "{"),
    );
    expect(json(res).__type).toBe("SerializationException");
  });

  it("an unknown target beats missing authentication", async () => {
    const { handle } = wireWith(stubService());
    const res = await handle(
      raw({ "content-type": "application/x-amz-json-1.1", "x-amz-target": "Nope.Nope" }),
    );
    expect(json(res).__type).toBe("UnknownOperationException");
  });

  it("authentication beats member types", async () => {
    const { handle } = wireWith(stubService());
    const req = await signed({ operation: "GetTrail", body: '{"Name":5}', secretAccessKey: "wrong" });
    expect(json(await handle(req)).__type).toBe("InvalidSignatureException");
  });

  it("member types are checked before the service sees anything", async () => {
    const service = stubService();
    const { handle } = wireWith(service);
    const res = await handle(await signed({ operation: "GetTrail", body: '{"Name":5}' }));
    expect(json(res)).toEqual({
      __type: "SerializationException",
      message: "NUMBER_VALUE cannot be converted to String",
    });
    expect(service.calls).toHaveLength(0);
  });
});

describe("decoded input reaches the service", () => {
  it("null members are absent, unknown members are dropped, timestamps are Dates", async () => {
    const service = stubService();
    const { handle } = wireWith(service);
    const body = JSON.stringify({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateTrail", Extra: 1 }],
      StartTime: 1577836800,
      EndTime: 1577836800.5,
      MaxResults: null,
      NextToken: null,
      SomethingNew: { deep: [1, 2, 3] },
    });
    await handle(await signed({ operation: "LookupEvents", body }));
    const input = service.calls[0]!.input;
    expect(input).toEqual({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateTrail" }],
      StartTime: new Date("2020-01-01T00:00:00.000Z"),
      EndTime: new Date("2020-01-01T00:00:00.500Z"),
    });
    expect("MaxResults" in input).toBe(false);
  });
});

describe("responses", () => {
  it("encodes Dates as epoch seconds and bytes as base64, and omits empty members", async () => {
    const service = stubService(async () => ({
      PublicKeyList: [
        {
          Value: new Uint8Array([1, 2, 3, 250]),
          ValidityStartTime: new Date("2016-01-29T11:15:44.869Z"),
          Fingerprint: undefined,
        },
      ],
      NextToken: undefined,
    }));
    const { handle } = wireWith(service);
    const res = await handle(await signed({ operation: "ListPublicKeys" }));
    expect(res.headers["content-type"]).toBe("application/x-amz-json-1.1");
    expect(res.body).toBe('{"PublicKeyList":[{"Value":"AQID+g==","ValidityStartTime":1454066144.869}]}');
  });

  it("an operation with no output answers {}", async () => {
    const { handle } = wireWith(stubService(async () => undefined));
    expect((await handle(await signed({ operation: "StartLogging", body: '{"Name":"t"}' }))).body).toBe("{}");
  });

  it("a CloudTrailError becomes {__type, message}, x-amzn-ErrorType and its status", async () => {
    const message =
      "Unknown trail: arn:aws:cloudtrail:us-east-1:111122223333:trail/x for the user: 111122223333";
    const { handle } = wireWith(
      stubService(async () => Promise.reject(fail("TrailNotFoundException", message))),
    );
    const res = await handle(await signed({ operation: "GetTrail", body: '{"Name":"x"}' }));
    expect(res.status).toBe(400);
    expect(res.headers["x-amzn-errortype"]).toBe("TrailNotFoundException");
    expect(res.body).toBe(JSON.stringify({ __type: "TrailNotFoundException", message }));
  });

  it("an unexpected error → 500 InternalFailure, logged with the request id, no detail to the caller", async () => {
    const { log, lines } = memoryLogger();
    const service = stubService(async () => {
      throw new TypeError("cannot read properties of undefined (reading 'secretThing')");
    });
    const { handle, ids } = wireWith(service, { log });
    const res = await handle(await signed());
    expect(res.status).toBe(500);
    expect(json(res)).toEqual({
      __type: "InternalFailure",
      message: "The request processing has failed because of an unknown error, exception or failure.",
    });
    expect(res.body).not.toMatch(/secretThing|TypeError|\bat\b/);
    const logged = lines.find((l) => l.msg === "internal failure");
    expect(logged?.requestId).toBe(ids.issued[0]);
    expect(JSON.stringify(logged)).toContain("secretThing");
  });
});

describe("request ids", () => {
  it("every answer carries x-amzn-RequestId, success or failure, and ctx has the same id", async () => {
    const service = stubService(async (op) => {
      if (op === "GetTrail") throw fail("TrailNotFoundException", "Unknown trail");
      if (op === "StartLogging") throw new Error("boom");
      return {};
    });
    const { handle, ids } = wireWith(service);
    const requests = [
      await signed(),
      await signed({ operation: "GetTrail", body: '{"Name":"x"}' }),
      await signed({ operation: "StartLogging", body: '{"Name":"x"}' }),
      await signed({ target: null }),
      await signed({ contentType: "text/xml" }),
      await signed({ body: "{" }),
      await signed({ secretAccessKey: "nope" }),
      raw({ "content-type": "application/x-amz-json-1.1", "x-amz-target": "CloudTrail_20131101.ListTrails" }),
      await signed({ operation: "GetTrail", body: '{"Name":true}' }),
    ];
    const seen: string[] = [];
    for (const req of requests) seen.push((await handle(req)).headers["x-amzn-requestid"]!);
    expect(seen).toEqual(ids.issued);
    expect(new Set(seen).size).toBe(requests.length);
    expect(service.calls[0]!.ctx.requestId).toBe(seen[0]);
  });
});

describe("onCall", () => {
  it("sees output and errors of the operation, and the response waits for it", async () => {
    const recorded: RecordedCall[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const service = stubService(async (op) => {
      if (op === "GetTrail") throw fail("TrailNotFoundException", "nope");
      return { Trails: [] };
    });
    const { handle } = wireWith(service, {
      onCall: async (call) => {
        recorded.push(call);
        if (call.operation === "ListTrails") await gate;
      },
    });
    let answered = false;
    const pending = handle(await signed()).then((r) => {
      answered = true;
      return r;
    });
    // Let everything up to the recorder run; the answer must still be held back.
    while (recorded.length === 0) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    release();
    expect((await pending).status).toBe(200);
    expect(recorded[0]!.output).toEqual({ Trails: [] });
    expect(recorded[0]!.ctx.requestId).toBe((await pending).headers["x-amzn-requestid"]);

    await handle(await signed({ operation: "GetTrail", body: '{"Name":"x"}' }));
    expect(recorded[1]!.error?.code).toBe("TrailNotFoundException");
    expect(recorded[1]!.input).toEqual({ Name: "x" });
  });

  it("is not called for authentication or protocol failures", async () => {
    const recorded: RecordedCall[] = [];
    const { handle } = wireWith(stubService(), { onCall: async (c) => void recorded.push(c) });
    await handle(await signed({ secretAccessKey: "bad" }));
    await handle(await signed({ body: "{" }));
    await handle(await signed({ target: "x.y" }));
    expect(recorded).toHaveLength(0);
  });

  it("is called for a signed call refused for a member of the wrong type", async () => {
    const recorded: RecordedCall[] = [];
    const { handle } = wireWith(stubService(), { onCall: async (c) => void recorded.push(c) });
    await handle(await signed({ operation: "GetTrail", body: '{"Name":[]}' }));
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.operation).toBe("GetTrail");
    expect(recorded[0]!.error?.code).toBe("SerializationException");
    expect(recorded[0]!.input).toEqual({ Name: [] });
  });

  it("a CloudTrailError from the recorder is the answer; any other error is a 500", async () => {
    const busy = wireWith(stubService(), {
      onCall: async () => Promise.reject(fail("ThrottlingException", "Rate exceeded")),
    });
    expect(json(await busy.handle(await signed()))).toEqual({
      __type: "ThrottlingException",
      message: "Rate exceeded",
    });
    const broken = wireWith(stubService(), { onCall: async () => Promise.reject(new Error("disk full")) });
    const res = await broken.handle(await signed());
    expect(res.status).toBe(500);
    expect(res.body).not.toContain("disk full");
  });
});
