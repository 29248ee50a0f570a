import { isIP } from "node:net";
import { type CredentialConfig, DEVELOPMENT_CREDENTIAL } from "./credentials.ts";
import { type Env, type Flags, readSettings } from "./sources.ts";
import type { UpstreamCredentials, UpstreamsConfig } from "./upstreams.ts";
import { ConfigError } from "./values.ts";

/**
 * The configuration from one table of settings (settings.ts) read from the configuration file,
 * the environment (OPENTRAIL_*) and command-line flags. Precedence: flag > environment > file >
 * default. Nothing else reads process.env.
 */

export {
  type CredentialConfig,
  DEVELOPMENT_CREDENTIAL,
  IDENTITY_TYPES,
  type IdentityType,
} from "./credentials.ts";
export { DEFAULT_INGEST_WORKERS, DEFAULT_PORT, DEFAULT_REGIONS } from "./settings.ts";
export { type Env, type Flags, flagKey, serveFlags } from "./sources.ts";
export {
  hasUpstream,
  type UpstreamCredentials,
  type UpstreamsConfig,
} from "./upstreams.ts";
export { ConfigError } from "./values.ts";

export interface S3Config {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  regions: string[];
  credentials: CredentialConfig[];
  /** True when no credentials were configured: the documented development key is accepted. */
  development: boolean;
  s3?: S3Config;
  logLevel: string;
  /** Where the recording proxy forwards non-CloudTrail requests; none configured: no proxy. */
  upstreams: UpstreamsConfig;
  /** Keys to re-sign forwarded requests with, for upstreams that check their own keys. */
  upstreamCredentials?: UpstreamCredentials;
  /** aws: CreateTrail/UpdateTrail evaluate bucket and topic policies as AWS does; off: existence only. */
  policyChecks: "aws" | "off";
  /** on: delivered records also go to EventBridge's default bus of their region. */
  eventBridge: "on" | "off";
  /** Peers whose X-Forwarded-For is believed for sourceIPAddress. */
  trustedProxies: string[];
  /** Largest POST /ingest body, in bytes. */
  maxIngestBytes: number;
  /** How long records wait before their log file is written (AWS: about 5 minutes). */
  deliveryIntervalMs: number;
  /** Length of a digest period (AWS: one hour); shorter only for tests. */
  digestIntervalMs: number;
  /**
   * Threads that take POST /ingest batches off the request thread (inflate, parse, check, route,
   * store), each on its own database connection; 0 does it all on the request thread.
   */
  ingestWorkers: number;
  /** LookupEvents requests per second per account and region (AWS: 2); 0 for no limit. */
  lookupEventsRate: number;
}

export interface ConfigSources {
  flags?: Flags;
  /** The environment; none by default, so that the caller says whether the process's counts. */
  env?: Env;
  /** Directory relative data dirs and the default data dir are resolved against. */
  cwd?: string;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const v = readSettings(
    { flags: sources.flags ?? {}, env: sources.env ?? {}, cwd: sources.cwd ?? "." },
    {
      // the host is read before the credentials: refused before any later setting is read
      credentials: ({ host, credentials }) => {
        if (credentials!.length === 0 && !isLoopback(host!)) {
          throw new ConfigError(
            `refusing to listen on ${host} without configured credentials: the development credential is for loopback only`,
          );
        }
      },
    },
  );
  const development = v.credentials.length === 0;
  return {
    host: v.host,
    port: v.port,
    dataDir: v.dataDir,
    regions: v.regions,
    credentials: development ? [DEVELOPMENT_CREDENTIAL] : v.credentials,
    development,
    s3: v.s3Endpoint
      ? {
          endpoint: v.s3Endpoint,
          region: v.s3Region!,
          accessKeyId: v.s3AccessKeyId!,
          secretAccessKey: v.s3SecretAccessKey!,
          forcePathStyle: v.s3ForcePathStyle!,
        }
      : undefined,
    logLevel: v.logLevel,
    upstreams: v.upstreams,
    ...(v.upstreamCredentials ? { upstreamCredentials: v.upstreamCredentials } : {}),
    policyChecks: v.policyChecks,
    eventBridge: v.eventBridge,
    trustedProxies: v.trustedProxies,
    maxIngestBytes: v.maxIngestBytes,
    deliveryIntervalMs: v.deliveryIntervalMs,
    digestIntervalMs: v.digestIntervalMs,
    ingestWorkers: v.ingestWorkers,
    lookupEventsRate: v.lookupEventsRate,
  };
}

/**
 * Where opentrail calls another AWS service (sns, logs, events, kms, iam, s3): the service's
 * upstream, else the default upstream; s3 is the S3 endpoint first. Undefined: not configured.
 */
export function serviceEndpoint(config: Config, service: string): string | undefined {
  if (service === "s3" && config.s3) return config.s3.endpoint;
  return config.upstreams.services[service] ?? config.upstreams.default;
}

/** The process's environment, for loadConfig and the helpers below: the one place that reads it. */
export function processEnv(): Env {
  return process.env;
}

/** The keys `opentrail ingest` signs with: the AWS CLI's variables, else the development key. */
export function signingCredentials(env: Env = processEnv()): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
} {
  const sessionToken = env.AWS_SESSION_TOKEN;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID ?? DEVELOPMENT_CREDENTIAL.accessKeyId,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? DEVELOPMENT_CREDENTIAL.secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  };
}
