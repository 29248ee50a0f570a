import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signS3 } from "../support/proxy.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * A large upload through the proxy streams: the process grows by a few MB, not by the body. The
 * upstream is a sink in a child process (its memory is not ours) that reads the body and answers
 * as S3 does. 256 MB here; OPENTRAIL_UPLOAD_MB=1024 for the 1 GB figure.
 */

const MB = 1024 * 1024;
const SIZE_MB = Number(process.env.OPENTRAIL_UPLOAD_MB ?? 256);

const SINK = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  let n = 0;
  req.on("data", (c) => { n += c.length; });
  req.on("end", () => {
    res.writeHead(200, { "x-amz-request-id": "SINK0000000000000", etag: '"sink"', "x-sink-bytes": String(n) });
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(String(server.address().port) + "\\n"));
`;

let sink: ChildProcess;
let server: TestServer;

beforeAll(async () => {
  sink = spawn(process.execPath, ["-e", SINK], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve, reject) => {
    sink.stdout!.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
    sink.once("exit", () => reject(new Error("the sink exited")));
  });
  server = await startTestServer({ upstreams: { default: `http://127.0.0.1:${port}`, services: {} } });
}, 60_000);

afterAll(async () => {
  await server?.close();
  sink?.kill("SIGTERM");
});

/** `total` bytes in 64 KiB chunks made on demand: the client holds no more than the socket asks for. */
function generated(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

async function put(
  total: number,
  payloadHash: string,
): Promise<{ status: number; headers: Record<string, unknown> }> {
  const url = new URL("/big-bucket/big-object", server.url);
  const headers = await signS3(
    url,
    "PUT",
    { "x-amz-content-sha256": payloadHash, "content-length": String(total) },
    { "x-id": "PutObject" },
  );
  return new Promise((resolve, reject) => {
    const req = request(`${url.href}?x-id=PutObject`, {
      method: "PUT",
      headers,
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    generated(total).pipe(req);
  });
}

describe("a large upload through the proxy", () => {
  it(`streams ${SIZE_MB} MB with the RSS growing by a few MB`, async () => {
    // the first proxied call reads the model table: not the upload's memory
    expect((await put(1024, "UNSIGNED-PAYLOAD")).status).toBe(200);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = Date.now();
    try {
      const answer = await put(SIZE_MB * MB, "UNSIGNED-PAYLOAD");
      expect(answer.status).toBe(200);
      expect(answer.headers["x-sink-bytes"]).toBe(String(SIZE_MB * MB));
    } finally {
      clearInterval(sampler);
    }
    const grew = (peak - before) / MB;
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `proxy upload: ${SIZE_MB} MB in ${seconds.toFixed(1)} s (${(SIZE_MB / seconds).toFixed(0)} MB/s); RSS ${(before / MB).toFixed(0)} MB -> peak ${(peak / MB).toFixed(0)} MB (+${grew.toFixed(1)} MB)\n`,
    );
    // not a timing assertion: a body held in memory would grow the process by at least its size.
    // Half the body is the line: the client's chunks and the server's socket buffers share this
    // process, and the collector returns them late (a CI machine saw +70 MB at 256 MB).
    expect(grew).toBeLessThan(SIZE_MB / 2);
  }, 300_000);

  it("checks a hex payload hash while streaming: a body that does not match never reaches the upstream whole", async () => {
    const total = 4 * MB;
    const wrong = createHash("sha256").update(Buffer.alloc(total, 0x62)).digest("hex");
    const answer = await put(total, wrong);
    expect(answer.status).toBe(400);
    const right = createHash("sha256").update(Buffer.alloc(total, 0x61)).digest("hex");
    expect((await put(total, right)).status).toBe(200);
  }, 60_000);
});
