import { Command } from "commander";
import type { CopyProgress } from "../copy.ts";
import { bar, progressLine } from "./progress.ts";

interface CopyDataFlags {
  from: string;
  to: string;
}

function progressText(p: CopyProgress): string {
  return `${bar(p.total === 0 ? 1 : p.done / p.total)} ${p.step}: ${p.done}/${p.total}`;
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
      if (!/^postgres(ql)?:\/\//.test(flags.to)) {
        process.stderr.write("opentrail copy-data: --to must be a postgres:// URL\n");
        process.exitCode = 2;
        return;
      }
      const line = process.stderr.isTTY ? progressLine(process.stderr) : undefined;
      const { copyDataToPostgres } = await import("../copy.ts");
      try {
        const summary = await copyDataToPostgres({
          dataDir: flags.from,
          url: flags.to,
          onProgress: (p) => line?.update(progressText(p)),
        });
        line?.stop();
        const parts = Object.entries(summary).map(([table, n]) => `${n} ${table.replace(/_/g, " ")}`);
        process.stdout.write(`copied ${parts.join(", ")}\n`);
      } catch (e) {
        line?.stop();
        const message = e instanceof Error ? e.message : String(e);
        process.stderr.write(`opentrail copy-data: ${message}\n`);
        process.exitCode = 1;
      }
    });
}
