#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, DEFAULT_PORT, loadConfig } from "../config/index.ts";
import { validateLogsCommand } from "./validate-logs.ts";

function portArg(v: string): string {
  if (!/^\d+$/.test(v) || Number(v) > 65535)
    throw new InvalidArgumentError("must be a port number (0-65535)");
  return v;
}

const program = new Command()
  .name("opentrail")
  .description("CloudTrail you can run yourself: the AWS CloudTrail API on your own machine.")
  .showHelpAfterError();

program
  .command("serve")
  .description("Run the CloudTrail API server (SQLite and a local bucket directory by default).")
  .option("--host <host>", "address to listen on; beyond loopback, credentials must be configured", undefined)
  .option("--port <port>", `TCP port (0 picks a free one; default ${DEFAULT_PORT})`, portArg)
  .option("--data-dir <dir>", "where the database and the local buckets live (default ./.opentrail)")
  .option("--config <file>", "JSON configuration file: credentials, regions, s3, host, port, dataDir")
  .option("--s3-endpoint <url>", "deliver to this S3-compatible endpoint instead of <data-dir>/buckets")
  .option(
    "--delivery-interval <seconds>",
    "how long records wait before their log file is written (default 300, as AWS)",
  )
  .option("--digest-interval <seconds>", "length of a digest period, for tests (default 3600, as AWS)")
  .option(
    "--ingest-workers <n>",
    "threads that store POST /ingest batches beside the request thread (0: none; default 2, 1 on one core)",
  )
  .option(
    "--lookup-events-rate <n>",
    "LookupEvents requests per second per account and region, as AWS (2); default 0: no limit",
  )
  .option("--log-level <level>", "pino log level: fatal, error, warn, info, debug, trace")
  .action(async (flags) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig({ flags, env: process.env, cwd: process.cwd() });
    } catch (e) {
      if (e instanceof ConfigError) {
        process.stderr.write(`opentrail: ${e.message}\n`);
        process.exit(2);
      }
      throw e;
    }
    // loaded here: the whole service (SQLite, S3) is more than the other commands need
    const { startOpenTrail } = await import("../main.ts");
    const app = await startOpenTrail(config);
    process.stdout.write(`opentrail listening on ${app.url}\n`);
    const stop = (signal: string) => {
      process.stderr.write(`opentrail: ${signal}, shutting down\n`);
      app.close().then(
        () => process.exit(0),
        (e: unknown) => {
          process.stderr.write(`opentrail: shutdown failed: ${String(e)}\n`);
          process.exit(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });

program
  .command("ingest")
  .description(
    "Replay CloudTrail log files (.json or .json.gz, files or directories) into a server; safe to rerun.",
  )
  .argument("<paths...>", "log files or directories holding them (such as a copy of a CloudTrail bucket)")
  .option("--endpoint <url>", "server URL", `http://127.0.0.1:${DEFAULT_PORT}`)
  .option("--region <region>", "region to sign for (records without awsRegion get it)", "us-east-1")
  .option("--batch-size <n>", "records per request", "500")
  .action(async (paths: string[], flags: { endpoint: string; region: string; batchSize: string }) => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? "test";
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? "test";
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    const tty = process.stderr.isTTY;
    const { ingestClient } = await import("../client/ingest.ts");
    const client = ingestClient({
      endpoint: flags.endpoint,
      region: flags.region,
      credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
      batchSize: Number(flags.batchSize),
      onProgress: (p) => {
        if (!tty) return;
        const width = 30;
        const done = p.files === 0 ? width : Math.round((p.filesDone / p.files) * width);
        process.stderr.write(
          `\r[${"#".repeat(done)}${".".repeat(width - done)}] ${p.filesDone}/${p.files} files, ${p.records} records, ${p.stored} stored, ${p.duplicates} already there`,
        );
      },
    });
    try {
      const p = await client.ingestFiles(paths);
      if (tty) process.stderr.write("\n");
      process.stdout.write(
        `ingested ${p.files} files: ${p.records} records, ${p.stored} stored, ${p.duplicates} already stored\n`,
      );
    } catch (e) {
      if (tty) process.stderr.write("\n");
      process.stderr.write(`opentrail ingest: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    }
  });

program.addCommand(validateLogsCommand());

await program.parseAsync(process.argv);
