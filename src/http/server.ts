import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import { isIP, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { ErrorCode } from "../api/index.ts";
import type { ConsoleHandler } from "../console/handler.ts";
import { errorResponse, INTERNAL_FAILURE_MESSAGE } from "../wire/handler.ts";
import type { RawRequest, RawResponse } from "../wire/types.ts";
import { answerAndDrop, boundConnections, DEFAULT_MAX_CONNECTIONS } from "./connections.ts";
import { isS3Request } from "./s3-routing.ts";

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
  /** The web console under /console/. */
  console?: ConsoleHandler;
  /** Open connections at most; default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** For tests: shorter socket limits than SERVER_TIMEOUTS. */
  timeouts?: Partial<Record<keyof typeof SERVER_TIMEOUTS, number>>;
  /** PEM certificate and key: the server speaks HTTPS only. */
  tls?: { cert: string; key: string };
  /** The S3 read API of the local buckets: requests isS3Request picks go here. */
  s3?: (req: RawRequest) => Promise<RawResponse>;
  /** `GET /metrics`: the Prometheus text exposition. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  /** Told of every answered request, after the access log line (for /metrics). */
  onAnswered?: (answered: AnsweredRequest) => void;
}

/** One request as the access log and the metrics see it: no header, query or body. */
export interface AnsweredRequest {
  method: string;
  /** The operation (CreateTrail, Ingest, GetObject…) or the route (`GET /health`), never caller text. */
  operation: string;
  status: number;
  ms: number;
  requestId?: string;
}

/** Routes a scraper or a probe calls every few seconds: their access lines are at debug, not info. */
const QUIET_ROUTES = new Set(["GET /health", "GET /metrics"]);

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_INGEST_BYTES = 32 * 1024 * 1024;
/** The console's requests are sign-ins and reads: small. */
const CONSOLE_MAX_BODY_BYTES = 64 * 1024;

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

/** What the access log reports of the answer a response carried. */
const answeredAs = new WeakMap<ServerResponse, { operation?: string; requestId?: string }>();

function send(res: ServerResponse, response: RawResponse): void {
  if (res.headersSent || res.destroyed) return;
  answeredAs.set(res, {
    operation: response.operation,
    requestId: response.headers["x-amzn-requestid"] ?? response.headers["x-amz-request-id"],
  });
  const body = response.bytes ?? Buffer.from(response.body, "utf8");
  // a HEAD answer states the length of the body it leaves out
  const length = response.headers["content-length"] ?? String(body.length);
  res.writeHead(response.status, { ...response.headers, "content-length": length });
  if (res.req.method === "HEAD") res.end();
  else res.end(body);
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
  | { kind: "text"; handle: () => Promise<RawResponse> }
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
  return (
    path === "/ingest" ||
    path === "/health" ||
    path === "/metrics" ||
    path === "/console" ||
    path.startsWith("/console/") ||
    path.startsWith("/_opentrail/")
  );
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

function metricsHandler(metrics: NonNullable<HttpServerOptions["metrics"]>): () => Promise<RawResponse> {
  return async () => {
    const { contentType, body } = await metrics();
    return { status: 200, headers: { "content-type": contentType }, body };
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
    opts.metrics !== undefined && {
      method: "GET",
      path: "/metrics",
      handler: { kind: "text", handle: metricsHandler(opts.metrics) },
    },
    opts.reset !== undefined && {
      method: "POST",
      path: "/_opentrail/reset",
      handler: { kind: "plain", handle: resetHandler(opts.reset), jsonOnly: true },
    },
  ];
  return routes.filter((r): r is Route => r !== false);
}

/**
 * One line per request once its answer is sent (or the client is gone): the operation, status,
 * milliseconds and request id. Nothing the caller sent beyond the method is written: no query
 * string (a presigned URL carries its signature there), header or body.
 */
function accessLog(
  req: IncomingMessage,
  res: ServerResponse,
  opts: HttpServerOptions,
  routeNames: ReadonlySet<string>,
): void {
  const started = performance.now();
  res.once("close", () => {
    const route = `${req.method} ${(req.url ?? "/").split("?")[0]}`;
    const known = answeredAs.get(res);
    const quiet = QUIET_ROUTES.has(route);
    const answered: AnsweredRequest = {
      method: req.method ?? "",
      // an unknown path is named by its method only: the path is the caller's text
      operation: known?.operation ?? (routeNames.has(route) ? route : `${req.method} (no route)`),
      status: res.writableFinished ? res.statusCode : 499,
      ms: Math.round((performance.now() - started) * 1000) / 1000,
      requestId: known?.requestId,
    };
    const line = {
      operation: answered.operation,
      status: answered.status,
      ms: answered.ms,
      requestId: answered.requestId,
    };
    if (quiet) opts.log.debug(line, "request");
    else opts.log.info(line, "request");
    opts.onAnswered?.(answered);
  });
}

export function createHttpServer(opts: HttpServerOptions): Server {
  const { log } = opts;
  const routes = new Map(routeTable(opts).map((r) => [`${r.method} ${r.path}`, r.handler]));
  const routeNames = new Set(routes.keys());

  /**
   * The request with its whole body, read up to `limit`; undefined once the request has been
   * answered (413) or dropped (the client went away before sending its body).
   */
  async function withBody(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
  ): Promise<RawRequest | undefined> {
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
        return undefined;
      }
      log.debug({ remoteAddress: req.socket.remoteAddress }, "client went away before sending its body");
      req.socket.destroy();
      return undefined;
    }
    return {
      method: req.method ?? "",
      url: req.url ?? "/",
      headers: rawHeaders(req),
      body,
      remoteAddress: req.socket.remoteAddress ?? "",
      ...(tlsInfo(req.socket) ? { tls: tlsInfo(req.socket) } : {}),
    };
  }

  async function handleWire(
    req: IncomingMessage,
    res: ServerResponse,
    handler: (req: RawRequest) => Promise<RawResponse>,
    limit: number,
  ): Promise<void> {
    const raw = await withBody(req, res, limit);
    if (raw !== undefined) send(res, await handler(raw));
  }

  async function handleConsole(
    req: IncomingMessage,
    res: ServerResponse,
    console: ConsoleHandler,
  ): Promise<void> {
    const raw = await withBody(req, res, CONSOLE_MAX_BODY_BYTES);
    if (raw === undefined) return;
    const answer = await console(raw);
    if (res.headersSent || res.destroyed) return;
    const bytes = Buffer.from(answer.body, "utf8");
    // the console's headers may repeat (Set-Cookie), which RawResponse's may not
    res.writeHead(answer.status, { ...answer.headers, "content-length": String(bytes.length) });
    res.end(bytes);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (opts.loopbackHostsOnly && !isLoopbackHost(req.headers.host)) {
      sendAndClose(
        res,
        "AccessDeniedException",
        `In development mode only requests to a loopback host are answered, not to ${req.headers.host ?? "(no Host)"}`,
        403,
      );
      return;
    }
    if (opts.console !== undefined && (path === "/console" || path.startsWith("/console/"))) {
      if (path === "/console") {
        res.writeHead(302, { location: "/console/", "content-length": "0" });
        res.end();
        return;
      }
      return handleConsole(req, res, opts.console);
    }
    if (opts.proxy !== undefined) {
      // without a whole-request limit (below): a request silent for that long while sending is
      // dropped; one waiting on an upstream's answer never is
      req.socket.setTimeout(timeouts.requestTimeout);
      req.once("end", () => req.socket.setTimeout(0));
      if (routeFor(path ?? "/", req.headers, true) === "proxy") return opts.proxy(req, res);
    }
    if (
      opts.s3 &&
      isS3Request(req.method ?? "", req.url ?? "/", req.headers as Record<string, string>, routeNames)
    ) {
      return handleWire(req, res, opts.s3, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    }
    const handler = routes.get(`${req.method} ${path}`);
    if (handler === undefined) {
      sendAndClose(res, "UnknownOperationException", `No route for ${req.method} ${path}`, 404);
      return;
    }
    if (handler.kind === "wire") return handleWire(req, res, handler.handle, handler.bodyLimit);
    if (handler.kind === "text") {
      send(res, await handler.handle());
      return;
    }
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
  // A request without Host is answered here, in the AWS error shape (SigV4 needs a signed Host
  // anyway), not with the empty 400 Node writes itself.
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    accessLog(req, res, opts, routeNames);
    route(req, res).catch((err: unknown) => {
      log.error({ err, method: req.method, url: req.url }, "request failed");
      sendAndClose(res, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500);
    });
  };
  const server = opts.tls
    ? createTlsServer({ connectionsCheckingInterval, requireHostHeader: false, ...opts.tls }, onRequest)
    : createServer({ connectionsCheckingInterval, requireHostHeader: false }, onRequest);
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
    else if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
      answerAndDrop(
        socket,
        "408 Request Timeout",
        "RequestTimeoutException",
        "The request was not completed in time",
      );
    else if (err.code === "HPE_HEADER_OVERFLOW")
      answerAndDrop(
        socket,
        "431 Request Header Fields Too Large",
        "ValidationException",
        "Request headers are too large",
      );
    else
      answerAndDrop(
        socket,
        "400 Bad Request",
        "SerializationException",
        `Malformed HTTP request (${err.code ?? "unknown"})`,
      );
  });
  return server;
}
