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

/** HTTPS: a certificate and key from files, or one made (and kept) for the listed names. */
export type TlsConfig =
  | { kind: "files"; certFile: string; keyFile: string }
  | { kind: "self-signed"; hostnames: string[] };

/** The Insights detection knobs (insights.md §6.5), the file's "insights" block. */
export interface InsightsConfig {
  baselineMinutes: number;
  warmupMinutes: number;
  multiplier: number;
  sigmas: number;
  floorCallRate: number;
  floorErrorRate: number;
  endQuietMinutes: number;
  maxDurationMinutes: number;
  cooldownMinutes: number;
  graceSeconds: number;
  detectDrops: boolean;
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** A PostgreSQL URL; undefined keeps the stores in SQLite in `dataDir`. */
  database?: string;
  regions: string[];
  credentials: CredentialConfig[];
  /** True when no credentials were configured: the documented development key is accepted. */
  development: boolean;
  s3?: S3Config;
  /** Absent: plain HTTP. */
  tls?: TlsConfig;
  logLevel: string;
  /** Where the recording proxy forwards non-CloudTrail requests; none configured: no proxy. */
  upstreams: UpstreamsConfig;
  /** How long an upstream may take to start answering, in ms; 0: no limit. */
  upstreamTimeoutMs: number;
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
  /**
   * Bytes of POST /ingest bodies being inflated and parsed at once, over every request and ingest
   * thread; a batch beyond it waits up to ingestMemoryWaitMs, then is refused (503 ThrottlingException).
   */
  ingestMemoryBytes: number;
  ingestMemoryWaitMs: number;
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
  insights: InsightsConfig;
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
    ...(v.database === undefined ? {} : { database: v.database }),
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
    tls: tlsConfig(v.tlsCert, v.tlsKey, v.tlsSelfSigned),
    logLevel: v.logLevel,
    upstreams: v.upstreams,
    upstreamTimeoutMs: v.upstreamTimeoutMs,
    ...(v.upstreamCredentials ? { upstreamCredentials: v.upstreamCredentials } : {}),
    policyChecks: v.policyChecks,
    eventBridge: v.eventBridge,
    trustedProxies: v.trustedProxies,
    maxIngestBytes: v.maxIngestBytes,
    ingestMemoryBytes: v.ingestMemoryBytes,
    ingestMemoryWaitMs: v.ingestMemoryWaitMs,
    deliveryIntervalMs: v.deliveryIntervalMs,
    digestIntervalMs: v.digestIntervalMs,
    ingestWorkers: v.ingestWorkers,
    lookupEventsRate: v.lookupEventsRate,
    insights: {
      baselineMinutes: v.insightsBaselineMinutes,
      warmupMinutes: v.insightsWarmupMinutes,
      multiplier: v.insightsMultiplier,
      sigmas: v.insightsSigmas,
      floorCallRate: v.insightsFloorCallRate,
      floorErrorRate: v.insightsFloorErrorRate,
      endQuietMinutes: v.insightsEndQuietMinutes,
      maxDurationMinutes: v.insightsMaxDurationMinutes,
      cooldownMinutes: v.insightsCooldownMinutes,
      graceSeconds: v.insightsGraceSeconds,
      detectDrops: v.insightsDetectDrops,
    },
  };
}

function tlsConfig(
  certFile: string | undefined,
  keyFile: string | undefined,
  selfSigned: string[] | undefined,
): TlsConfig | undefined {
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (certFile !== undefined && selfSigned !== undefined) {
    throw new ConfigError("--tls-self-signed makes its own certificate: give it or --tls-cert, not both");
  }
  if (certFile !== undefined && keyFile !== undefined) return { kind: "files", certFile, keyFile };
  if (selfSigned !== undefined) return { kind: "self-signed", hostnames: selfSigned };
  return undefined;
}

/**
 * The AWS SDK's notice that its releases after January 2027 need Node 22 is no news to a user of
 * opentrail, which supports Node 20, and lands in the middle of a command's output or the server's
 * logs: the SDK's own switch turns it off for the process (its value must be exactly "true").
 */
export function quietSdkNodeNotice(env: Env = processEnv()): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
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

/**
 * The keys `opentrail ingest` signs with: the AWS CLI's variables (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), else the development key. With the development
 * key (unset, or `test`), each account's records are signed with that account's development key.
 */
export function ingestSigning(env: Env = processEnv()): {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  accountKeys: boolean;
} {
  const sessionToken = env.AWS_SESSION_TOKEN;
  const accessKeyId = env.AWS_ACCESS_KEY_ID || DEVELOPMENT_CREDENTIAL.accessKeyId;
  return {
    credentials: {
      accessKeyId,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY || DEVELOPMENT_CREDENTIAL.secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
    },
    accountKeys: accessKeyId === DEVELOPMENT_CREDENTIAL.accessKeyId,
  };
}
