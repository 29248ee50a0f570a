import { AwsServiceError } from "../../ports/aws.ts";

/** Where one other AWS service is, and the keys opentrail signs its calls with. */
export interface AwsEndpoint {
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

/** An SDK failure as AwsServiceError: the service's code, retryable when nothing usable answered. */
export function toAwsServiceError(e: unknown, what: string): AwsServiceError {
  if (e instanceof AwsServiceError) return e;
  const { name, code, $metadata } = (typeof e === "object" && e !== null ? e : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  const reason = e instanceof Error ? e.message : String(e);
  if (status === undefined) {
    const network = name === "TimeoutError" || (typeof code === "string" && NETWORK_CODES.has(code));
    return new AwsServiceError(network ? "ServiceUnavailable" : "InternalError", `${what}: ${reason}`, true, {
      cause: e,
    });
  }
  const named = typeof name === "string" && /^[A-Za-z][A-Za-z0-9]*$/.test(name) && name !== "Error";
  const retryable =
    status >= 500 || status === 429 || name === "ThrottlingException" || name === "Throttling";
  return new AwsServiceError(named ? name : `HTTP${status}`, `${what}: ${reason}`, retryable, { cause: e });
}
