import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** An S3 endpoint in front of another, whose object puts can be made to look failed. */
export interface FaultyS3Front {
  endpoint: string;
  /**
   * While true, an object PUT that the server behind took is answered 500 InternalError: the put
   * wrote the object, and its caller cannot know it (as after a 5xx or a lost answer from AWS).
   */
  failPuts: boolean;
  close(): Promise<void>;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';

/** Passes every request to `target` (path-style S3) as it came and its answer back, but see `failPuts`. */
export async function startFaultyS3Front(target: string): Promise<FaultyS3Front> {
  const front: FaultyS3Front = { endpoint: "", failPuts: false, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", target);
      const isObjectPut =
        req.method === "PUT" &&
        [...url.searchParams.keys()].every((k) => k === "x-id") &&
        url.pathname.split("/").filter(Boolean).length >= 2;
      const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
        if (front.failPuts && isObjectPut && answer.statusCode === 200) {
          answer.resume();
          res.writeHead(500, { "content-type": "application/xml" }).end(INTERNAL_ERROR);
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  front.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}
