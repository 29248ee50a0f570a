import type { CloudTrailClientConfig } from "@aws-sdk/client-cloudtrail";
import * as sdk from "@aws-sdk/client-cloudtrail";
import { type CloudTrailApi, methodName, OPERATIONS } from "../api/operations.ts";

export interface HttpClientOptions {
  /** Base URL of an opentrail server, e.g. http://127.0.0.1:4566 */
  endpoint: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Anything else the official client takes (retries, logger, request handler). */
  clientConfig?: Omit<CloudTrailClientConfig, "endpoint" | "region" | "credentials">;
}

type CommandClass = new (input: unknown) => Parameters<sdk.CloudTrailClient["send"]>[0];

/**
 * CloudTrailApi over HTTP: the official SDK client underneath (signing, retries, parsing).
 * Defaults match the development credential of `opentrail serve`.
 */
export function httpClient(opts: HttpClientOptions): CloudTrailApi & { client: sdk.CloudTrailClient } {
  const client = new sdk.CloudTrailClient({
    ...opts.clientConfig,
    endpoint: opts.endpoint,
    region: opts.region ?? "us-east-1",
    credentials: opts.credentials ?? { accessKeyId: "test", secretAccessKey: "test" },
  });
  const commands = sdk as unknown as Record<string, CommandClass>;
  const api: Record<string, unknown> = { client };
  for (const op of OPERATIONS) {
    const Command = commands[`${op}Command`];
    if (!Command) throw new Error(`@aws-sdk/client-cloudtrail has no ${op}Command`);
    api[methodName(op)] = (input: unknown) => client.send(new Command(input ?? {}));
  }
  return api as CloudTrailApi & { client: sdk.CloudTrailClient };
}
