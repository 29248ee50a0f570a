import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import {
  CloudTrailClient,
  GetTrailCommand,
  GetTrailStatusCommand,
  ListPublicKeysCommand,
  ListTrailsCommand,
  StopLoggingCommand,
  TrailNotFoundException,
} from "@aws-sdk/client-cloudtrail";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fail } from "../../src/api/index.ts";
import { createHttpServer, type HttpServerOptions } from "../../src/http/server.ts";
import { createWireHandler } from "../../src/wire/handler.ts";
import type { RawRequest, RawResponse } from "../../src/wire/types.ts";
import { credential, credentialStore, stubService } from "../wire/sign.ts";

/** A logger whose lines can be awaited, so tests wait for the server's own account of events. */
function watchedLogger() {
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  const log = pino(
    { level: "debug" },
    {
      write(line: string) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        for (const w of waiters.filter((x) => x.msg === entry.msg)) w.resolve();
      },
    },
  );
  const waitFor = (msg: string) =>
    lines.some((l) => l.msg === msg)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ msg, resolve }));
  return { log, lines, waitFor };
}

async function listen(opts: HttpServerOptions) {
  const server = createHttpServer(opts);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}

async function close(server: ReturnType<typeof createHttpServer>) {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Sends raw bytes on a fresh connection and returns everything the server wrote before closing. */
function exchange(port: number, ...parts: (string | Buffer)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (d) => received.push(d));
    socket.on("error", (e: NodeJS.ErrnoException) => {
      // The server may drop the connection while we still write; what it answered is what counts.
      if (e.code === "ECONNRESET" || e.code === "EPIPE") resolve(Buffer.concat(received).toString());
      else reject(e);
    });
    socket.on("close", () => resolve(Buffer.concat(received).toString()));
    for (const part of parts) socket.write(part);
  });
}

function statusLine(response: string): string {
  return response.split("\r\n")[0] ?? "";
}

function responseJson(response: string): Record<string, unknown> {
  return JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

describe("HTTP server with a recording wire stub", () => {
  const seen: RawRequest[] = [];
  const watched = watchedLogger();
  let resets = 0;
  let ctx: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    ctx = await listen({
      wire: async (req): Promise<RawResponse> => {
        seen.push(req);
        return {
          status: 200,
          headers: { "content-type": "application/x-amz-json-1.1" },
          body: '{"ok":true}',
        };
      },
      log: watched.log,
      maxBodyBytes: 1024,
      reset: async () => {
        resets++;
      },
    });
  });
  afterAll(() => close(ctx.server));

  it("GET /health → 200 {status: ok}", async () => {
    const res = await fetch(`${ctx.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("POST / hands the raw request to the wire layer", async () => {
    const before = seen.length;
    const res = await fetch(`${ctx.url}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "CloudTrail_20131101.ListTrails",
      },
      body: '{"a":1}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const req = seen[before]!;
    expect(req.body.toString()).toBe('{"a":1}');
    expect(req.headers["x-amz-target"]).toBe("CloudTrail_20131101.ListTrails");
    expect(req.headers.host).toBe(`127.0.0.1:${ctx.port}`);
    expect(req.remoteAddress).toBe("127.0.0.1");
  });

  it("joins repeated headers with a comma", async () => {
    const before = seen.length;
    await exchange(
      ctx.port,
      "POST / HTTP/1.1\r\nHost: x\r\nX-Thing: a\r\nX-Thing: b\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    expect(seen[before]!.headers["x-thing"]).toBe("a,b");
  });

  it.each([
    ["GET", "/"],
    ["GET", "/nope"],
    ["POST", "/2013-11-01/trails"],
    ["PUT", "/"],
  ])("%s %s → 404 in the AWS error shape", async (method, path) => {
    const res = await fetch(`${ctx.url}${path}`, { method });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      __type: "UnknownOperationException",
      message: `No route for ${method} ${path}`,
    });
  });

  it("POST /_opentrail/reset calls reset and answers {}", async () => {
    const res = await fetch(`${ctx.url}/_opentrail/reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect(resets).toBe(1);
  });

  it("a declared body over the limit → 413 before any of it is read", async () => {
    const before = seen.length;
    const response = await exchange(
      ctx.port,
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 5000000\r\n\r\n",
    );
    expect(statusLine(response)).toBe("HTTP/1.1 413 Payload Too Large");
    expect(responseJson(response)).toEqual({
      __type: "RequestEntityTooLargeException",
      message: "Request body is larger than 1024 bytes",
    });
    expect(seen.length).toBe(before);
  });

  it("a chunked body that grows over the limit → 413", async () => {
    const chunk = "x".repeat(2000);
    const response = await exchange(
      ctx.port,
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    expect(statusLine(response)).toBe("HTTP/1.1 413 Payload Too Large");
  });

  it("a body exactly at the limit is accepted", async () => {
    const res = await fetch(`${ctx.url}/`, { method: "POST", body: "y".repeat(1024) });
    expect(res.status).toBe(200);
  });

  it("a client that disconnects mid-body is dropped without calling the wire", async () => {
    const before = seen.length;
    const socket = connect(ctx.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"half":');
    const gone = watched.waitFor("client went away before sending its body");
    socket.destroy();
    await gone;
    expect(seen.length).toBe(before);
    expect((await fetch(`${ctx.url}/health`)).status).toBe(200);
  });

  it("garbage instead of HTTP gets a 400 and the server keeps serving", async () => {
    const response = await exchange(ctx.port, "GARBAGE\r\n\r\n");
    expect(statusLine(response)).toBe("HTTP/1.1 400 Bad Request");
    const binary = await exchange(ctx.port, Buffer.from([0, 1, 2, 255, 254, 13, 10, 13, 10]));
    expect(statusLine(binary)).toBe("HTTP/1.1 400 Bad Request");
    expect((await fetch(`${ctx.url}/health`)).status).toBe(200);
  });

  it("a wire layer that throws → 500 InternalFailure without detail", async () => {
    const failing = await listen({
      wire: async () => {
        throw new Error("secret detail");
      },
      log: pino({ level: "silent" }),
    });
    try {
      const res = await fetch(`${failing.url}/`, { method: "POST", body: "{}" });
      expect(res.status).toBe(500);
      const body = await res.text();
      expect(JSON.parse(body).__type).toBe("InternalFailure");
      expect(body).not.toContain("secret detail");
      expect((await fetch(`${failing.url}/_opentrail/reset`, { method: "POST" })).status).toBe(404);
    } finally {
      await close(failing.server);
    }
  });
});

describe("the official @aws-sdk/client-cloudtrail against the server", () => {
  const service = stubService(async (op) => {
    switch (op) {
      case "ListTrails":
        return {
          Trails: [
            {
              Name: "t1",
              TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1",
              HomeRegion: "us-east-1",
            },
          ],
        };
      case "GetTrailStatus":
        return {
          IsLogging: true,
          StartLoggingTime: new Date("2024-03-01T10:00:00.123Z"),
          TimeLoggingStopped: "",
        };
      case "ListPublicKeys":
        return {
          PublicKeyList: [
            {
              Value: new Uint8Array([48, 130, 1, 10]),
              ValidityStartTime: new Date("2024-03-01T00:00:00Z"),
              ValidityEndTime: new Date("2024-03-02T00:00:00Z"),
              Fingerprint: "abc",
            },
          ],
        };
      case "GetTrail":
        throw fail(
          "TrailNotFoundException",
          "Unknown trail: arn:aws:cloudtrail:us-east-1:111122223333:trail/nope for the user: 111122223333",
        );
      default:
        throw new TypeError("unexpected");
    }
  });
  let ctx: Awaited<ReturnType<typeof listen>>;
  let client: CloudTrailClient;

  beforeAll(async () => {
    const wire = createWireHandler({
      service,
      credentials: {
        lookup: (id) => (id === "test" ? credential("test", "test") : credentialStore.lookup(id)),
      },
      regions: ["us-east-1"],
      // The SDK signs with the real time, so the server checks skew against it.
      clock: { now: () => new Date() },
      ids: { uuid: () => crypto.randomUUID() },
      log: pino({ level: "silent" }),
    });
    ctx = await listen({ wire, log: pino({ level: "silent" }) });
    client = new CloudTrailClient({
      endpoint: ctx.url,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await close(ctx.server);
  });

  it("parses a success response", async () => {
    const out = await client.send(new ListTrailsCommand({}));
    expect(out.Trails).toEqual([
      { Name: "t1", TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/t1", HomeRegion: "us-east-1" },
    ]);
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(service.calls.at(-1)!.ctx.requestId).toBe(out.$metadata.requestId);
  });

  it("parses timestamps and blobs", async () => {
    const status = await client.send(new GetTrailStatusCommand({ Name: "t1" }));
    expect(status.StartLoggingTime).toEqual(new Date("2024-03-01T10:00:00.123Z"));
    expect(status.TimeLoggingStopped).toBe("");
    const keys = await client.send(
      new ListPublicKeysCommand({ StartTime: new Date("2024-03-01T00:00:00.5Z") }),
    );
    expect(keys.PublicKeyList?.[0]?.Value).toEqual(new Uint8Array([48, 130, 1, 10]));
    expect(keys.PublicKeyList?.[0]?.ValidityEndTime).toEqual(new Date("2024-03-02T00:00:00Z"));
    // The SDK sent fractional epoch seconds; the wire turned them back into the same instant.
    expect(service.calls.at(-1)!.input.StartTime).toEqual(new Date("2024-03-01T00:00:00.5Z"));
  });

  it("turns a modeled error into the SDK's exception class, client fault", async () => {
    const error = await client.send(new GetTrailCommand({ Name: "nope" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrailNotFoundException);
    const e = error as TrailNotFoundException;
    expect(e.name).toBe("TrailNotFoundException");
    expect(e.$fault).toBe("client");
    expect(e.message).toBe(
      "Unknown trail: arn:aws:cloudtrail:us-east-1:111122223333:trail/nope for the user: 111122223333",
    );
    expect(e.$metadata.httpStatusCode).toBe(400);
    expect(e.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("turns an internal failure into a server fault", async () => {
    const error = (await client.send(new StopLoggingCommand({ Name: "t1" })).catch((e: unknown) => e)) as {
      name: string;
      $fault: string;
      $metadata: { httpStatusCode?: number; requestId?: string };
    };
    expect(error.name).toBe("InternalFailure");
    expect(error.$fault).toBe("server");
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(error.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("an unknown key surfaces as UnrecognizedClientException", async () => {
    const stranger = new CloudTrailClient({
      endpoint: ctx.url,
      region: "us-east-1",
      credentials: { accessKeyId: "nobody", secretAccessKey: "x" },
      maxAttempts: 1,
    });
    try {
      const error = (await stranger.send(new ListTrailsCommand({})).catch((e: unknown) => e)) as Error & {
        $fault: string;
      };
      expect(error.name).toBe("UnrecognizedClientException");
      expect(error.message).toBe("The security token included in the request is invalid.");
      expect(error.$fault).toBe("client");
    } finally {
      stranger.destroy();
    }
  });
});
