import { Command } from "commander";
import type { CopyProgress } from "../copy.ts";
import { bar, progressLine } from "./progress.ts";

export interface CopyDataFlags {
  from: string;
  to: string;
}

export interface CopyDataIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Least time between two redraws of the progress line (default 100 ms). */
  progressEveryMs?: number;
}

function progressText(p: CopyProgress): string {
  return `${bar(p.total === 0 ? 1 : p.done / p.total)} ${p.step}: ${p.done}/${p.total}`;
}

/** The copy, with what it prints; the exit status (0 copied, 1 refused or failed, 2 bad flags). */
export async function runCopyData(flags: CopyDataFlags, io: CopyDataIo): Promise<0 | 1 | 2> {
  if (!/^postgres(ql)?:\/\//.test(flags.to)) {
    io.stderr.write("opentrail copy-data: --to must be a postgres:// URL\n");
    return 2;
  }
  const line = io.stderr.isTTY ? progressLine(io.stderr, io.progressEveryMs) : undefined;
  const { copyDataToPostgres } = await import("../copy.ts");
  try {
    const summary = await copyDataToPostgres({
      dataDir: flags.from,
      url: flags.to,
      onProgress: (p) => line?.update(progressText(p)),
    });
    line?.stop();
    const parts = Object.entries(summary).map(([table, n]) => `${n} ${table.replace(/_/g, " ")}`);
    io.stdout.write(`copied ${parts.join(", ")}\n`);
    return 0;
  } catch (e) {
    line?.stop();
    io.stderr.write(`opentrail copy-data: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

/** `opentrail copy-data`, for the program in main.ts. */
export function copyDataCommand(): Command {
  return new Command("copy-data")
    .description(
      "Copy a SQLite data directory (trails, records, outbox, pending and delivered files, signing keys, digest chains) into an empty PostgreSQL database; stop the server first.",
    )
    .requiredOption("--from <dir>", "data directory of `opentrail serve` (the one with opentrail.db)")
    .requiredOption("--to <url>", "postgres://user:password@host:port/database, empty")
    .action(async (flags: CopyDataFlags) => {
      process.exitCode = await runCopyData(flags, { stdout: process.stdout, stderr: process.stderr });
    });
}
