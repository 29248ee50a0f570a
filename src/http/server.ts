import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { isIP, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { ErrorCode } from "../api/index.ts";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "../wire/handler.ts";
import type { RawRequest, RawResponse } from "../wire/types.ts";
import { answerAndDrop, boundConnections, DEFAULT_MAX_CONNECTIONS } from "./connections.ts";

export interface HttpServerOptions {
  wire: (req: RawRequest) => Promise<RawResponse>;
  /**
   * The recording proxy: every AWS request that is neither CloudTrail's nor one of this server's
   * own routes. Absent when no upstream is configured.
   */
  proxy?: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  log: Logger;
  /** Largest body accepted on `POST /`; default 1 MiB. */
  maxBodyBytes?: number;
  /** `POST /ingest`: CloudTrail log file bodies from other services. */
  ingest?: (req: RawRequest) => Promise<RawResponse>;
  /** Largest body accepted on `POST /ingest`; default 32 MiB. */
  maxIngestBytes?: number;
  /** Only in development mode: `POST /_opentrail/reset` → 200 {}. */
  reset?: () => Promise<void>;
  /**
   * Development mode: answer only requests whose Host is a loopback name or address, so that a
   * web page cannot reach the server through a DNS name it controls (DNS rebinding).
   */
  loopbackHostsOnly?: boolean;
  /** Open connections at most; default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** For tests: shorter socket limits than SERVER_TIMEOUTS. */
  timeouts?: Partial<Record<keyof typeof SERVER_TIMEOUTS, number>>;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INGEST_BYTES = 32 * 1024 * 1024;

/** Socket limits: a slow or stuck client cannot hold a connection forever. */
export const SERVER_TIMEOUTS = {
  headersTimeout: 20_000,
  requestTimeout: 60_000,
  keepAliveTimeout: 5_000,
} as const;

const JSON_TYPE = "application/json";

class BodyTooLarge extends Error {}
class ClientGone extends Error {}

/** Headers as the wire layer wants them: lower-case names, repeats joined with ",". */
function rawHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) out[name] = values.join(",");
  }
  return out;
}

/**
 * Reads the body up to `limit` bytes. A declared Content-Length over the limit is refused before
 * a single byte is read; a chunked body is refused as soon as it passes the limit.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => finish());
    req.once("error", () => finish(new ClientGone()));
    req.once("close", () => {
      if (!req.complete) finish(new ClientGone());
    });
  });
}

function send(res: ServerResponse, response: RawResponse): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(response.body, "utf8");
  res.writeHead(response.status, { ...response.headers, "content-length": String(body.length) });
  res.end(body);
}

function sendError(res: ServerResponse, code: ErrorCode, message: string, status: number): void {
  send(res, errorResponse(randomUUID(), code, message, status));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, {
    status,
    headers: { "content-type": JSON_TYPE, "x-amzn-requestid": randomUUID() },
    body: JSON.stringify(value),
  });
}

/** Answers and then drops the connection, so an unread body is never drained. */
function sendAndClose(res: ServerResponse, code: ErrorCode, message: string, status: number): void {
  res.shouldKeepAlive = false;
  res.once("finish", () => res.socket?.destroy());
  sendError(res, code, message, status);
}

function tlsInfo(socket: Socket): RawRequest["tls"] {
  if (!(socket instanceof TLSSocket)) return undefined;
  return { version: socket.getProtocol() ?? "", cipher: socket.getCipher()?.name ?? "" };
}

/**
 * A route's answer: a wire handler gets the whole body (read up to `bodyLimit`) as a RawRequest;
 * a plain handler answers without reading one.
 */
type RouteHandler =
  | { kind: "wire"; bodyLimit: number; handle: (req: RawRequest) => Promise<RawResponse> }
  | {
      kind: "plain";
      handle: () => Promise<{ status: number; body: unknown }>;
      /**
       * Only with a JSON Content-Type: a web page cannot send that cross-origin without a CORS
       * preflight, which this server never grants (OPTIONS has no route).
       */
      jsonOnly?: boolean;
    };

interface Route {
  method: string;
  path: string;
  handler: RouteHandler;
}

/** application/json or AWS's application/x-amz-json-1.x, parameters allowed. */
function isJsonType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/x-amz-json-1\.[01]$/.test(type);
}

/** A Host header naming this machine: localhost (and *.localhost), 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) name = name.slice(1, name.indexOf("]") === -1 ? undefined : name.indexOf("]"));
  else if (name.includes(":") && name.indexOf(":") === name.lastIndexOf(":"))
    name = name.slice(0, name.indexOf(":"));
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (name === "::1" || name === "::ffff:127.0.0.1") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}

/** X-Amz-Target prefixes of CloudTrail's own API (the SDKs send the first; the model names the second). */
const CLOUDTRAIL_TARGETS = [
  "CloudTrail_20131101.",
  "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.",
];

/** Paths this server answers itself, whatever else is configured. */
function isOwnPath(path: string): boolean {
  return path === "/ingest" || path === "/health" || path.startsWith("/_opentrail/");
}

/**
 * Who answers a request: this server's route table (CloudTrail's API on `POST /`, ingest, health,
 * the development reset) or the recording proxy, which takes every other AWS request when an
 * upstream is configured. The one place that decides it.
 */
export function routeFor(
  path: string,
  headers: IncomingMessage["headers"],
  proxying: boolean,
): "routes" | "proxy" {
  if (!proxying || isOwnPath(path)) return "routes";
  const target = headers["x-amz-target"];
  if (typeof target === "string" && CLOUDTRAIL_TARGETS.some((p) => target.startsWith(p))) return "routes";
  return "proxy";
}

function resetHandler(reset: () => Promise<void>): () => Promise<{ status: number; body: unknown }> {
  return async () => {
    await reset();
    return { status: 200, body: {} };
  };
}

/** Every route the server answers; absent options leave their routes out. */
function routeTable(opts: HttpServerOptions): Route[] {
  const routes: (Route | false)[] = [
    {
      method: "POST",
      path: "/",
      handler: { kind: "wire", bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, handle: opts.wire },
    },
    opts.ingest !== undefined && {
      method: "POST",
      path: "/ingest",
      handler: {
        kind: "wire",
        bodyLimit: opts.maxIngestBytes ?? DEFAULT_MAX_INGEST_BYTES,
        handle: opts.ingest,
      },
    },
    {
      method: "GET",
      path: "/health",
      handler: { kind: "plain", handle: async () => ({ status: 200, body: { status: "ok" } }) },
    },
    opts.reset !== undefined && {
      method: "POST",
      path: "/_opentrail/reset",
      handler: { kind: "plain", handle: resetHandler(opts.reset), jsonOnly: true },
    },
  ];
  return routes.filter((r): r is Route => r !== false);
}

export function createHttpServer(opts: HttpServerOptions): Server {
  const { log } = opts;
  const routes = new Map(routeTable(opts).map((r) => [`${r.method} ${r.path}`, r.handler]));

  async function handleWire(
    req: IncomingMessage,
    res: ServerResponse,
    handler: (req: RawRequest) => Promise<RawResponse>,
    limit: number,
  ): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        sendAndClose(
          res,
          "RequestEntityTooLargeException",
          `Request body is larger than ${limit} bytes`,
          413,
        );
        return;
      }
      log.debug({ remoteAddress: req.socket.remoteAddress }, "client went away before sending its body");
      req.socket.destroy();
      return;
    }
    const response = await handler({
      method: req.method ?? "",
      url: req.url ?? "/",
      headers: rawHeaders(req),
      body,
      remoteAddress: req.socket.remoteAddress ?? "",
      ...(tlsInfo(req.socket) ? { tls: tlsInfo(req.socket) } : {}),
    });
    send(res, response);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (opts.loopbackHostsOnly && !isLoopbackHost(req.headers.host)) {
      sendAndClose(
        res,
        "AccessDeniedException",
        `In development mode only requests to a loopback host are answered, not to ${req.headers.host ?? "(no Host)"}`,
        403,
      );
      return;
    }
    if (opts.proxy !== undefined) {
      // without a whole-request limit (below): a request silent for that long while sending is
      // dropped; one waiting on an upstream's answer never is
      req.socket.setTimeout(timeouts.requestTimeout);
      req.once("end", () => req.socket.setTimeout(0));
      if (routeFor(path ?? "/", req.headers, true) === "proxy") return opts.proxy(req, res);
    }
    const handler = routes.get(`${req.method} ${path}`);
    if (handler === undefined) {
      sendAndClose(res, "UnknownOperationException", `No route for ${req.method} ${path}`, 404);
      return;
    }
    if (handler.kind === "wire") return handleWire(req, res, handler.handle, handler.bodyLimit);
    if (handler.jsonOnly && !isJsonType(req.headers["content-type"])) {
      sendAndClose(
        res,
        "AccessDeniedException",
        `${req.method} ${path} needs Content-Type: application/json`,
        403,
      );
      return;
    }
    const answer = await handler.handle();
    sendJson(res, answer.status, answer.body);
  }

  const timeouts = { ...SERVER_TIMEOUTS, ...opts.timeouts };
  // Header and request timeouts are checked this often (Node's default is 30 s).
  const connectionsCheckingInterval = Math.min(timeouts.headersTimeout, timeouts.requestTimeout, 5_000);
  const server = createServer({ connectionsCheckingInterval }, (req, res) => {
    route(req, res).catch((err: unknown) => {
      log.error({ err, method: req.method, url: req.url }, "request failed");
      sendAndClose(res, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500);
    });
  });
  server.headersTimeout = timeouts.headersTimeout;
  if (opts.proxy === undefined) {
    server.requestTimeout = timeouts.requestTimeout;
  } else {
    // a proxied upload may rightly take longer than any whole-request limit (a 1 GB object at
    // 10 MB/s): a proxied request whose body stays silent that long is dropped instead (below)
    server.requestTimeout = 0;
  }
  server.keepAliveTimeout = timeouts.keepAliveTimeout;

  boundConnections(server, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, log);
  // Unparsable HTTP or a client too slow to finish its request: answer if the socket still can
  // take it, then drop it; never throw.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    log.debug({ code: err.code }, "malformed or timed-out HTTP request");
    if (err.code === "ECONNRESET") socket.destroy();
    else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT") answerAndDrop(socket, "408 Request Timeout");
    else answerAndDrop(socket, "400 Bad Request");
  });
  return server;
}
