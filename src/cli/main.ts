#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import {
  ConfigError,
  DEFAULT_PORT,
  loadConfig,
  processEnv,
  serveFlags,
  signingCredentials,
} from "../config/index.ts";
import { validateLogsCommand } from "./validate-logs.ts";

/** `serve`'s flags, as the table of settings has them. */
function withServeFlags(command: Command): Command {
  for (const { flag, help, problem, repeatable } of serveFlags()) {
    if (repeatable) {
      // the setting reads its repeats as one comma-separated text, as from the environment
      command.option(flag, help, (text: string, before: string | undefined) =>
        before === undefined ? text : `${before},${text}`,
      );
    } else if (problem) {
      command.option(flag, help, (text: string) => {
        const why = problem(text);
        if (why) throw new InvalidArgumentError(why);
        return text;
      });
    } else {
      command.option(flag, help);
    }
  }
  return command;
}

const program = new Command()
  .name("opentrail")
  .description("CloudTrail you can run yourself: the AWS CloudTrail API on your own machine.")
  .showHelpAfterError();

withServeFlags(
  program
    .command("serve")
    .description("Run the CloudTrail API server (SQLite and a local bucket directory by default)."),
).action(async (flags) => {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ flags, env: processEnv(), cwd: process.cwd() });
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
    const tty = process.stderr.isTTY;
    const { ingestClient } = await import("../client/ingest.ts");
    const client = ingestClient({
      endpoint: flags.endpoint,
      region: flags.region,
      credentials: signingCredentials(),
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
