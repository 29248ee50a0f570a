import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP forwarder that holds each answer back for a fixed time before it sends it on: an S3
 * server on this machine seen as S3 is seen from a nearby host, where every GET waits 10–30 ms.
 * The request goes on unchanged, Host header included, so that signatures still match; only the
 * status line, headers and body of the answer wait, the request's own bytes do not.
 */

export interface LatencyProxy {
  endpoint: string;
  /** Answers forwarded so far. */
  readonly forwarded: number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(upstream: string, delayMs: number): Promise<LatencyProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let forwarded = 0;
  const server = createServer((req, res) => {
    const out = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        answer.pause();
        setTimeout(() => {
          forwarded++;
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
          answer.pipe(res);
        }, delayMs);
      },
    );
    out.on("error", (e) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`forwarder: ${e.message}`);
    });
    req.pipe(out);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
