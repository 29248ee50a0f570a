import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { CREDENTIAL_KEYS, parseCredential } from "./credentials.ts";
import {
  parseUpstreamCredentials,
  parseUpstreams,
  upstreamsFromFile,
  upstreamsFromText,
} from "./upstreams.ts";
import { ConfigError, nonEmpty, parsePort, portProblem } from "./values.ts";

/**
 * One row per setting: where the command line, the environment and the configuration file hold it
 * and how its value is read. A flag wins over the environment, the environment over the file, the
 * file over the default. `serve`'s flags, the variables read and the keys the file may hold are
 * all taken from here.
 */
export interface Setting<T = unknown> {
  /** `--name <arg>`; ConfigSources.flags holds it under commander's camelCase of the name. */
  readonly flag?: string;
  /** The flag's line in `opentrail serve --help`. */
  readonly help?: string;
  /** The flag may be given several times; its texts reach fromText joined with ",". */
  readonly repeatable?: true;
  /** Code may give the flag as a number (`{ port: 0 }`), not only as the command line's text. */
  readonly numeric?: true;
  /** Why commander refuses the command line's text for the flag; undefined when it is accepted. */
  readonly flagProblem?: (text: string) => string | undefined;
  readonly env?: string;
  /** The configuration file's key; `block.key` for a key of a block (s3). */
  readonly file?: string;
  /** The keys each entry of the file's list may hold. */
  readonly entryKeys?: readonly string[];
  /** Read only when this other setting has a value: the S3 block means nothing without an endpoint. */
  readonly needs?: string;
  /** A flag's or variable's text to the value; undefined leaves it to the next source. The text as is by default. */
  readonly fromText?: (text: string | number, label: string) => unknown;
  /** The file's value to the value; undefined leaves it to the default. By default null is absent. */
  readonly fromFile?: (value: unknown, label: string) => unknown;
  /** The value when no source has one; it goes through parse like any other. */
  readonly default?: unknown;
  /** The value found to the setting, or a ConfigError; relative paths resolve against cwd. */
  readonly parse: (value: unknown, cwd: string) => T;
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

export const DEFAULT_PORT = 4566;

/** pino's levels, the only ones the logger takes. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Two threads besides the request thread where there are two cores: on the 2-core development
 * machine `npm run bench:ingest` measured 30,200–31,600 records/s with two, 27,700–28,500 with
 * one (README).
 */
export const DEFAULT_INGEST_WORKERS = Math.min(2, availableParallelism());

/**
 * Inflated or plain body bytes being decoded at once: the largest inflated body (8 × the 32 MiB
 * body limit), one at a time; parsed records take a few times their text besides.
 */
export const DEFAULT_INGEST_MEMORY_BYTES = 256 * 1024 * 1024;

const text = (v: unknown): string => String(v);
const optionalText = (v: unknown): string | undefined => (v === undefined ? undefined : String(v));

/** A number of seconds (fractions allowed) from min to max, kept in milliseconds. */
function secondsToMs(what: string, min: number, max: number) {
  return (v: unknown): number => {
    const seconds = Number(v);
    if (!Number.isFinite(seconds) || seconds < min || seconds > max) {
      throw new ConfigError(
        `${what} must be a number of seconds from ${min} to ${max} (fractions allowed), not ${JSON.stringify(v)}`,
      );
    }
    return Math.round(seconds * 1000);
  };
}

function regionList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new ConfigError("regions must be a non-empty list");
  return v.map((r, i) => {
    const region = nonEmpty(r, `regions[${i}]`);
    if (!region || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
      throw new ConfigError(`regions[${i}] is not a region name`);
    return region;
  });
}

/** A number knob of the "insights" block (insights.md §6.5): file only, at least `min`, whole unless `fraction`. */
function insightsKnob(key: string, fallback: number, min: number, fraction = false) {
  return {
    file: `insights.${key}`,
    default: fallback,
    parse: (v: unknown): number => {
      if (typeof v !== "number" || !Number.isFinite(v) || v < min || (!fraction && !Number.isInteger(v))) {
        throw new ConfigError(`insights.${key} must be a ${fraction ? "" : "whole "}number, at least ${min}`);
      }
      return v;
    },
  } as const;
}

/** The Insights detection knobs; defaults as insights.md §6.5. */
const INSIGHTS_SETTINGS = {
  insightsBaselineMinutes: insightsKnob("baselineMinutes", 10_080, 1),
  insightsWarmupMinutes: insightsKnob("warmupMinutes", 2_160, 0),
  insightsMultiplier: insightsKnob("multiplier", 3, 1, true),
  insightsSigmas: insightsKnob("sigmas", 4, 0, true),
  insightsFloorCallRate: insightsKnob("floorCallRate", 10, 1),
  insightsFloorErrorRate: insightsKnob("floorErrorRate", 5, 1),
  insightsEndQuietMinutes: insightsKnob("endQuietMinutes", 5, 1),
  insightsMaxDurationMinutes: insightsKnob("maxDurationMinutes", 360, 1),
  insightsCooldownMinutes: insightsKnob("cooldownMinutes", 5, 0),
  insightsGraceSeconds: insightsKnob("graceSeconds", 60, 0),
  insightsDetectDrops: {
    file: "insights.detectDrops",
    default: false,
    parse: (v: unknown): boolean => {
      if (typeof v !== "boolean") throw new ConfigError("insights.detectDrops must be true or false");
      return v;
    },
  },
} as const satisfies Record<string, Setting>;

/** The table, in the order the settings are read (and their errors found) and their flags listed. */
export const SETTINGS = {
  host: {
    flag: "--host <host>",
    help: "address to listen on; beyond loopback, credentials must be configured",
    env: "OPENTRAIL_HOST",
    file: "host",
    fromFile: nonEmpty,
    default: "127.0.0.1",
    parse: text,
  },
  port: {
    flag: "--port <port>",
    help: `TCP port (0 picks a free one; default ${DEFAULT_PORT})`,
    numeric: true,
    flagProblem: portProblem,
    env: "OPENTRAIL_PORT",
    file: "port",
    fromText: parsePort,
    fromFile: parsePort,
    default: DEFAULT_PORT,
    parse: Number,
  },
  dataDir: {
    flag: "--data-dir <dir>",
    help: "where the database and the local buckets live (default ./.opentrail)",
    env: "OPENTRAIL_DATA_DIR",
    file: "dataDir",
    fromFile: nonEmpty,
    default: ".opentrail",
    parse: (v: unknown, cwd: string) => resolve(cwd, String(v)),
  },
  database: {
    flag: "--database <url>",
    help: "keep trails, events and the outbox in this PostgreSQL database (postgres://…) instead of <data-dir>/opentrail.db",
    env: "OPENTRAIL_DATABASE",
    file: "database",
    fromFile: nonEmpty,
    parse: (v: unknown) => {
      if (v === undefined) return undefined;
      const url = String(v);
      if (!/^postgres(ql)?:\/\//.test(url)) {
        throw new ConfigError("database must be a postgres:// or postgresql:// URL");
      }
      return url;
    },
  },
  /** The configuration file itself: read before every other setting. */
  config: {
    flag: "--config <file>",
    help: "JSON configuration file: credentials, regions, s3, upstreams, host, port, dataDir, database",
    env: "OPENTRAIL_CONFIG",
    parse: optionalText,
  },
  regions: {
    env: "OPENTRAIL_REGIONS",
    file: "regions",
    fromText: (v: string | number) =>
      String(v)
        .split(",")
        .map((r) => r.trim()),
    // null is not absent here: it is not a list
    fromFile: (v: unknown) => v,
    default: DEFAULT_REGIONS,
    parse: regionList,
  },
  credentials: {
    file: "credentials",
    entryKeys: CREDENTIAL_KEYS,
    default: [],
    parse: (v: unknown) => {
      if (!Array.isArray(v)) throw new ConfigError("credentials must be a list");
      return v.map(parseCredential);
    },
  },
  s3Endpoint: {
    flag: "--s3-endpoint <url>",
    help: "deliver to this S3-compatible endpoint instead of <data-dir>/buckets",
    env: "OPENTRAIL_S3_ENDPOINT",
    file: "s3.endpoint",
    fromFile: nonEmpty,
    parse: optionalText,
  },
  s3Region: {
    needs: "s3Endpoint",
    env: "OPENTRAIL_S3_REGION",
    file: "s3.region",
    fromFile: nonEmpty,
    default: "us-east-1",
    parse: text,
  },
  s3AccessKeyId: {
    needs: "s3Endpoint",
    env: "OPENTRAIL_S3_ACCESS_KEY_ID",
    file: "s3.accessKeyId",
    fromFile: nonEmpty,
    default: "test",
    parse: text,
  },
  s3SecretAccessKey: {
    needs: "s3Endpoint",
    env: "OPENTRAIL_S3_SECRET_ACCESS_KEY",
    file: "s3.secretAccessKey",
    fromFile: nonEmpty,
    default: "test",
    parse: text,
  },
  s3ForcePathStyle: {
    needs: "s3Endpoint",
    file: "s3.forcePathStyle",
    default: true,
    parse: (v: unknown) => v !== false,
  },
  tlsCert: {
    flag: "--tls-cert <file>",
    help: "PEM certificate (chain): serve HTTPS instead of HTTP; needs --tls-key",
    env: "OPENTRAIL_TLS_CERT",
    file: "tls.cert",
    fromFile: nonEmpty,
    parse: (v: unknown, cwd: string) => (v === undefined ? undefined : resolve(cwd, String(v))),
  },
  tlsKey: {
    flag: "--tls-key <file>",
    help: "PEM private key of --tls-cert",
    env: "OPENTRAIL_TLS_KEY",
    file: "tls.key",
    fromFile: nonEmpty,
    parse: (v: unknown, cwd: string) => (v === undefined ? undefined : resolve(cwd, String(v))),
  },
  tlsSelfSigned: {
    flag: "--tls-self-signed [names]",
    help: "serve HTTPS with a certificate made for localhost, 127.0.0.1, ::1 and these comma-separated names, kept in <data-dir>/tls",
    env: "OPENTRAIL_TLS_SELF_SIGNED",
    file: "tls.selfSigned",
    // commander gives true for the bare flag; the variable and the file say true or a list of names
    fromText: (v: unknown) =>
      v === true || v === "true" || v === "" ? [] : v === "false" ? undefined : String(v).split(","),
    fromFile: (v: unknown) => (v === true ? [] : v === false || v === null ? undefined : v),
    parse: (v: unknown): string[] | undefined => {
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((n) => typeof n !== "string" || n.trim() === "")) {
        throw new ConfigError("tls.selfSigned must be true or a list of host names");
      }
      return v.map((n: string) => n.trim());
    },
  },
  upstreams: {
    flag: "--upstream <url>",
    help: "forward every non-CloudTrail AWS request here and record it (URL, or SERVICE=URL for one service; repeatable)",
    repeatable: true,
    env: "OPENTRAIL_UPSTREAM",
    file: "upstreams",
    fromText: upstreamsFromText,
    fromFile: upstreamsFromFile,
    parse: parseUpstreams,
  },
  upstreamTimeoutMs: {
    flag: "--upstream-timeout <seconds>",
    help: "how long an upstream may take to start answering a forwarded call before the client gets a 504 and the call is recorded as failed (default 60; 0: no limit)",
    numeric: true,
    env: "OPENTRAIL_UPSTREAM_TIMEOUT",
    file: "upstreamTimeoutSeconds",
    default: 60,
    parse: secondsToMs("the upstream timeout", 0, 3600),
  },
  upstreamCredentials: {
    file: "upstreamCredentials",
    parse: parseUpstreamCredentials,
  },
  policyChecks: {
    flag: "--policy-checks <mode>",
    help: "aws: refuse a trail whose bucket or topic policy would not let CloudTrail write, as AWS does (default); off: only check that they exist",
    env: "OPENTRAIL_POLICY_CHECKS",
    file: "policyChecks",
    fromFile: nonEmpty,
    default: "aws",
    parse: (v: unknown): "aws" | "off" => {
      if (v !== "aws" && v !== "off")
        throw new ConfigError(`policyChecks must be aws or off, not '${String(v)}'`);
      return v;
    },
  },
  eventBridge: {
    flag: "--event-bridge <mode>",
    help: "on: send each delivered record to the default event bus of its region as 'AWS API Call via CloudTrail' (needs an events endpoint); default off",
    env: "OPENTRAIL_EVENTBRIDGE",
    file: "eventBridge",
    fromFile: (v: unknown) => (v === true ? "on" : v === false ? "off" : v),
    default: "off",
    parse: (v: unknown): "on" | "off" => {
      if (v !== "on" && v !== "off")
        throw new ConfigError(`eventBridge must be on or off, not '${String(v)}'`);
      return v;
    },
  },
  trustedProxies: {
    file: "trustedProxies",
    default: [],
    parse: (v: unknown): string[] => {
      if (!Array.isArray(v) || v.some((p) => typeof p !== "string" || isIP(p) === 0)) {
        throw new ConfigError("trustedProxies must be a list of IP addresses");
      }
      return v;
    },
  },
  maxIngestBytes: {
    file: "maxIngestBytes",
    default: 32 * 1024 * 1024,
    parse: (v: unknown) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1024) {
        throw new ConfigError("maxIngestBytes must be a whole number of bytes, at least 1024");
      }
      return v;
    },
  },
  deliveryIntervalMs: {
    flag: "--delivery-interval <seconds>",
    help: "how long records wait before their log file is written (default 300, as AWS)",
    numeric: true,
    env: "OPENTRAIL_DELIVERY_INTERVAL",
    file: "deliveryIntervalSeconds",
    default: 300,
    // fractions are for tests; below a millisecond nothing would wait at all
    parse: secondsToMs("the delivery interval", 0.001, 3600),
  },
  digestIntervalMs: {
    flag: "--digest-interval <seconds>",
    help: "length of a digest period, for tests (default 3600, as AWS)",
    numeric: true,
    env: "OPENTRAIL_DIGEST_INTERVAL",
    file: "digestIntervalSeconds",
    default: 3600,
    parse: (v: unknown) => {
      const seconds = Number(v);
      // digest names and times have whole seconds: a fraction would give two digests one name
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) {
        throw new ConfigError("the digest interval must be a whole number of seconds between 1 and 3600");
      }
      return seconds * 1000;
    },
  },
  ingestWorkers: {
    flag: "--ingest-workers <n>",
    help: "threads that store POST /ingest batches beside the request thread (0: none; default 2, 1 on one core)",
    numeric: true,
    env: "OPENTRAIL_INGEST_WORKERS",
    file: "ingestWorkers",
    default: DEFAULT_INGEST_WORKERS,
    parse: (v: unknown) => {
      const workers = Number(v);
      if (!Number.isInteger(workers) || workers < 0 || workers > 64) {
        throw new ConfigError("the number of ingest workers must be a whole number between 0 and 64");
      }
      return workers;
    },
  },
  ingestMemoryBytes: {
    flag: "--ingest-memory <bytes>",
    help: "bytes of POST /ingest bodies inflated and parsed at once, over all requests and threads (default 256 MiB); beyond it a batch waits its turn, then 503 ThrottlingException",
    numeric: true,
    env: "OPENTRAIL_INGEST_MEMORY",
    file: "ingestMemoryBytes",
    default: DEFAULT_INGEST_MEMORY_BYTES,
    parse: (v: unknown) => {
      const bytes = Number(v);
      if (!Number.isInteger(bytes) || bytes < 1024 * 1024) {
        throw new ConfigError("ingestMemoryBytes must be a whole number of bytes, at least 1 MiB");
      }
      return bytes;
    },
  },
  ingestMemoryWaitMs: {
    file: "ingestMemoryWaitMs",
    env: "OPENTRAIL_INGEST_MEMORY_WAIT_MS",
    default: 5000,
    parse: (v: unknown) => {
      const ms = Number(v);
      if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) {
        throw new ConfigError(
          "ingestMemoryWaitMs must be a whole number of milliseconds between 0 and 60000",
        );
      }
      return ms;
    },
  },
  lookupEventsRate: {
    flag: "--lookup-events-rate <n>",
    help: "LookupEvents requests per second per account and region, as AWS (2); default 0: no limit",
    numeric: true,
    env: "OPENTRAIL_LOOKUP_EVENTS_RATE",
    file: "lookupEventsRate",
    default: 0,
    parse: (v: unknown) => {
      const rate = Number(v);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1_000_000) {
        throw new ConfigError("the LookupEvents rate must be a number of requests per second (0: no limit)");
      }
      return rate;
    },
  },
  ...INSIGHTS_SETTINGS,
  logLevel: {
    flag: "--log-level <level>",
    help: `log level: ${LOG_LEVELS.join(", ")} (default info)`,
    env: "OPENTRAIL_LOG_LEVEL",
    file: "logLevel",
    fromFile: nonEmpty,
    default: "info",
    parse: (v: unknown) => {
      const level = String(v);
      if (!(LOG_LEVELS as readonly string[]).includes(level)) {
        throw new ConfigError(
          `the log level must be one of ${LOG_LEVELS.join(", ")}, not ${JSON.stringify(level)}`,
        );
      }
      return level;
    },
  },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;

/** The table as its readers see it, whatever each setting's type. */
export const ROWS: Readonly<Record<SettingName, Setting & { readonly needs?: SettingName }>> = SETTINGS;
