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

/** A region's SDK client, with the SDK module its commands come from. */
export interface Regional<M, C> {
  client: C;
  sdk: M;
}

/**
 * One SDK client per region of `endpoint`, made on first use; undefined when not configured.
 * The SDK module itself is loaded on first use too (`load`): the clients of the services
 * opentrail calls cost several hundred ms of start-up together, and most servers call none.
 */
export function regionalClients<M, C extends { destroy(): void }>(
  endpoint: AwsEndpoint | undefined,
  load: () => Promise<M>,
  make: (sdk: M, config: RegionalConfig) => C,
): { get(region: string): Promise<Regional<M, C>>; close(): void } | undefined {
  if (!endpoint) return undefined;
  const clients = new Map<string, C>();
  return {
    async get(region) {
      // an import's module is kept: the second load costs nothing
      const sdk = await load();
      let client = clients.get(region);
      if (!client) {
        client = make(sdk, {
          endpoint: endpoint.url,
          region,
          credentials: endpoint.credentials,
          maxAttempts: 2,
          requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
        });
        clients.set(region, client);
      }
      return { client, sdk };
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
