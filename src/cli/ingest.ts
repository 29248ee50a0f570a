import { Command } from "commander";
import type { IngestProgress, SkippedFile } from "../client/ingest.ts";
import { DEFAULT_PORT, ingestSigning } from "../config/index.ts";
import { bar, progressLine } from "./progress.ts";

interface IngestFlags {
  endpoint: string;
  region: string;
  batchSize: string;
}

/** What the skipped files were, counted by kind: one note, however many sidecars a copy holds. */
const SKIPPED_KINDS: Record<Exclude<SkippedFile["reason"], "not-a-log">, [string, string]> = {
  digest: ["digest file", " (CloudTrail-Digest)"],
  sidecar: [".metadata.json sidecar", ""],
  "not-json": ["file", " not named *.json or *.json.gz"],
};

const counted = (n: number, [noun, rest]: [string, string]) => `${n} ${noun}${n === 1 ? "" : "s"}${rest}`;

function progressText(p: IngestProgress): string {
  const fraction = p.files === 0 ? 1 : p.filesDone / p.files;
  return `${bar(fraction)} ${p.filesDone}/${p.files} files, ${p.records} records, ${p.stored} stored, ${p.duplicates} already there`;
}

/** `opentrail ingest`, for the program in main.ts. */
export function ingestCommand(): Command {
  return new Command("ingest")
    .description(
      "Replay CloudTrail log files (.json or .json.gz, files or directories) into a server; safe to rerun. Digest files and other files are passed over with a note.",
    )
    .argument("<paths...>", "log files or directories holding them (such as a copy of a CloudTrail bucket)")
    .option("--endpoint <url>", "server URL", `http://127.0.0.1:${DEFAULT_PORT}`)
    .option("--region <region>", "region to sign for (records without awsRegion get it)", "us-east-1")
    .option("--batch-size <n>", "records per request", "500")
    .action(async (paths: string[], flags: IngestFlags) => {
      const line = process.stderr.isTTY ? progressLine(process.stderr) : undefined;
      const note = (text: string) => {
        const write = (t: string) => process.stderr.write(t);
        if (line) line.write(write, text);
        else write(text);
      };
      const counts = new Map<string, number>();
      const { ingestClient } = await import("../client/ingest.ts");
      const client = ingestClient({
        endpoint: flags.endpoint,
        region: flags.region,
        ...ingestSigning(),
        batchSize: Number(flags.batchSize),
        onProgress: (p) => line?.update(progressText(p)),
      });
      try {
        const p = await client.ingestFiles(paths, (skipped) => {
          if (skipped.reason === "not-a-log") {
            note(
              `opentrail ingest: skipped ${skipped.path}: not a CloudTrail log file (${skipped.detail})\n`,
            );
          } else {
            counts.set(skipped.reason, (counts.get(skipped.reason) ?? 0) + 1);
          }
        });
        line?.stop();
        const kinds = Object.entries(SKIPPED_KINDS).flatMap(([reason, words]) => {
          const n = counts.get(reason) ?? 0;
          return n > 0 ? [counted(n, words)] : [];
        });
        if (kinds.length > 0) process.stderr.write(`opentrail ingest: skipped ${kinds.join(", ")}\n`);
        process.stdout.write(
          `ingested ${p.files} files: ${p.records} records, ${p.stored} stored, ${p.duplicates} already stored${p.skipped > 0 ? `; ${counted(p.skipped, ["other file", " skipped"])}` : ""}\n`,
        );
        if (p.warned > 0) {
          process.stderr.write(
            `opentrail ingest: ${counted(p.warned, ["record", " older than the 90 days of event history or dated ahead of the server's clock: stored, but not found by LookupEvents now"])}\n`,
          );
        }
        if (p.files === 0) {
          process.stderr.write(`opentrail ingest: no CloudTrail log files found under ${paths.join(" ")}\n`);
          process.exitCode = 1;
        }
      } catch (e) {
        line?.stop();
        process.stderr.write(`opentrail ingest: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      }
    });
}
