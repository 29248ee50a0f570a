import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../../src/wire/sigv4.ts";

/**
 * Signed `POST /ingest` of ready-made plain JSON bodies over kept-alive connections, for load
 * drivers that must spend little CPU per request (they share the machine with the server).
 */
export function ingestPoster(
  endpoint: string,
  /**
   * accessKeyId: `test` (the development credential) unless another account's is given.
   * retryStaleSockets: send again, once, a request whose reused socket the server had closed
   * (its keep-alive timeout); only for bodies whose eventIDs make a second delivery harmless.
   */
  opts: { region: string; connections: number; accessKeyId?: string; retryStaleSockets?: boolean },
) {
  const url = new URL("/ingest", endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.accessKeyId ?? "test", secretAccessKey: "test" },
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
      const send = (retry: boolean) =>
        new Promise<{ status: number; text: string }>((resolve, reject) => {
          const req = request(url, { method: "POST", agent, headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
            );
            res.on("error", reject);
          });
          req.on("error", (e: NodeJS.ErrnoException) => {
            // the server closed an idle kept-alive socket as this request went out on it
            if (retry && req.reusedSocket && e.code === "ECONNRESET") resolve(send(false));
            else reject(e);
          });
          req.end(body);
        });
      return send(opts.retryStaleSockets ?? false);
    },
    close(): void {
      agent.destroy();
    },
  };
}

export type IngestPoster = ReturnType<typeof ingestPoster>;

/**
 * Posts every batch `next` makes, `lanes` at a time, until it makes none; a batch the server
 * does not take (any status but 200) ends the run with an error.
 */
export async function postAll(
  lanes: number,
  next: () => { poster: IngestPoster; body: Buffer } | undefined,
): Promise<void> {
  const lane = async () => {
    for (let batch = next(); batch !== undefined; batch = next()) {
      const { status, text } = await batch.poster.post(batch.body);
      if (status !== 200) throw new Error(`POST /ingest answered ${status}: ${text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/**
 * Calls `send` with batch numbers 0, 1, 2 … from `lanes` loops until `until` (performance.now()
 * ms). With `rate` records/s (0: as fast as the sends return) batch n waits for its moment,
 * n · batchRecords / rate seconds after the start, and a batch due after `until` is not sent.
 */
export async function pacedBatches(opts: {
  lanes: number;
  until: number;
  rate: number;
  batchRecords: number;
  /** Sends batch number `batch` from lane `lane` (0 … lanes − 1). */
  send: (batch: number, lane: number) => Promise<void>;
}): Promise<void> {
  const start = performance.now();
  let next = 0;
  const lane = async (n: number) => {
    while (performance.now() < opts.until) {
      const batch = next++;
      if (opts.rate > 0) {
        const due = start + (batch * opts.batchRecords * 1000) / opts.rate;
        if (due >= opts.until) return;
        await sleep(Math.max(0, due - performance.now()));
      }
      await opts.send(batch, n);
    }
  };
  await Promise.all(Array.from({ length: opts.lanes }, (_, n) => lane(n)));
}

/**
 * Batch bodies made ahead from templates, so that a client sharing the machine spends little per
 * batch: BATCH_MARK stands for the batch number in every eventID of a template (never valid JSON
 * escape or hex), TIME_MARK for the send time, so that records carry the second they are sent in.
 */
export const BATCH_MARK = "@@@@@@@@";
export const TIME_MARK_TEXT = "2001-01-01T00:00:00Z";
export const TIME_MARK = new Date(TIME_MARK_TEXT);

/** A template's body for batch number `batch` (8 hex digits in its eventIDs), stamped with the current second. */
export function batchBody(template: string, batch: number): Buffer {
  const now = `${new Date().toISOString().slice(0, 19)}Z`;
  return Buffer.from(
    template.replaceAll(BATCH_MARK, batch.toString(16).padStart(8, "0")).replaceAll(TIME_MARK_TEXT, now),
  );
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
