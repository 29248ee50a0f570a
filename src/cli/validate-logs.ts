import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import type { httpClient } from "../client/http.ts";
import { ConfigError, DEFAULT_PORT, isLoopback, loadConfig, processEnv } from "../config/index.ts";
import { Report, type Writer } from "../validate/report.ts";
import { parseTime } from "../validate/time.ts";
import {
  type ObjectReader,
  type Progress,
  parseCliTrailArn,
  ValidationAbort,
  validateLogs,
} from "../validate/validator.ts";
import { bar, progressLine } from "./progress.ts";

/**
 * `opentrail validate-logs`: the inputs, output and verdicts of `aws cloudtrail validate-logs`, on
 * the local store of `opentrail serve` or on S3, with a few checks more and much faster.
 */

export interface ValidateLogsFlags {
  trailArn: string;
  startTime: string;
  endTime?: string;
  s3Bucket?: string;
  s3Prefix?: string;
  accountId?: string;
  verbose?: boolean;
  endpoint: string;
  region?: string;
  dataDir?: string;
  config?: string;
  s3Endpoint?: string;
  concurrency: string;
}

export interface ValidateLogsIo {
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  now?: () => Date;
  /** Least time between two redraws of the progress line (default 100 ms). */
  progressEveryMs?: number;
}

/** Exit status: 0 all valid, 1 something invalid, 2 the validation could not be done. */
export type ExitStatus = 0 | 1 | 2;

const DEFAULT_CONCURRENCY = 48;

class UsageError extends Error {}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Where the digests and log files are read: an S3 endpoint if one is named (read without the SDK,
 * whose CPU per request would be most of the validation's), else the local buckets.
 */
async function openReader(
  flags: ValidateLogsFlags,
  io: ValidateLogsIo,
  concurrency: number,
): Promise<ObjectReader> {
  // the readers are adapters, which the composition root builds
  const { localObjectReader, s3Reader } = await import("../readers.ts");
  const config = loadConfig({
    flags: {
      ...(flags.dataDir ? { dataDir: flags.dataDir } : {}),
      ...(flags.config ? { config: flags.config } : {}),
      ...(flags.s3Endpoint ? { s3Endpoint: flags.s3Endpoint } : {}),
    },
    env: io.env,
    cwd: io.cwd,
  });
  const env = io.env;
  const endpoint = flags.s3Endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? config.s3?.endpoint;
  if (!endpoint) return localObjectReader(join(config.dataDir, "buckets"));
  const fromConfig = config.s3 !== undefined && endpoint === config.s3.endpoint && !flags.s3Endpoint;
  const envKeys =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  const configKeys = config.s3
    ? { accessKeyId: config.s3.accessKeyId, secretAccessKey: config.s3.secretAccessKey }
    : { accessKeyId: "test", secretAccessKey: "test" };
  return s3Reader({
    endpoint,
    region: config.s3?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1",
    credentials: fromConfig ? configKeys : (envKeys ?? configKeys),
    forcePathStyle: config.s3?.forcePathStyle ?? true,
    concurrency,
  });
}

/** The progress line's text for a validation's progress. */
export function validateProgressText(p: Progress): string {
  const fraction = p.listed === 0 ? 0 : p.digests / p.listed;
  return `${bar(fraction)} ${p.digests} digest files, ${p.logs} log files checked, ${p.pending} pending`;
}

/** What the flags ask for, checked as the AWS CLI checks them before any request. */
interface ValidationInputs {
  arn: string;
  start: Date;
  end: Date;
  concurrency: number;
  homeRegion: string;
  accountId: string;
  trailName: string;
  /** The digests' region; the trail and its public keys are asked there too. */
  region: string;
}

function validationInputs(flags: ValidateLogsFlags, io: ValidateLogsIo): ValidationInputs {
  const arn = flags.trailArn;
  const parsed = parseCliTrailArn(arn);
  if (!parsed) throw new UsageError(`Invalid trail ARN provided: ${arn}`);
  const start = parseTime(flags.startTime);
  if (!start) throw new UsageError(`Unable to parse date value: ${flags.startTime}`);
  const end = flags.endTime === undefined ? (io.now?.() ?? new Date()) : parseTime(flags.endTime);
  if (!end) throw new UsageError(`Unable to parse date value: ${flags.endTime}`);
  if (start.getTime() > end.getTime()) {
    throw new UsageError("Invalid time range specified: start-time must occur before end-time");
  }
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new UsageError("--concurrency must be a whole number between 1 and 1024");
  }
  return {
    arn,
    start,
    end,
    concurrency,
    homeRegion: parsed.region,
    accountId: flags.accountId ?? parsed.accountId,
    trailName: parsed.name,
    // as the AWS CLI: --region, else the trail ARN's region; AWS_REGION and AWS_DEFAULT_REGION do
    // not count
    region: flags.region ?? parsed.region,
  };
}

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The AWS CLI's environment variables, else the development key for a server on loopback. */
function apiCredentials(flags: ValidateLogsFlags, env: ValidateLogsIo["env"]): Credentials {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  }
  if (isLoopback(new URL(flags.endpoint).hostname.replace(/^\[|\]$/g, ""))) {
    // the development credential `opentrail serve` accepts on loopback
    return { accessKeyId: "test", secretAccessKey: "test" };
  }
  throw new UsageError("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for a server beyond loopback");
}

/** The bucket and prefix the flags name, else the trail's own. */
async function trailBucket(
  flags: ValidateLogsFlags,
  client: ReturnType<typeof httpClient>,
  arn: string,
): Promise<{ bucket: string; prefix: string | undefined }> {
  if (flags.s3Bucket !== undefined) return { bucket: flags.s3Bucket, prefix: flags.s3Prefix };
  const { trailList = [] } = await client.describeTrails({});
  const trail = trailList.find((tr) => tr.TrailARN === arn);
  if (!trail) throw new UsageError(`A trail could not be found for ${arn}`);
  if (trail.IsOrganizationTrail && !flags.accountId) {
    throw new UsageError("Missing required parameter for organization trail: '--account-id'");
  }
  return { bucket: trail.S3BucketName!, prefix: trail.S3KeyPrefix };
}

export async function runValidateLogs(flags: ValidateLogsFlags, io: ValidateLogsIo): Promise<ExitStatus> {
  let reader: ObjectReader | undefined;
  let api: ReturnType<typeof httpClient> | undefined;
  const line = io.stderr.isTTY ? progressLine(io.stderr, io.progressEveryMs) : undefined;
  try {
    const inputs = validationInputs(flags, io);
    const credentials = apiCredentials(flags, io.env);
    // the SDK is loaded only once the flags are known good: a usage error or --help needs none of it
    const { httpClient } = await import("../client/http.ts");
    const client = httpClient({ endpoint: flags.endpoint, region: inputs.region, credentials });
    api = client;
    const { bucket, prefix } = await trailBucket(flags, client, inputs.arn);
    reader = await openReader(flags, io, inputs.concurrency);

    const writer: Writer = {
      out: (text) => (line ? line.write((t) => io.stdout.write(t), text) : io.stdout.write(text)),
      err: (text) => (line ? line.write((t) => io.stderr.write(t), text) : io.stderr.write(text)),
    };
    const report = new Report(writer, flags.verbose === true);
    report.startup(inputs.arn, inputs.start, inputs.end);
    const { arn: trailArn, start, end, accountId, region, trailName, homeRegion, concurrency } = inputs;
    await validateLogs(
      { trailArn, start, end, bucket, prefix, accountId, region, trailName, homeRegion },
      {
        reader,
        report,
        concurrency,
        async publicKeys(from, to) {
          const { PublicKeyList = [] } = await client.listPublicKeys({ StartTime: from, EndTime: to });
          return new Map(PublicKeyList.map((k) => [k.Fingerprint ?? "", k.Value ?? new Uint8Array()]));
        },
        ...(line ? { onProgress: (p: Progress) => line.update(validateProgressText(p)) } : {}),
      },
    );
    line?.stop();
    return report.failed ? 1 : 0;
  } catch (e) {
    line?.stop();
    const known = e instanceof UsageError || e instanceof ValidationAbort || e instanceof ConfigError;
    io.stderr.write(`opentrail validate-logs: ${known ? e.message : message(e)}\n`);
    return 2;
  } finally {
    await reader?.close();
    api?.client.destroy();
  }
}

function positive(v: string): string {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError("must be a positive whole number");
  return v;
}

/** The subcommand, for the program in main.ts. */
export function validateLogsCommand(): Command {
  return new Command("validate-logs")
    .description(
      "Validate a trail's log files against its signed digests, as `aws cloudtrail validate-logs` does (exit 1 if anything is invalid).",
    )
    .requiredOption("--trail-arn <arn>", "ARN of the trail to validate")
    .requiredOption(
      "--start-time <time>",
      "validate log files delivered on or after this time (ISO 8601 or epoch seconds)",
    )
    .option("--end-time <time>", "... and on or before this time (default now)")
    .option("--s3-bucket <bucket>", "bucket of the digests, if not the trail's current one")
    .option("--s3-prefix <prefix>", "key prefix of the digests, with --s3-bucket")
    .option("--account-id <id>", "account whose digests to validate (default: the ARN's)")
    .option("--verbose", "also print every valid digest and log file")
    .option("--endpoint <url>", "server URL (trail and public keys)", `http://127.0.0.1:${DEFAULT_PORT}`)
    .option(
      "--region <region>",
      "region whose digests to validate (default: the trail ARN's region, as the AWS CLI; AWS_REGION and AWS_DEFAULT_REGION are not read)",
    )
    .option(
      "--data-dir <dir>",
      "the server's data directory, whose local buckets are read (default ./.opentrail)",
    )
    .option("--config <file>", "the server's configuration file (its data directory or S3 endpoint)")
    .option(
      "--s3-endpoint <url>",
      "read from this S3-compatible endpoint (default AWS_ENDPOINT_URL_S3, else the config)",
    )
    .option("--concurrency <n>", "objects read at once", positive, String(DEFAULT_CONCURRENCY))
    .action(async (flags: ValidateLogsFlags) => {
      const env = processEnv();
      const status = await runValidateLogs(flags, {
        env,
        cwd: process.cwd(),
        stdout: process.stdout,
        stderr: process.stderr,
      });
      process.exitCode = status;
    });
}
