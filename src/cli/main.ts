#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, DEFAULT_PORT, loadConfig } from "../config/index.ts";
import { startOpenTrail } from "../main.ts";

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

await program.parseAsync(process.argv);
