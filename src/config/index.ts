import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";

/**
 * One schema for the configuration file, the environment (OPENTRAIL_*) and command-line flags.
 * Precedence: flag > environment > file > default. Nothing else reads process.env.
 */

export const IDENTITY_TYPES = ["IAMUser", "Root", "AssumedRole"] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** An access key the server accepts and the principal records name for it. */
export interface CredentialConfig {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  accountId: string;
  type: IdentityType;
  /** IAM user name (IAMUser), role name (AssumedRole). */
  userName?: string;
  roleName?: string;
  sessionName?: string;
  principalId?: string;
  /**
   * AssumedRole: when the session's credentials were issued, `YYYY-MM-DDTHH:MM:SSZ`
   * (sessionContext.attributes.creationDate); the service's start when absent.
   */
  sessionCreated?: string;
}

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

/** Commercial regions served by default; a multi-Region trail has a shadow in each. */
export const DEFAULT_REGIONS = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "ca-central-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-north-1",
  "ap-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-southeast-1",
  "ap-southeast-2",
  "sa-east-1",
];

/** The documented development credential: `test` / `test`, an IAM user of account 123456789012. */
export const DEVELOPMENT_CREDENTIAL: CredentialConfig = {
  accessKeyId: "test",
  secretAccessKey: "test",
  accountId: "123456789012",
  type: "IAMUser",
  userName: "test",
};

export const DEFAULT_PORT = 4566;

/**
 * Two threads besides the request thread where there are two cores: on the 2-core development
 * machine `npm run bench:ingest` measured 30,200–31,600 records/s with two, 27,700–28,500 with
 * one (README).
 */
export const DEFAULT_INGEST_WORKERS = Math.min(2, availableParallelism());

export interface ConfigSources {
  flags?: {
    host?: string;
    port?: string | number;
    dataDir?: string;
    config?: string;
    s3Endpoint?: string;
    logLevel?: string;
    deliveryInterval?: string | number;
    digestInterval?: string | number;
    ingestWorkers?: string | number;
    lookupEventsRate?: string | number;
  };
  env?: Record<string, string | undefined>;
  /** Directory relative data dirs and the default data dir are resolved against. */
  cwd?: string;
}

export class ConfigError extends Error {}

interface FileShape {
  host?: unknown;
  port?: unknown;
  dataDir?: unknown;
  regions?: unknown;
  credentials?: unknown;
  s3?: unknown;
  logLevel?: unknown;
  trustedProxies?: unknown;
  deliveryIntervalSeconds?: unknown;
  digestIntervalSeconds?: unknown;
  maxIngestBytes?: unknown;
  ingestWorkers?: unknown;
  lookupEventsRate?: unknown;
}

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw new ConfigError(`${what} must be a non-empty string`);
  return v;
}

function parsePort(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${what} must be a port number (0-65535)`);
  return n;
}

function parseCredential(v: unknown, i: number): CredentialConfig {
  const what = `credentials[${i}]`;
  if (typeof v !== "object" || v === null) throw new ConfigError(`${what} must be an object`);
  const o = v as Record<string, unknown>;
  const accessKeyId = str(o.accessKeyId, `${what}.accessKeyId`);
  const secretAccessKey = str(o.secretAccessKey, `${what}.secretAccessKey`);
  const accountId = str(o.accountId, `${what}.accountId`);
  if (!accessKeyId || !secretAccessKey || !accountId) {
    throw new ConfigError(`${what} needs accessKeyId, secretAccessKey and accountId`);
  }
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`${what}.accountId must be 12 digits`);
  const type = (str(o.type, `${what}.type`) ?? "IAMUser") as IdentityType;
  if (!IDENTITY_TYPES.includes(type))
    throw new ConfigError(`${what}.type must be one of ${IDENTITY_TYPES.join(", ")}`);
  const cred: CredentialConfig = { accessKeyId, secretAccessKey, accountId, type };
  for (const key of [
    "sessionToken",
    "userName",
    "roleName",
    "sessionName",
    "principalId",
    "sessionCreated",
  ] as const) {
    const value = str(o[key], `${what}.${key}`);
    if (value !== undefined) cred[key] = value;
  }
  if (type === "IAMUser" && !cred.userName) throw new ConfigError(`${what}.userName is required for IAMUser`);
  if (type === "AssumedRole" && (!cred.roleName || !cred.sessionName)) {
    throw new ConfigError(`${what}.roleName and sessionName are required for AssumedRole`);
  }
  if (
    cred.sessionCreated !== undefined &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(cred.sessionCreated)
  ) {
    throw new ConfigError(`${what}.sessionCreated must be a UTC time written YYYY-MM-DDTHH:MM:SSZ`);
  }
  return cred;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const cwd = sources.cwd ?? ".";
  const file = flags.config ?? env.OPENTRAIL_CONFIG;
  let fromFile: FileShape = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(file, "utf8")) as FileShape;
    } catch (e) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
    }
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      throw new ConfigError(`configuration file ${file} must hold a JSON object`);
    }
  }

  const host = flags.host ?? env.OPENTRAIL_HOST ?? str(fromFile.host, "host") ?? "127.0.0.1";
  const port =
    parsePort(flags.port, "--port") ??
    parsePort(env.OPENTRAIL_PORT, "OPENTRAIL_PORT") ??
    parsePort(fromFile.port, "port") ??
    DEFAULT_PORT;
  const dataDir = resolve(
    cwd,
    flags.dataDir ?? env.OPENTRAIL_DATA_DIR ?? str(fromFile.dataDir, "dataDir") ?? ".opentrail",
  );

  let regions = DEFAULT_REGIONS;
  const regionList = env.OPENTRAIL_REGIONS?.split(",").map((r) => r.trim()) ?? fromFile.regions;
  if (regionList !== undefined) {
    if (!Array.isArray(regionList) || regionList.length === 0)
      throw new ConfigError("regions must be a non-empty list");
    regions = regionList.map((r, i) => {
      const region = str(r, `regions[${i}]`);
      if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
        throw new ConfigError(`regions[${i}] is not a region name`);
      return region;
    });
  }

  const rawCreds = fromFile.credentials ?? [];
  if (!Array.isArray(rawCreds)) throw new ConfigError("credentials must be a list");
  const credentials = rawCreds.map(parseCredential);
  const development = credentials.length === 0;
  if (development && !isLoopback(host)) {
    throw new ConfigError(
      `refusing to listen on ${host} without configured credentials: the development credential is for loopback only`,
    );
  }

  let s3: S3Config | undefined;
  const s3File = (fromFile.s3 ?? {}) as Record<string, unknown>;
  const endpoint = flags.s3Endpoint ?? env.OPENTRAIL_S3_ENDPOINT ?? str(s3File.endpoint, "s3.endpoint");
  if (endpoint) {
    s3 = {
      endpoint,
      region: env.OPENTRAIL_S3_REGION ?? str(s3File.region, "s3.region") ?? "us-east-1",
      accessKeyId: env.OPENTRAIL_S3_ACCESS_KEY_ID ?? str(s3File.accessKeyId, "s3.accessKeyId") ?? "test",
      secretAccessKey:
        env.OPENTRAIL_S3_SECRET_ACCESS_KEY ?? str(s3File.secretAccessKey, "s3.secretAccessKey") ?? "test",
      forcePathStyle: s3File.forcePathStyle !== false,
    };
  }

  const trustedProxies = fromFile.trustedProxies ?? [];
  if (!Array.isArray(trustedProxies) || trustedProxies.some((p) => typeof p !== "string" || isIP(p) === 0)) {
    throw new ConfigError("trustedProxies must be a list of IP addresses");
  }
  const maxIngestBytes = fromFile.maxIngestBytes ?? 32 * 1024 * 1024;
  if (typeof maxIngestBytes !== "number" || !Number.isInteger(maxIngestBytes) || maxIngestBytes < 1024) {
    throw new ConfigError("maxIngestBytes must be a whole number of bytes, at least 1024");
  }

  const intervalRaw =
    flags.deliveryInterval ?? env.OPENTRAIL_DELIVERY_INTERVAL ?? fromFile.deliveryIntervalSeconds ?? 300;
  const deliveryIntervalSeconds = Number(intervalRaw);
  if (
    !Number.isFinite(deliveryIntervalSeconds) ||
    deliveryIntervalSeconds <= 0 ||
    deliveryIntervalSeconds > 3600
  ) {
    throw new ConfigError("the delivery interval must be a number of seconds between 0 and 3600");
  }

  const digestRaw =
    flags.digestInterval ?? env.OPENTRAIL_DIGEST_INTERVAL ?? fromFile.digestIntervalSeconds ?? 3600;
  const digestIntervalSeconds = Number(digestRaw);
  // digest names and times have whole seconds: a fraction would give two digests one name
  if (!Number.isInteger(digestIntervalSeconds) || digestIntervalSeconds < 1 || digestIntervalSeconds > 3600) {
    throw new ConfigError("the digest interval must be a whole number of seconds between 1 and 3600");
  }

  const workersRaw =
    flags.ingestWorkers ?? env.OPENTRAIL_INGEST_WORKERS ?? fromFile.ingestWorkers ?? DEFAULT_INGEST_WORKERS;
  const ingestWorkers = Number(workersRaw);
  if (!Number.isInteger(ingestWorkers) || ingestWorkers < 0 || ingestWorkers > 64) {
    throw new ConfigError("the number of ingest workers must be a whole number between 0 and 64");
  }

  const rateRaw =
    flags.lookupEventsRate ?? env.OPENTRAIL_LOOKUP_EVENTS_RATE ?? fromFile.lookupEventsRate ?? 0;
  const lookupEventsRate = Number(rateRaw);
  if (!Number.isFinite(lookupEventsRate) || lookupEventsRate < 0 || lookupEventsRate > 1_000_000) {
    throw new ConfigError("the LookupEvents rate must be a number of requests per second (0: no limit)");
  }

  const logLevel = flags.logLevel ?? env.OPENTRAIL_LOG_LEVEL ?? str(fromFile.logLevel, "logLevel") ?? "info";
  return {
    host,
    port,
    dataDir,
    regions,
    credentials: development ? [DEVELOPMENT_CREDENTIAL] : credentials,
    development,
    s3,
    logLevel,
    trustedProxies: trustedProxies as string[],
    maxIngestBytes,
    deliveryIntervalMs: Math.round(deliveryIntervalSeconds * 1000),
    digestIntervalMs: digestIntervalSeconds * 1000,
    ingestWorkers,
    lookupEventsRate,
  };
}
