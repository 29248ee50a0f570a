import { Agent, request } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../../src/wire/sigv4.ts";

/**
 * Signed `POST /ingest` of ready-made plain JSON bodies over kept-alive connections, for load
 * drivers that must spend little CPU per request (they share the machine with the server).
 */
export function ingestPoster(endpoint: string, opts: { region: string; connections: number }) {
  const url = new URL("/ingest", endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const signer = new SignatureV4({
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    region: opts.region,
    service: "cloudtrail",
    sha256: NodeSha256,
  });
  return {
    /** Status and body of the answer. */
    async post(
      body: Buffer,
      extraHeaders: Record<string, string> = {},
    ): Promise<{ status: number; text: string }> {
      const { headers } = await signer.sign({
        method: "POST",
        protocol: "http:",
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        headers: { host: url.host, "content-type": "application/json", ...extraHeaders },
        body,
      });
      return new Promise((resolve, reject) => {
        const req = request(url, { method: "POST", agent, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}

/** A command-line number that must be finite and not negative. */
export function numberFlag(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
  return n;
}

/**
 * Posters for `lanes` concurrent clients spread over several nodes round-robin: lane i posts to
 * node i mod n, over connections of that node's own.
 */
export function lanePosters(endpoints: readonly string[], opts: { region: string; lanes: number }) {
  const posters = endpoints.map((endpoint, node) =>
    ingestPoster(endpoint, {
      region: opts.region,
      connections: Math.max(1, Math.ceil((opts.lanes - node) / endpoints.length)),
    }),
  );
  return {
    /** Which node lane `lane` posts to. */
    nodeOf: (lane: number) => lane % posters.length,
    forLane: (lane: number) => posters[lane % posters.length]!,
    close(): void {
      for (const poster of posters) poster.close();
    },
  };
}
