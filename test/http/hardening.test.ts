import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { LINGER_MS } from "../../src/http/connections.ts";
import { createHttpServer, type HttpServerOptions, isLoopbackHost } from "../../src/http/server.ts";

/** What a hostile probe found at the HTTP level: slow clients, browsers, foreign Host names. */

const servers: ReturnType<typeof createHttpServer>[] = [];
const sockets: Socket[] = [];

async function listen(extra: Partial<HttpServerOptions> = {}) {
  const server = createHttpServer({
    wire: async () => ({ status: 200, headers: { "content-type": "application/json" }, body: "{}" }),
    log: pino({ level: "silent" }),
    ...extra,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, url: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A client that sends the start of a request and then nothing, and never closes its side. */
function slowClient(port: number): Promise<{ socket: Socket; received: () => string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on("data", (d) => chunks.push(d));
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      resolve({ socket, received: () => Buffer.concat(chunks).toString() });
    });
    socket.once("error", reject);
  });
}

describe("slow clients", () => {
  it("a request that does not finish in time gets 408 and its socket is destroyed though the client never closes", async () => {
    const { server, port } = await listen({ timeouts: { headersTimeout: 300, requestTimeout: 400 } });
    const client = await slowClient(port);
    const ended = new Promise<void>((r) => client.socket.once("end", () => r()));
    await ended;
    expect(client.received().split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
    // the client keeps its half open; the server's side must be gone all the same
    const deadline = Date.now() + LINGER_MS + 2_000;
    let open = 1;
    while (open > 0 && Date.now() < deadline) {
      open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
      if (open > 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(open).toBe(0);
  });

  it("ordinary calls are served while slow clients hold more sockets than the bound", async () => {
    const { url, port } = await listen({ maxConnections: 20 });
    const slow = await Promise.all(Array.from({ length: 40 }, () => slowClient(port)));
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${url}/health`);
      expect(res.status).toBe(200);
    }
    // the bound holds: at most 20 of the slow clients still have their connection
    await new Promise((r) => setTimeout(r, 50));
    const open = slow.filter((c) => !c.socket.destroyed && c.socket.readyState === "open");
    expect(open.length).toBeLessThanOrEqual(20);
  });
});

describe("development mode and browsers", () => {
  it("POST /_opentrail/reset with a simple content type (what a page can send) is refused; with JSON it resets", async () => {
    let resets = 0;
    const { url } = await listen({
      reset: async () => {
        resets++;
      },
    });
    const fromPage = await fetch(`${url}/_opentrail/reset`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: "http://evil.example" },
      body: "x",
    });
    expect(fromPage.status).toBe(403);
    expect(((await fromPage.json()) as { __type: string }).__type).toBe("AccessDeniedException");
    expect((await fetch(`${url}/_opentrail/reset`, { method: "POST" })).status).toBe(403);
    expect(resets).toBe(0);
    // the CORS preflight a page would need first has no route
    expect((await fetch(`${url}/_opentrail/reset`, { method: "OPTIONS" })).status).toBe(404);
    const res = await fetch(`${url}/_opentrail/reset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(resets).toBe(1);
  });

  it("with loopbackHostsOnly, a request whose Host is not a loopback name is refused (DNS rebinding)", async () => {
    const { port } = await listen({ loopbackHostsOnly: true });
    const ask = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, "127.0.0.1");
        sockets.push(socket);
        const chunks: Buffer[] = [];
        socket.on("data", (d) => chunks.push(d));
        socket.on("close", () => resolve(Buffer.concat(chunks).toString()));
        socket.on("error", () => {});
        socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      });
    expect((await ask("evil.example")).split("\r\n")[0]).toBe("HTTP/1.1 403 Forbidden");
    expect(await ask("evil.example")).toContain('"__type":"AccessDeniedException"');
    expect((await ask(`127.0.0.1:${port}`)).split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect((await ask(`localhost:${port}`)).split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
  });

  it.each([
    ["127.0.0.1:4566", true],
    ["127.3.4.5", true],
    ["localhost", true],
    ["LOCALHOST:80", true],
    ["s3.localhost:4566", true],
    ["[::1]:4566", true],
    ["::1", true],
    ["evil.example", false],
    ["127.0.0.1.evil.example", false],
    ["localhost.evil.example:4566", false],
    ["[::2]:4566", false],
    ["10.0.0.1:4566", false],
    ["", false],
  ])("isLoopbackHost(%j) is %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
