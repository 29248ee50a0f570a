import type { Logger } from "pino";
import type { CallerFacts, RequestContext } from "../api/context.ts";
import {
  type CloudTrailError,
  type ErrorCode,
  isCloudTrailError,
  type OperationName,
  unsupportedOperation,
} from "../api/index.ts";
import type { FinishedCall, Service } from "../api/service.ts";
import type { Clock, CredentialStore, Ids } from "../ports/index.ts";
import { encodeOutput } from "./encode.ts";
import { acceptsContentType, parseBody, parseTarget } from "./framing.ts";
import { decodeInput } from "./shapes.ts";
import { verifySigV4 } from "./sigv4.ts";
import { sourceAddress } from "./source-ip.ts";
import type { RawRequest, RawResponse } from "./types.ts";

/** A finished call with its members as parsed from the body. */
export interface RecordedCall extends FinishedCall {
  input: Record<string, unknown>;
}

export interface WireOptions {
  service: Service;
  credentials: CredentialStore;
  /** Served regions; a scope region outside → InvalidSignatureException. */
  regions: readonly string[];
  clock: Clock;
  ids: Ids;
  log: Logger;
  /** Peers whose X-Forwarded-For is believed for the caller's address. */
  trustedProxies?: ReadonlySet<string>;
  /** Called after the operation returned or threw a CloudTrailError (not for auth/protocol failures); the response waits for it. */
  onCall?: (call: RecordedCall) => Promise<void>;
}

export const JSON_CONTENT_TYPE = "application/x-amz-json-1.1";

/** AWS's wording for an unexpected server error; nothing about the cause reaches the caller. */
export const INTERNAL_FAILURE_MESSAGE =
  "The request processing has failed because of an unknown error, exception or failure.";

/** `{"__type","message"}` with the code also in `x-amzn-ErrorType`, which the JS SDK reads first. */
export function errorResponse(
  requestId: string,
  code: ErrorCode,
  message: string,
  status: number,
): RawResponse {
  return {
    status,
    headers: {
      "content-type": JSON_CONTENT_TYPE,
      "x-amzn-requestid": requestId,
      "x-amzn-errortype": code,
    },
    body: JSON.stringify({ __type: code, message }),
  };
}

function fromError(requestId: string, error: CloudTrailError): RawResponse {
  return errorResponse(requestId, error.code, error.message, error.status);
}

function success(requestId: string, output: unknown): RawResponse {
  return {
    status: 200,
    headers: { "content-type": JSON_CONTENT_TYPE, "x-amzn-requestid": requestId },
    body: encodeOutput(output),
  };
}

/** The caller as its record states it: address (through trusted proxies), user agent, TLS. */
export function callerFacts(req: RawRequest, trustedProxies: ReadonlySet<string>): CallerFacts {
  return {
    sourceIPAddress: sourceAddress(req.remoteAddress, req.headers["x-forwarded-for"], trustedProxies),
    userAgent: req.headers["user-agent"],
    tls: req.tls ? { ...req.tls, host: req.headers.host } : undefined,
  };
}

type Outcome = { output: unknown } | { error: CloudTrailError };

/**
 * The AWS JSON 1.1 endpoint: content type → JSON → target → SigV4 → member types → the service.
 * Everything after the types (constraints, meaning) is the service's job.
 */
export function createWireHandler(opts: WireOptions): (req: RawRequest) => Promise<RawResponse> {
  const { service, clock, ids, log } = opts;
  const trustedProxies = opts.trustedProxies ?? new Set<string>();

  async function invoke(
    operation: OperationName,
    ctx: RequestContext,
    input: Record<string, unknown>,
  ): Promise<Outcome> {
    // The service is typed per operation; the wire only knows the operation name at run time.
    const handler = service[operation] as (ctx: RequestContext, input: unknown) => Promise<unknown>;
    try {
      return { output: await handler(ctx, input) };
    } catch (e) {
      if (isCloudTrailError(e)) return { error: e };
      throw e;
    }
  }

  return async (req) => {
    const requestId = ids.uuid();
    const reqLog = log.child({ requestId });
    // set once the target names a known operation: the access log and /metrics report it
    let operation: OperationName | undefined;
    const answer = await answerRequest(req, requestId, reqLog, (op) => {
      operation = op;
    });
    return operation === undefined ? answer : { ...answer, operation };
  };

  async function answerRequest(
    req: RawRequest,
    requestId: string,
    reqLog: Logger,
    named: (operation: OperationName) => void,
  ): Promise<RawResponse> {
    try {
      if (!acceptsContentType(req.headers["content-type"], req.body.length)) {
        // AWS answers a body in a foreign media type with a 404 UnknownOperationException.
        return errorResponse(
          requestId,
          "UnknownOperationException",
          `Unsupported content type ${req.headers["content-type"] ?? "(none)"}`,
          404,
        );
      }
      const body = parseBody(req.body);
      const target = parseTarget(req.headers["x-amz-target"]);
      const { credential, region } = await verifySigV4(req, opts);
      if (typeof target !== "string") throw unsupportedOperation(target.unserved);
      const operation = target;
      named(operation);
      const ctx: RequestContext = {
        accountId: credential.principal.accountId,
        region,
        principal: credential.principal,
        requestId,
        log: reqLog,
        clock,
        ids,
      };
      // a signed call with a malformed member is still a call: it is refused and recorded
      let input: Record<string, unknown> = body;
      let outcome: Outcome;
      try {
        input = decodeInput(operation, body);
        outcome = await invoke(operation, ctx, input);
      } catch (e) {
        if (!isCloudTrailError(e)) throw e;
        outcome = { error: e };
      }
      if (opts.onCall) {
        await opts.onCall({ operation, input, ...outcome, ctx, caller: callerFacts(req, trustedProxies) });
      }
      return "error" in outcome ? fromError(requestId, outcome.error) : success(requestId, outcome.output);
    } catch (e) {
      if (isCloudTrailError(e)) return fromError(requestId, e);
      reqLog.error({ err: e }, "internal failure");
      return errorResponse(requestId, "InternalFailure", INTERNAL_FAILURE_MESSAGE, 500);
    }
  }
}
