/**
 * `aws cloudtrail validate-logs` (AWS CLI v1) and `opentrail validate-logs` side by side on one set
 * of log files and their digests in moto's S3, written by the service itself on a stepped clock
 * (one log file every few minutes, so about twenty per hourly digest). Both must call everything
 * valid; prints the wall-clock time of each and the ratio.
 *
 *   npm run bench:validate [-- --files N] [--concurrency N]
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { pino } from "pino";
import { httpClient } from "../src/client/http.ts";
import { loadConfig } from "../src/config/index.ts";
import { startOpenTrail } from "../src/main.ts";
import { createBucket, startMoto } from "../test/support/s3-servers.ts";
import { assertBuilt, CLI_PATH } from "./support/server-process.ts";

const run = promisify(execFile);
const MINUTE = 60_000;
const BUCKET = "ot-bench-validate";
const REGION = "us-east-1";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "48" },
  },
});
const files = Number(values.files);
const stepMs = 3 * MINUTE;

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

interface Timed {
  ms: number;
  code: number;
  stdout: string;
  stderr: string;
}

async function timed(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(command, args, { env, maxBuffer: 256 * 1024 * 1024 });
    return { ms: performance.now() - started, code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      ms: performance.now() - started,
      code: err.code ?? -1,
      stdout: err.stdout ?? "",
      stderr: err.stderr ?? "",
    };
  }
}

function logsValid(out: string): number | undefined {
  const m = /^(\d+)\/(\d+) log files valid$/m.exec(out);
  return m && m[1] === m[2] ? Number(m[1]) : undefined;
}

assertBuilt();
const moto = await startMoto();
const dataDir = mkdtempSync(join(tmpdir(), "opentrail-bench-validate-"));
const cliDir = mkdtempSync(join(tmpdir(), "opentrail-bench-cli-"));
try {
  await createBucket(moto, BUCKET);
  writeFileSync(join(cliDir, "config"), "[default]\ns3 =\n  addressing_style = path\n");
  writeFileSync(join(cliDir, "credentials"), "");
  // the whole history lies in the past, so that the validation range ends now
  const t0 = Math.floor((Date.now() - (files + 30) * stepMs) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };
  const app = await startOpenTrail(
    {
      ...loadConfig({ flags: { port: 0, dataDir } }),
      deliveryIntervalMs: 3_600_000,
      s3: {
        endpoint: moto.endpoint,
        region: REGION,
        accessKeyId: "test",
        secretAccessKey: "test",
        forcePathStyle: true,
      },
    },
    { clock, log: pino({ level: "silent" }) },
  );
  // a fresh client per call: the SDK corrects its clock offset from response dates, which follow real time
  const api = () => {
    const c = httpClient({
      endpoint: app.url,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    c.client.config.systemClockOffset = clock.now().getTime() - Date.now();
    return c;
  };
  const at = (ms: number) => {
    t = t0 + ms;
  };
  try {
    const setup = performance.now();
    at(0);
    const { TrailARN } = await api().createTrail({
      Name: "bench",
      S3BucketName: BUCKET,
      EnableLogFileValidation: true,
    });
    const trailArn = TrailARN!;
    await api().startLogging({ Name: trailArn });
    // one log file per step; the last one holds the StopLogging record
    for (let i = 1; i < files; i++) {
      at(i * stepMs);
      await api().describeTrails({});
      await app.delivery.drain();
      await app.digests.drain();
    }
    at(files * stepMs);
    await api().stopLogging({ Name: trailArn });
    await app.delivery.drain();
    await app.digests.drain();
    real = true;
    process.stdout.write(
      `set up ${files} log files and their digests in moto in ${((performance.now() - setup) / 1000).toFixed(1)} s\n`,
    );

    const range = ["--trail-arn", trailArn, "--start-time", iso(t0 - MINUTE), "--end-time", iso(Date.now())];
    const aws = await timed(
      "python3",
      ["-m", "awscli", "cloudtrail", "validate-logs", ...range, "--endpoint-url", app.url],
      {
        PATH: process.env.PATH,
        HOME: cliDir,
        AWS_ENDPOINT_URL_S3: moto.endpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
        AWS_DEFAULT_REGION: REGION,
        AWS_CONFIG_FILE: join(cliDir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(cliDir, "credentials"),
      },
    );
    const ours = await timed(
      process.execPath,
      [CLI_PATH, "validate-logs", ...range, "--endpoint", app.url, "--concurrency", values.concurrency],
      {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_S3: moto.endpoint,
        AWS_DEFAULT_REGION: REGION,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    );
    const awsLogs = logsValid(aws.stdout);
    const ourLogs = logsValid(ours.stdout);
    if (aws.code !== 0 || ours.code !== 0 || awsLogs !== files || ourLogs !== files) {
      throw new Error(
        `not all valid: aws exit ${aws.code} (${awsLogs} logs)\n${aws.stdout}${aws.stderr}\nopentrail exit ${ours.code} (${ourLogs} logs)\n${ours.stdout}${ours.stderr}`,
      );
    }
    const digests = /^(\d+)\/\d+ digest files valid$/m.exec(ours.stdout)?.[1];
    process.stdout.write(
      `${files} log files, ${digests} digest files, all valid for both\n` +
        `aws cloudtrail validate-logs   ${(aws.ms / 1000).toFixed(2)} s\n` +
        `opentrail validate-logs        ${(ours.ms / 1000).toFixed(2)} s  (--concurrency ${values.concurrency})\n` +
        `ratio                          ${(aws.ms / ours.ms).toFixed(1)}x\n`,
    );
  } finally {
    await app.close();
  }
} finally {
  await moto.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(cliDir, { recursive: true, force: true });
}
