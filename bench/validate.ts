/**
 * `aws cloudtrail validate-logs` (AWS CLI v1) and `opentrail validate-logs` side by side on one set
 * of log files and their digests in one S3 server (s3rver by default, moto with `--s3 moto`),
 * written by the service itself on a stepped clock (one log file every few minutes, so about
 * twenty per hourly digest). Both must call everything valid in every round; the rounds alternate
 * the two tools, and the ratio is the median of the rounds' ratios. As extra lines, opentrail on a
 * copy of the same objects in the local store of `opentrail serve` (which the AWS CLI cannot read).
 *
 * `--s3-latency MS[,MS…]` puts a forwarder in front of the S3 server that holds every answer back
 * that long (S3 seen from a nearby host waits 10–30 ms per GET); each latency gets its own rounds,
 * on the same objects. The default measures 0 and 20 ms.
 *
 *   npm run bench:validate [-- --files N] [--concurrency N] [--rounds N] [--s3 s3rver|moto] [--s3-latency 0,20]
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { pino } from "pino";
import { LocalFsObjectStore } from "../src/adapters/localfs/object-store.ts";
import { s3Reader } from "../src/adapters/s3/reader.ts";
import { loadConfig } from "../src/config/index.ts";
import { startOpenTrail } from "../src/main.ts";
import { startS3rverProcess } from "../test/integrity/validate-s3rver.ts";
import { clockedClient } from "../test/support/clocked-client.ts";
import { createBucket, startMoto } from "../test/support/s3-servers.ts";
import { type LatencyProxy, startLatencyProxy } from "./support/latency-proxy.ts";
import { assertBuilt, CLI_PATH } from "./support/server-process.ts";

const run = promisify(execFile);
const MINUTE = 60_000;
const BUCKET = "ot-bench-validate";
const REGION = "us-east-1";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "48" },
    rounds: { type: "string", default: "3" },
    s3: { type: "string", default: "s3rver" },
    "s3-latency": { type: "string", default: "0,20" },
  },
});
const latencies = values["s3-latency"].split(",").map((v) => {
  const ms = Number(v);
  if (v.trim() === "" || !Number.isFinite(ms) || ms < 0)
    throw new Error(`--s3-latency: not a time in ms: ${v}`);
  return ms;
});
if (values.s3 !== "s3rver" && values.s3 !== "moto") throw new Error("--s3 is s3rver or moto");
const rounds = Number(values.rounds);
const files = Number(values.files);
const stepMs = 3 * MINUTE;

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
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
const s3 = values.s3 === "moto" ? await startMoto() : await startS3rverProcess();
const dataDir = mkdtempSync(join(tmpdir(), "opentrail-bench-validate-"));
const cliDir = mkdtempSync(join(tmpdir(), "opentrail-bench-cli-"));
try {
  await createBucket(s3, BUCKET);
  writeFileSync(join(cliDir, "config"), "[default]\ns3 =\n  addressing_style = path\n");
  writeFileSync(join(cliDir, "credentials"), "");
  // the whole history lies in the past, so that the validation range ends now
  const t0 = Math.floor((Date.now() - (files + 30) * stepMs) / 1000) * 1000;
  let t = t0;
  let real = false;
  const clock = { now: () => (real ? new Date() : new Date(t)) };
  const config = loadConfig({ flags: { port: 0, dataDir } });
  const app = await startOpenTrail(
    {
      ...config,
      // both validators sign their CloudTrail and S3 calls with one key: the S3 server's, accepted here too
      credentials: [
        ...config.credentials,
        {
          ...config.credentials[0]!,
          accessKeyId: s3.credentials.accessKeyId,
          secretAccessKey: s3.credentials.secretAccessKey,
        },
      ],
      deliveryIntervalMs: 3_600_000,
      s3: {
        endpoint: s3.endpoint,
        region: REGION,
        accessKeyId: s3.credentials.accessKeyId,
        secretAccessKey: s3.credentials.secretAccessKey,
        forcePathStyle: true,
      },
    },
    { clock, log: pino({ level: "silent" }) },
  );
  const api = () => clockedClient(app.url, clock);
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
      `set up ${files} log files and their digests in ${values.s3} in ${((performance.now() - setup) / 1000).toFixed(1)} s\n`,
    );

    const range = ["--trail-arn", trailArn, "--start-time", iso(t0 - MINUTE), "--end-time", iso(Date.now())];
    const keys = {
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
    };
    const awsRun = (s3Endpoint: string) =>
      timed("python3", ["-m", "awscli", "cloudtrail", "validate-logs", ...range, "--endpoint-url", app.url], {
        PATH: process.env.PATH,
        HOME: cliDir,
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        ...keys,
        AWS_DEFAULT_REGION: REGION,
        AWS_CONFIG_FILE: join(cliDir, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(cliDir, "credentials"),
      });
    const oursArgs = [CLI_PATH, "validate-logs", ...range, "--endpoint", app.url];
    const oursRun = (s3Endpoint: string) =>
      timed(process.execPath, [...oursArgs, "--concurrency", values.concurrency], {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_S3: s3Endpoint,
        ...keys,
        AWS_DEFAULT_REGION: REGION,
      });
    // the same objects under <data-dir>/buckets, metadata included, for the local store's figure
    const localDir = join(dataDir, "copy");
    mkdirSync(join(localDir, "buckets", BUCKET), { recursive: true });
    const copy = new LocalFsObjectStore(join(localDir, "buckets"));
    const reader = s3Reader({ ...s3, concurrency: 8, forcePathStyle: true });
    // one listing per folder: s3rver walks its directories in name order, so that a listing of the
    // whole bucket puts CloudTrail/ before CloudTrail-Digest/, against S3's order, and pages lose keys
    const account = trailArn.split(":")[4];
    let copied = 0;
    for (const folder of ["CloudTrail-Digest", "CloudTrail"]) {
      for await (const key of reader.listKeys(BUCKET, `AWSLogs/${account}/${folder}/`)) {
        const got = await reader.getObject(BUCKET, key);
        if (got) await copy.putObject(BUCKET, key, got.body, { metadata: got.metadata });
        copied++;
      }
    }
    await reader.close();
    await copy.close();
    process.stdout.write(`copied the ${copied} objects into a local store for the extra figure\n`);
    const localRun = () =>
      timed(process.execPath, [...oursArgs, "--data-dir", localDir, "--concurrency", values.concurrency], {
        PATH: process.env.PATH,
      });

    const check = (who: string, r: Timed) => {
      const n = logsValid(r.stdout);
      if (r.code !== 0 || n !== files) {
        throw new Error(
          `${who}: not all valid (exit ${r.code}, ${n} log files valid)\n${r.stdout}${r.stderr}`,
        );
      }
      if (r.stderr.trim() !== "") process.stdout.write(`${who} wrote on stderr:\n${r.stderr}`);
    };
    const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    let digests: string | undefined;
    const summary: string[] = [];
    process.stdout.write(
      `S3 server: ${values.s3} at ${s3.endpoint}; opentrail --concurrency ${values.concurrency}; load average ${load()}\n`,
    );
    for (const latency of latencies) {
      // no forwarder at 0 ms: the figure of the S3 server as it is
      const proxy: LatencyProxy | undefined =
        latency > 0 ? await startLatencyProxy(s3.endpoint, latency) : undefined;
      const endpoint = proxy?.endpoint ?? s3.endpoint;
      const ratios: number[] = [];
      const times = { aws: [] as number[], ours: [] as number[] };
      process.stdout.write(`S3 latency ${latency} ms${proxy ? ` (forwarder at ${endpoint})` : ""}\n`);
      try {
        for (let round = 1; round <= rounds; round++) {
          // the order alternates, so that neither tool always runs on a server the other one warmed
          const before = load();
          const first = round % 2 === 1 ? awsRun : oursRun;
          const second = round % 2 === 1 ? oursRun : awsRun;
          const a = await first(endpoint);
          const b = await second(endpoint);
          const [aws, ours] = round % 2 === 1 ? [a, b] : [b, a];
          check("aws cloudtrail validate-logs", aws);
          check("opentrail validate-logs", ours);
          // the local store has no latency to add: measured once per round, with the first latency only
          let extra = "";
          if (latency === latencies[0]) {
            const local = await localRun();
            check("opentrail validate-logs (local store)", local);
            extra = `  (opentrail on the local store: ${secs(local.ms)})`;
          }
          digests ??= /^(\d+)\/\d+ digest files valid$/m.exec(ours.stdout)?.[1];
          ratios.push(aws.ms / ours.ms);
          times.aws.push(aws.ms);
          times.ours.push(ours.ms);
          process.stdout.write(
            `  round ${round}: aws ${secs(aws.ms)}  opentrail ${secs(ours.ms)}  ratio ${(aws.ms / ours.ms).toFixed(1)}x${extra}` +
              `  load average ${before} -> ${load()}\n`,
          );
        }
      } finally {
        await proxy?.stop();
      }
      summary.push(
        `  S3 latency ${String(latency).padStart(3)} ms:  aws ${secs(median(times.aws))}  opentrail ${secs(median(times.ours))}` +
          `  ratio ${median(ratios).toFixed(1)}x`,
      );
    }
    process.stdout.write(
      `${files} log files, ${digests} digest files, all valid for both in every round\n` +
        `medians of ${rounds} rounds (time, and the rounds' ratios), both tools on ${values.s3}:\n` +
        `${summary.join("\n")}\nload average at the end ${load()}\n`,
    );
  } finally {
    await app.close();
  }
} finally {
  await s3.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(cliDir, { recursive: true, force: true });
}
