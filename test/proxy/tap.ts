import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ProxiedRequest, UpstreamAnswer } from "../../src/proxy/call.ts";

/**
 * A tap between an official client and an upstream for the proxy's tests: every request the
 * client sends is recorded as the proxy's forwarding half hands it over (ProxiedRequest, scope
 * region and signing name from the SigV4 credential), then forwarded to the upstream (moto) or,
 * without one, answered with a canned answer; the answer is recorded as an UpstreamAnswer.
 */

export interface Exchange {
  req: ProxiedRequest;
  answer: UpstreamAnswer;
}

export interface CannedAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Tap {
  endpoint: string;
  exchanges: Exchange[];
  /** The exchanges recorded since the last call. */
  take(): Exchange[];
  stop(): Promise<void>;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function headersOf(raw: IncomingMessage["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** Region and signing name of a SigV4 header or presigned query; the default region otherwise. */
export function scopeOf(
  headers: Record<string, string>,
  query: string,
): { region: string; signingName?: string } {
  const auth = headers.authorization ?? "";
  const credential =
    /Credential=([^,\s]+)/.exec(auth)?.[1] ?? new URLSearchParams(query).get("X-Amz-Credential") ?? undefined;
  const parts = credential?.split("/");
  if (parts === undefined || parts.length < 5) return { region: "us-east-1" };
  return { region: parts[2]!, signingName: parts[3]! };
}

export async function startTap(
  upstream: string | undefined,
  canned: (req: ProxiedRequest) => CannedAnswer = () => ({ status: 200, body: "{}" }),
): Promise<Tap> {
  const exchanges: Exchange[] = [];
  let taken = 0;
  const server: Server = createServer((incoming, outgoing) => {
    void (async () => {
      const body = await readAll(incoming);
      const url = incoming.url ?? "/";
      const q = url.indexOf("?");
      const headers = headersOf(incoming.headers);
      const query = q < 0 ? "" : url.slice(q + 1);
      const scope = scopeOf(headers, query);
      const req: ProxiedRequest = {
        method: incoming.method ?? "GET",
        path: q < 0 ? url : url.slice(0, q),
        query,
        headers,
        body: new Uint8Array(body),
        region: scope.region,
        signingName: scope.signingName,
      };
      let answer: UpstreamAnswer;
      if (upstream === undefined) {
        const c = canned(req);
        answer = {
          status: c.status,
          headers: c.headers ?? {},
          body: new TextEncoder().encode(c.body ?? ""),
        };
      } else {
        answer = await forward(upstream, incoming.method ?? "GET", url, incoming.headers, body);
      }
      exchanges.push({ req, answer });
      outgoing.writeHead(answer.status, answer.headers);
      outgoing.end(answer.body);
    })().catch((e: unknown) => {
      outgoing.writeHead(502);
      outgoing.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    exchanges,
    take() {
      const out = exchanges.slice(taken);
      taken = exchanges.length;
      return out;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function forward(
  upstream: string,
  method: string,
  url: string,
  headers: IncomingMessage["headers"],
  body: Buffer,
): Promise<UpstreamAnswer> {
  const target = new URL(upstream);
  return new Promise((resolve, reject) => {
    const out = httpRequest(
      { host: target.hostname, port: target.port, method, path: url, headers },
      (res) => {
        readAll(res).then((bytes) => {
          const h = headersOf(res.headers);
          delete h["transfer-encoding"];
          delete h.connection;
          resolve({ status: res.statusCode ?? 502, headers: h, body: new Uint8Array(bytes) });
        }, reject);
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}
