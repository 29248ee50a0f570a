import { createHash } from "node:crypto";
import {
  Agent,
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import type { Logger } from "pino";
import type { CallerFacts, Clock, Ids, Principal } from "../api/context.ts";
import type { CredentialStore } from "../ports/index.ts";
import type { Recorder } from "../recording/recorder.ts";
import { verifySigV2 } from "../wire/aws-sigv2.ts";
import { AuthFailure, type AwsAuth, type BodyCheck, verifyAwsSigV4 } from "../wire/aws-sigv4.ts";
import { sourceAddress } from "../wire/source-ip.ts";
import { batchingRecorder } from "./batch.ts";
import type { CallRenderer, PlacedCall, ProxiedRequest, UpstreamAnswer } from "./call.ts";
import {
  authError,
  type ErrorAnswer,
  type ErrorFamily,
  errorAnswer,
  errorFamily,
  type ProxyError,
  SERVICE_UNAVAILABLE,
  upstreamTimeout,
} from "./errors.ts";
import { resign, type UpstreamKey } from "./resign.ts";
import { endToEndHeaders, type Upstreams, upstreamFor } from "./upstreams.ts";

/**
 * The forwarding half of the recording proxy: authenticate the caller as AWS would, forward the
 * request to its upstream with the body streaming both ways, and store the call's record before
 * the answer goes back. Placement and rendering are the CallRenderer's (call.ts).
 */

export interface ProxyOptions {
  upstreams: Upstreams;
  /** Re-sign what is forwarded with this key (upstreams that check their own keys); as received when absent. */
  upstreamKey?: UpstreamKey;
  renderer: CallRenderer;
  /** Calls answered in the same turn are stored in one append (see batch.ts). */
  recorder: Pick<Recorder, "recordAll">;
  credentials: CredentialStore;
  /** The account unsigned (anonymous) calls are recorded in. */
  defaultAccountId: string;
  /** The region of unsigned calls. */
  defaultRegion: string;
  clock: Clock;
  ids: Ids;
  log: Logger;
  trustedProxies?: ReadonlySet<string>;
  /** The most of a body kept for the record (when the renderer asks for it); default 10 MiB. */
  maxKeptBodyBytes?: number;
  /** How many distinct shapes of unplaced requests are logged; default 1000. */
  maxLoggedShapes?: number;
  /**
   * How long the upstream may take to start its answer once it has the whole request, in ms;
   * past it the client gets a 504 and the call is recorded as failed. Default 60 s; 0: no limit.
   */
  upstreamTimeoutMs?: number;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

export const DEFAULT_MAX_KEPT_BODY_BYTES = 10 * 1024 * 1024;

export interface ProxyStats {
  forwarded: number;
  recorded: number;
  /** Requests the models could not place (forwarded, not recorded). */
  unplaced: number;
  refused: number;
  upstreamUnavailable: number;
  /** Calls the upstream did not start answering within upstreamTimeoutMs. */
  upstreamTimeouts: number;
  /** Records the recorder failed to store (the caller still got the upstream's answer). */
  recordFailures: number;
  clientsGone: number;
}

/** An unsigned call, as AWS's records name it. */
const ANONYMOUS_IDENTITY = { type: "AWSAccount", principalId: "", accountId: "anonymous" };

/** `Credential=AKID/date/region/NAME/aws4_request` → NAME, even when the rest of the head is wrong. */
function scopeSigningName(headers: Readonly<Record<string, string>>, query: string): string | undefined {
  const text = `${headers.authorization ?? ""} ${decodeURIComponent(query.replace(/%(?![0-9a-f]{2})/gi, "%25"))}`;
  return /Credential=[^/\s]*\/[^/\s]*\/[^/\s]*\/([^/\s,&]+)\//.exec(text)?.[1];
}

function joinedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, values] of Object.entries(req.headersDistinct)) {
    if (values !== undefined) out[name] = values.join(", ");
  }
  return out;
}

function answerHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, values] of Object.entries(res.headersDistinct)) {
    if (values !== undefined) out[name] = values.join(", ");
  }
  return out;
}

/** The upstream's request id, where each protocol puts it in the head. */
function upstreamRequestId(headers: Readonly<Record<string, string>>): string | undefined {
  return headers["x-amzn-requestid"] ?? headers["x-amz-request-id"] ?? headers["x-amz-requestid"];
}

interface Collected {
  chunks: Buffer[];
  size: number;
  /** The whole stream was read. */
  ended: boolean;
  /** The stream broke before its end. */
  broken: boolean;
}

/**
 * Reads a stream until it ends or holds more than `limit` bytes; past the limit it stops (paused)
 * with what it read, so that the rest can still be streamed on.
 */
function collect(stream: IncomingMessage, limit: number): Promise<Collected> {
  return new Promise((resolve) => {
    const got: Collected = { chunks: [], size: 0, ended: false, broken: false };
    const finish = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onClose);
      stream.off("error", onClose);
      resolve(got);
    };
    const onData = (chunk: Buffer) => {
      got.chunks.push(chunk);
      got.size += chunk.length;
      if (got.size > limit) {
        stream.pause();
        finish();
      }
    };
    const onEnd = () => {
      got.ended = true;
      finish();
    };
    const onClose = () => {
      if (!stream.complete) got.broken = true;
      finish();
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", onClose);
    stream.once("error", onClose);
  });
}

function send(res: ServerResponse, answer: ErrorAnswer, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  if (close) {
    // the request's body was not read: drop the connection rather than drain it
    res.shouldKeepAlive = false;
    res.once("finish", () => res.socket?.destroy());
  }
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}

function tlsOf(socket: Socket, host: string | undefined): CallerFacts["tls"] {
  if (!(socket instanceof TLSSocket)) return undefined;
  return { version: socket.getProtocol() ?? "", cipher: socket.getCipher()?.name ?? "", host };
}

export function createProxy(opts: ProxyOptions) {
  const { renderer, clock, ids, log } = opts;
  const recorder = batchingRecorder(opts.recorder);
  const trusted = opts.trustedProxies ?? new Set<string>();
  const maxKept = opts.maxKeptBodyBytes ?? DEFAULT_MAX_KEPT_BODY_BYTES;
  const maxShapes = opts.maxLoggedShapes ?? 1000;
  const upstreamTimeoutMs = opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  const loggedShapes = new Set<string>();
  const stats: ProxyStats = {
    forwarded: 0,
    recorded: 0,
    unplaced: 0,
    refused: 0,
    upstreamUnavailable: 0,
    upstreamTimeouts: 0,
    recordFailures: 0,
    clientsGone: 0,
  };
  const agents = {
    http: new Agent({ keepAlive: true, maxSockets: 256 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  };

  function unplaced(head: Omit<ProxiedRequest, "body">): void {
    stats.unplaced++;
    const target = head.headers["x-amz-target"]?.split(".")[0] ?? head.path.split("/")[1] ?? "";
    const shape = `${head.method} ${head.signingName ?? "-"} ${target.slice(0, 64)}`;
    if (loggedShapes.has(shape) || loggedShapes.size >= maxShapes) return;
    loggedShapes.add(shape);
    log.info(
      { shape, signingName: head.signingName },
      "forwarded a request the models cannot place; not recorded",
    );
  }

  function principalOf(auth: AwsAuth): Principal {
    if (auth.kind === "signed") return auth.credential.principal;
    return { accountId: opts.defaultAccountId, accessKeyId: "", identity: { ...ANONYMOUS_IDENTITY } };
  }

  async function record(
    auth: AwsAuth,
    placed: PlacedCall,
    req: ProxiedRequest,
    answer: UpstreamAnswer,
    caller: CallerFacts,
  ): Promise<void> {
    let rendered: ReturnType<CallRenderer["render"]>;
    try {
      rendered = renderer.render(placed, req, answer, { accountId: principalOf(auth).accountId });
    } catch (err) {
      log.error(
        { err, service: placed.service, operation: placed.operation },
        "rendering a proxied call failed",
      );
      stats.recordFailures++;
      return;
    }
    if (rendered === undefined) return;
    const principal = principalOf(auth);
    try {
      await recorder.record({
        ...rendered,
        ctx: {
          accountId: principal.accountId,
          region: req.region,
          principal,
          requestId: upstreamRequestId(answer.headers) ?? ids.uuid(),
          ids,
        },
        caller,
        clock,
      });
      stats.recorded++;
    } catch (err) {
      // the upstream has acted: failing the call now would make the client retry what was done
      stats.recordFailures++;
      log.error(
        { err, service: placed.service, operation: placed.operation },
        "storing a proxied call's record failed",
      );
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const method = req.method ?? "GET";
    const headers = joinedHeaders(req);
    const ownId = ids.uuid();
    const refuse = (family: ErrorFamily, error: ProxyError, close: boolean) => {
      stats.refused++;
      send(res, errorAnswer(family, error, ownId), close);
    };

    let auth: AwsAuth;
    try {
      auth = verifyAwsSigV4(
        { method, path, query, headers: req.headersDistinct as Record<string, string[]> },
        {
          credentials: opts.credentials,
          clock,
          sigV2: (h) => verifySigV2(h, { credentials: opts.credentials, clock, region: opts.defaultRegion }),
        },
      );
    } catch (e) {
      if (!(e instanceof AuthFailure)) throw e;
      const signingName = scopeSigningName(headers, query);
      refuse(
        errorFamily({ method, query, headers, signingName }),
        authError(errorFamily({ method, query, headers, signingName }), e.reason, e.message),
        true,
      );
      return;
    }
    const signingName = auth.kind === "signed" ? auth.signingName : undefined;
    const family = errorFamily({ method, query, headers, signingName });
    const head: Omit<ProxiedRequest, "body"> = {
      method,
      path,
      query,
      headers,
      region: auth.kind === "signed" ? auth.region : opts.defaultRegion,
      signingName,
    };
    const caller: CallerFacts = {
      sourceIPAddress: sourceAddress(req.socket.remoteAddress ?? "", headers["x-forwarded-for"], trusted),
      userAgent: headers["user-agent"],
      tls: tlsOf(req.socket, headers.host),
    };

    // the body, when the record needs it (a query call's Action is in it)
    let body: Buffer | undefined;
    let prefix: Buffer[] = [];
    let bodyRead = false;
    if (renderer.keepsRequestBody(head)) {
      const got = await collect(req, maxKept);
      if (got.broken) {
        stats.clientsGone++;
        return;
      }
      if (got.ended) {
        body = Buffer.concat(got.chunks, got.size);
        bodyRead = true;
      } else {
        prefix = got.chunks;
      }
    }
    const bodyCheck = auth.kind === "signed" ? auth.bodyCheck : undefined;
    if (bodyRead && bodyCheck) {
      const check = bodyCheck();
      const failure = check.update(body!) ?? check.end();
      if (failure) {
        refuse(family, authError(family, failure.reason, failure.message), false);
        return;
      }
    }

    const proxied: ProxiedRequest = { ...head, body };
    const placed = renderer.place(proxied);
    const known = placed.service !== "unknown" && placed.operation !== undefined;
    if (!known) unplaced(head);
    const upstream = upstreamFor(
      opts.upstreams,
      placed.service === "unknown" ? undefined : placed.service,
      signingName,
    );
    if (upstream === undefined) {
      refuse(
        family,
        {
          code: "UnknownOperationException",
          status: 404,
          message: `No upstream is configured for ${placed.service === "unknown" ? (signingName ?? "this request") : placed.service}`,
        },
        !bodyRead,
      );
      return;
    }

    await forward({
      req,
      res,
      upstream,
      head,
      proxied,
      placed,
      known,
      auth,
      caller,
      family,
      ownId,
      prefix,
      bodyRead,
      bodyCheck,
    });
  }

  interface Forwarding {
    req: IncomingMessage;
    res: ServerResponse;
    upstream: URL;
    head: Omit<ProxiedRequest, "body">;
    proxied: ProxiedRequest;
    placed: PlacedCall;
    known: boolean;
    auth: AwsAuth;
    caller: CallerFacts;
    family: ErrorFamily;
    ownId: string;
    prefix: Buffer[];
    bodyRead: boolean;
    bodyCheck: (() => BodyCheck) | undefined;
  }

  function forward(f: Forwarding): Promise<void> {
    const { req, res, upstream, head, placed, known } = f;
    stats.forwarded++;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve();
      };
      const secure = upstream.protocol === "https:";
      const basePath = upstream.pathname.replace(/\/+$/, "");
      const outgoing = outgoingHead(f);
      const up: ClientRequest = (secure ? httpsRequest : httpRequest)({
        protocol: upstream.protocol,
        hostname: upstream.hostname.replace(/^\[|\]$/g, ""),
        port: upstream.port || (secure ? 443 : 80),
        method: head.method,
        path: `${basePath}${head.path}${outgoing.query === "" ? "" : `?${outgoing.query}`}`,
        // the client's Host and every signed header go as they came: upstreams that check signatures still can
        headers: outgoing.rawHeaders,
        agent: secure ? agents.https : agents.http,
      });

      // the body's own checks (its hash against the signature) decide before the upstream sees its last byte
      let verdict: Promise<AuthFailure | undefined> = Promise.resolve(undefined);
      let clientGone = false;
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;

      req.once("close", () => {
        if (!req.complete) {
          clientGone = true;
          stats.clientsGone++;
          clearTimeout(timer);
          up.destroy();
          finish();
        }
      });
      res.once("close", () => {
        if (!res.writableFinished) {
          clientGone = true;
          clearTimeout(timer);
          up.destroy();
          finish();
        }
      });

      if (f.bodyRead) {
        up.end(f.proxied.body);
      } else {
        verdict = pumpBody(req, up, f.prefix, f.bodyCheck?.());
      }

      /** The upstream gave no answer: the client gets the proxy's own, and the call is recorded as failed. */
      const failUpstream = (error: ProxyError) => {
        void verdict.then(async (failure) => {
          if (failure) {
            refuseLate(f, failure);
          } else {
            const answer = errorAnswer(f.family, error, f.ownId);
            if (known) {
              await record(
                f.auth,
                placed,
                f.proxied,
                { status: answer.status, headers: answer.headers, body: answer.body },
                f.caller,
              );
            }
            send(res, answer, !req.complete);
          }
          finish();
        });
      };

      // the answer's clock starts once the upstream has the whole request: a long upload is not cut
      if (upstreamTimeoutMs > 0) {
        up.once("finish", () => {
          timer = setTimeout(() => {
            timedOut = true;
            stats.upstreamTimeouts++;
            log.warn(
              { upstream: upstream.origin, timeoutMs: upstreamTimeoutMs },
              "upstream did not answer in time",
            );
            up.destroy();
            if (!clientGone && !done) failUpstream(upstreamTimeout(upstreamTimeoutMs));
          }, upstreamTimeoutMs);
        });
      }

      up.once("error", (err: NodeJS.ErrnoException) => {
        if (clientGone || done || timedOut) return;
        clearTimeout(timer);
        stats.upstreamUnavailable++;
        log.warn({ err: err.message, code: err.code, upstream: upstream.origin }, "upstream unreachable");
        failUpstream(SERVICE_UNAVAILABLE);
      });

      up.once("response", (upRes) => {
        clearTimeout(timer);
        if (timedOut) {
          upRes.destroy();
          return;
        }
        void verdict
          .then(async (failure) => {
            if (clientGone) {
              upRes.destroy();
              return;
            }
            if (failure) {
              upRes.destroy();
              refuseLate(f, failure);
              return;
            }
            await answer(f, upRes);
          })
          .catch((err: unknown) => {
            log.error({ err }, "answering a proxied call failed");
            upRes.destroy();
            res.destroy();
          })
          .finally(finish);
      });
    });
  }

  /** The head as it goes upstream: as received, or signed again with the upstream's key. */
  function outgoingHead(f: Forwarding): { rawHeaders: string[]; query: string } {
    const rawHeaders = endToEndHeaders(f.req.rawHeaders);
    const asReceived = { rawHeaders, query: f.head.query };
    if (opts.upstreamKey === undefined || f.auth.kind !== "signed") return asReceived;
    const bodySha256 = f.bodyRead ? createHash("sha256").update(f.proxied.body!).digest("hex") : undefined;
    const resigned = resign({ ...f.head, rawHeaders }, f.auth, opts.upstreamKey, bodySha256);
    if (resigned === undefined) {
      log.warn(
        { signingName: f.auth.signingName },
        "aws-chunked body with signed chunks forwarded without re-signing",
      );
      return asReceived;
    }
    return resigned;
  }

  /** A body that did not match its signature: the upstream got no complete request; neither is recorded. */
  function refuseLate(f: Forwarding, failure: AuthFailure): void {
    stats.refused++;
    send(f.res, errorAnswer(f.family, authError(f.family, failure.reason, failure.message), f.ownId), true);
  }

  async function answer(f: Forwarding, upRes: IncomingMessage): Promise<void> {
    const { res, placed, known } = f;
    const status = upRes.statusCode ?? 502;
    const headers = answerHeaders(upRes);
    const answerHead = { status, headers };
    let body: Buffer | undefined;
    let prefix: Buffer[] = [];
    if (known && renderer.keepsResponseBody(placed, answerHead)) {
      const got = await collect(upRes, maxKept);
      if (got.broken) {
        // the upstream's answer broke off: the client cannot get it whole either
        res.destroy();
        return;
      }
      if (got.ended) body = Buffer.concat(got.chunks, got.size);
      else prefix = got.chunks;
    }
    if (known) await record(f.auth, placed, f.proxied, { ...answerHead, body }, f.caller);
    if (res.destroyed) {
      upRes.destroy();
      return;
    }
    res.writeHead(status, upRes.statusMessage, endToEndHeaders(upRes.rawHeaders));
    if (body !== undefined) {
      res.end(body);
      return;
    }
    await streamOn(upRes, res, prefix);
  }

  return {
    handle,
    stats: (): ProxyStats => ({ ...stats }),
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type RecordingProxy = ReturnType<typeof createProxy>;

/**
 * Streams the client's body to the upstream with backpressure. With a check to run on the whole
 * body, the last chunk is held back until the body has ended and passed it: a body that fails never
 * reaches the upstream whole, so the upstream cannot act on it.
 */
function pumpBody(
  req: IncomingMessage,
  up: ClientRequest,
  prefix: readonly Buffer[],
  check: BodyCheck | undefined,
): Promise<AuthFailure | undefined> {
  return new Promise((resolve) => {
    let held: Buffer | undefined;
    let settled = false;
    const settle = (failure: AuthFailure | undefined) => {
      if (settled) return;
      settled = true;
      req.off("data", pass);
      resolve(failure);
    };
    function pass(chunk: Buffer): void {
      if (check !== undefined) {
        const failure = check.update(chunk);
        if (failure) {
          // the upstream never gets the rest: the request it has is incomplete
          up.destroy();
          settle(failure);
          return;
        }
      }
      const out = check ? held : chunk;
      held = check ? chunk : undefined;
      if (out !== undefined && !up.write(out)) {
        req.pause();
        up.once("drain", () => req.resume());
      }
    }
    for (const chunk of prefix) pass(chunk);
    req.on("data", pass);
    req.once("end", () => {
      if (settled) return;
      const failure = check?.end();
      if (failure) {
        up.destroy();
      } else {
        if (held !== undefined) up.write(held);
        up.end();
      }
      settle(failure);
    });
    req.once("close", () => {
      if (!req.complete) settle(undefined);
    });
    req.resume();
  });
}

/** The rest of the upstream's answer to the client, with backpressure; ends early if either side breaks. */
function streamOn(upRes: IncomingMessage, res: ServerResponse, prefix: readonly Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    for (const chunk of prefix) res.write(chunk);
    upRes.pipe(res);
    const done = () => resolve();
    res.once("finish", done);
    res.once("close", () => {
      upRes.destroy();
      done();
    });
    upRes.once("aborted", () => {
      res.destroy();
      done();
    });
    upRes.once("error", () => {
      res.destroy();
      done();
    });
  });
}
