#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig, processEnv, serveFlags } from "../config/index.ts";
import { ingestCommand } from "./ingest.ts";
import { validateLogsCommand } from "./validate-logs.ts";

/** `serve`'s flags, as the table of settings has them. */
function withServeFlags(command: Command): Command {
  for (const { flag, help, problem } of serveFlags()) {
    if (problem) {
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

program.addCommand(ingestCommand());
program.addCommand(validateLogsCommand());

await program.parseAsync(process.argv);
