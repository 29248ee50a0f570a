import { request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createHttpServer } from "../../src/http/server.ts";

/**
 * With the proxy on, a long upload is not cut by the whole-request limit; a connection that stays
 * silent is. The proxy here is a handler that reads the body and answers its size.
 */

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function start(): Promise<number> {
  server = createHttpServer({
    wire: async () => ({ status: 200, headers: {}, body: "" }),
    log: pino({ level: "silent" }),
    timeouts: { requestTimeout: 1_000, headersTimeout: 1_000 },
    proxy: async (req, res) => {
      let n = 0;
      req.on("data", (c: Buffer) => {
        n += c.length;
      });
      req.on("end", () => res.end(String(n)));
    },
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server!.address() as AddressInfo).port;
}

function upload(port: number, pieces: number, gapMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: "127.0.0.1",
      method: "PUT",
      path: "/bucket/key",
      headers: { "content-length": String(pieces * 10) },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    let sent = 0;
    const tick = () => {
      req.write(Buffer.alloc(10));
      sent++;
      if (sent < pieces) setTimeout(tick, gapMs);
      else req.end();
    };
    tick();
  });
}

describe("proxied uploads and socket limits", () => {
  it("let an upload that keeps flowing run past the whole-request limit", async () => {
    const port = await start();
    // 15 pieces 100 ms apart: about 1.5 s, over the 1 s limit, never silent for 1 s
    expect(await upload(port, 15, 100)).toBe("150");
  });

  it("drop a connection that goes silent", async () => {
    const port = await start();
    await expect(upload(port, 2, 2_500)).rejects.toThrow();
  });
});
