import type { AuthFailureReason } from "../wire/aws-sigv4.ts";

/**
 * Errors the proxy itself answers (a signature it refuses, an upstream it cannot reach), in the
 * format of the service the client called, so that its SDK reads the code: S3's `<Error>`, the
 * query services' `<ErrorResponse>`, EC2's `<Response><Errors>`, the JSON services' `__type`.
 * The family is known from the head alone, before any body is read or any model consulted.
 */

export type ErrorFamily = "s3" | "query" | "ec2" | "json" | "rest-json";

export interface ProxyError {
  code: string;
  message: string;
  status: number;
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

const S3_NAMES = new Set(["s3", "s3-object-lambda", "s3express"]);
const FORM = "application/x-www-form-urlencoded";

/** Which error format the caller's SDK expects, from the signing name and the request's shape. */
export function errorFamily(head: {
  method: string;
  query: string;
  headers: Readonly<Record<string, string>>;
  signingName: string | undefined;
}): ErrorFamily {
  const type = (head.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (head.signingName === "ec2") return "ec2";
  if (head.headers["x-amz-target"] !== undefined || type.startsWith("application/x-amz-json-")) return "json";
  if (type === FORM || /(^|&)Action=/.test(head.query)) return "query";
  if (
    head.signingName === undefined
      ? head.headers["smithy-protocol"] === undefined
      : S3_NAMES.has(head.signingName)
  ) {
    // an unsigned request that is none of the above is most likely an anonymous S3 call
    return "s3";
  }
  return "rest-json";
}

/** What AWS answers for each reason a signature is refused, per family: [code, status]. */
const AUTH_CODES: Record<AuthFailureReason, Record<"s3" | "query" | "json", [string, number]>> = {
  incomplete: {
    s3: ["AuthorizationQueryParametersError", 400],
    query: ["IncompleteSignature", 400],
    json: ["IncompleteSignatureException", 400],
  },
  badDate: {
    s3: ["AccessDenied", 403],
    query: ["IncompleteSignature", 400],
    json: ["IncompleteSignatureException", 400],
  },
  skew: {
    s3: ["RequestTimeTooSkewed", 403],
    query: ["SignatureDoesNotMatch", 403],
    json: ["InvalidSignatureException", 400],
  },
  expired: { s3: ["AccessDenied", 403], query: ["ExpiredToken", 403], json: ["ExpiredTokenException", 400] },
  unknownKey: {
    s3: ["InvalidAccessKeyId", 403],
    query: ["InvalidClientTokenId", 403],
    json: ["UnrecognizedClientException", 400],
  },
  mismatch: {
    s3: ["SignatureDoesNotMatch", 403],
    query: ["SignatureDoesNotMatch", 403],
    json: ["InvalidSignatureException", 400],
  },
  badToken: {
    s3: ["InvalidToken", 400],
    query: ["InvalidClientTokenId", 403],
    json: ["UnrecognizedClientException", 400],
  },
  contentHash: {
    s3: ["XAmzContentSHA256Mismatch", 400],
    query: ["SignatureDoesNotMatch", 403],
    json: ["InvalidSignatureException", 400],
  },
  unsupported: {
    s3: ["InvalidRequest", 400],
    query: ["IncompleteSignature", 400],
    json: ["IncompleteSignatureException", 400],
  },
};

/** S3 words some refusals its own way. */
const S3_MESSAGES: Partial<Record<AuthFailureReason, string>> = {
  unknownKey: "The AWS Access Key Id you provided does not exist in our records.",
  mismatch:
    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  badToken: "The provided token is malformed or otherwise invalid.",
  skew: "The difference between the request time and the current time is too large.",
};

export function authError(family: ErrorFamily, reason: AuthFailureReason, message: string): ProxyError {
  const kind = family === "s3" ? "s3" : family === "json" || family === "rest-json" ? "json" : "query";
  const [code, status] = AUTH_CODES[reason][kind];
  return { code, status, message: (kind === "s3" ? S3_MESSAGES[reason] : undefined) ?? message };
}

export const SERVICE_UNAVAILABLE: ProxyError = {
  code: "ServiceUnavailable",
  status: 503,
  message: "Service is unable to handle request.",
};

/** The upstream took too long to answer: a gateway's timeout, which the SDKs retry as transient. */
export function upstreamTimeout(ms: number): ProxyError {
  return {
    code: "GatewayTimeout",
    status: 504,
    message: `The upstream did not answer within ${ms / 1000} s.`,
  };
}

function xmlText(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The error as the family's SDKs parse it, with the request id where each family puts it. */
export function errorAnswer(family: ErrorFamily, error: ProxyError, requestId: string): ErrorAnswer {
  const { code, message, status } = error;
  let type: string;
  let body: string;
  const headers: Record<string, string> = {};
  switch (family) {
    case "s3":
      type = "application/xml";
      headers["x-amz-request-id"] = requestId;
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlText(code)}</Code><Message>${xmlText(message)}</Message><RequestId>${requestId}</RequestId></Error>`;
      break;
    case "query":
      type = "text/xml";
      headers["x-amzn-requestid"] = requestId;
      body = `<ErrorResponse><Error><Type>${status < 500 ? "Sender" : "Receiver"}</Type><Code>${xmlText(code)}</Code><Message>${xmlText(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      break;
    case "ec2":
      type = "text/xml;charset=UTF-8";
      body = `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlText(code)}</Code><Message>${xmlText(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
      break;
    case "json":
      type = "application/x-amz-json-1.1";
      headers["x-amzn-requestid"] = requestId;
      headers["x-amzn-errortype"] = code;
      body = JSON.stringify({ __type: code, message });
      break;
    default:
      type = "application/json";
      headers["x-amzn-requestid"] = requestId;
      headers["x-amzn-errortype"] = code;
      body = JSON.stringify({ message });
  }
  const bytes = Buffer.from(body, "utf8");
  return {
    status,
    headers: { "content-type": type, ...headers, "content-length": String(bytes.length) },
    body: bytes,
  };
}
