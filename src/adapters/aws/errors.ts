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

/** The SDK's client configuration for one region of an endpoint: short timeouts, one retry. */
export interface RegionalConfig {
  endpoint: string;
  region: string;
  credentials: AwsEndpoint["credentials"];
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean };
}

/** One SDK client per region of `endpoint`, made on first use; undefined when not configured. */
export function regionalClients<C extends { destroy(): void }>(
  endpoint: AwsEndpoint | undefined,
  make: (config: RegionalConfig) => C,
): { get(region: string): C; close(): void } | undefined {
  if (!endpoint) return undefined;
  const clients = new Map<string, C>();
  return {
    get(region) {
      let c = clients.get(region);
      if (!c) {
        c = make({
          endpoint: endpoint.url,
          region,
          credentials: endpoint.credentials,
          maxAttempts: 2,
          requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
        });
        clients.set(region, c);
      }
      return c;
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
