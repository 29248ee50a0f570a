#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig, processEnv, quietSdkNodeNotice, serveFlags } from "../config/index.ts";
import { copyDataCommand } from "./copy-data.ts";
import { ingestCommand } from "./ingest.ts";
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

/** Why the server did not start, in one line: the usual causes by name, anything else by its message. */
function startFailure(e: unknown, config: { host: string; port: number }): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    return `port ${config.port} on ${config.host} is already in use (another opentrail, or another program); choose another with --port`;
  }
  if (code === "EACCES" && (e as { syscall?: string }).syscall === "listen") {
    return `not allowed to listen on port ${config.port} of ${config.host}; choose a port above 1023 with --port`;
  }
  if (code === "EADDRNOTAVAIL") return `${config.host} is not an address of this machine (--host)`;
  return `could not start: ${e instanceof Error ? e.message : String(e)}`;
}

const { version } = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

// before any SDK client is made, by any command or by the server
quietSdkNodeNotice();

const program = new Command()
  .name("opentrail")
  .version(version, "-V, --version", "print the version of opentrail")
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
  const { createLogger } = await import("../logging.ts");
  // logs on stdout: JSON lines, or readable ones on a terminal; the start line goes to stderr,
  // whatever the log level, so stdout holds nothing but the log
  const log = createLogger({ level: config.logLevel, fd: 1, pretty: process.stdout.isTTY === true });
  let app: Awaited<ReturnType<typeof startOpenTrail>>;
  try {
    app = await startOpenTrail(config, { log });
  } catch (e) {
    process.stderr.write(`opentrail: ${startFailure(e, config)}\n`);
    process.exit(1);
  }
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
  // only now: a signal sent as soon as the line is seen finds its handler in place
  process.stderr.write(`opentrail listening on ${app.url}\n`);
});

program.addCommand(ingestCommand());
program.addCommand(validateLogsCommand());
program.addCommand(copyDataCommand());

await program.parseAsync(process.argv);
