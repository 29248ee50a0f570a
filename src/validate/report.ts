import { displayTime } from "./time.ts";

/**
 * The output of validate-logs, line for line as the AWS CLI v1 writes it (verdicts of valid files on
 * stdout with --verbose, failures on stderr between blank lines, then the summary), followed by the
 * counts of the checks the AWS CLI does not make.
 */

/** What a verdict adds to the summary. */
export const TALLIES = [
  "validDigest",
  "invalidDigest",
  "validLog",
  "invalidLog",
  /** A digest the AWS CLI cannot see is missing: it was deleted together with the one after it. */
  "missingDigestRun",
  /** A valid digest whose previousDigestHashValue or previousDigestSignature names other bytes. */
  "brokenLink",
  /** A log file in a period the digests cover that none of them lists. */
  "unlistedLog",
] as const;
export type Tally = (typeof TALLIES)[number];

export interface Verdict {
  line: string;
  /** Failures go to stderr and are always shown; other lines only with --verbose. */
  error: boolean;
  tally?: Tally;
}

export interface Writer {
  out(text: string): void;
  err(text: string): void;
}

export type Counts = Record<Tally, number>;

export function emptyCounts(): Counts {
  return Object.fromEntries(TALLIES.map((t) => [t, 0])) as Counts;
}

export class Report {
  readonly counts = emptyCounts();
  readonly #w: Writer;
  readonly #verbose: boolean;
  // the AWS CLI keeps errors between blank lines without doubling them
  #lastDoubleSpaced = true;

  constructor(writer: Writer, verbose: boolean) {
    this.#w = writer;
    this.#verbose = verbose;
  }

  startup(trailArn: string, start: Date, end: Date): void {
    this.#w.out(
      `Validating log files for trail ${trailArn} between ${displayTime(start)} and ${displayTime(end)}\n\n`,
    );
  }

  verdict(v: Verdict): void {
    if (v.tally) this.counts[v.tally]++;
    if (v.error) {
      this.#w.err(this.#lastDoubleSpaced ? `${v.line}\n\n` : `\n${v.line}\n\n`);
      this.#lastDoubleSpaced = true;
    } else if (this.#verbose) {
      this.#lastDoubleSpaced = false;
      this.#w.out(`${v.line}\n`);
    }
  }

  /** `found` is the span of the valid digests, clipped to the requested range; undefined if none. */
  summary(start: Date, end: Date, found: { start: Date; end: Date } | undefined): void {
    const c = this.counts;
    const w = this.#w;
    if (!this.#lastDoubleSpaced) w.out("\n");
    w.out(`Results requested for ${displayTime(start)} to ${displayTime(end)}\n`);
    if (c.validDigest + c.invalidDigest === 0) {
      w.out("No digests found\n");
      this.#extras();
      return;
    }
    if (!found) w.out("No valid digests found in range\n");
    else w.out(`Results found for ${displayTime(found.start)} to ${displayTime(found.end)}:\n`);
    this.#ratio(c.validDigest, c.invalidDigest, "digest");
    this.#ratio(c.validLog, c.invalidLog, "log");
    this.#extras();
    w.out("\n");
  }

  #ratio(valid: number, invalid: number, name: string): void {
    const total = valid + invalid;
    if (total === 0) return;
    this.#w.out(`\n${valid}/${total} ${name} files valid`);
    if (invalid > 0) this.#w.out(`, ${invalid}/${total} ${name} files INVALID`);
  }

  #extras(): void {
    const c = this.counts;
    const lines: string[] = [];
    if (c.missingDigestRun > 0) {
      lines.push(`${c.missingDigestRun} more digest files not found (deleted together with the next digest)`);
    }
    if (c.brokenLink > 0) {
      lines.push(
        `${c.brokenLink} digest files whose previousDigestHashValue or previousDigestSignature is wrong`,
      );
    }
    if (c.unlistedLog > 0) lines.push(`${c.unlistedLog} log files not listed in any digest`);
    for (const line of lines) this.#w.out(`\n${line}`);
  }

  /** Anything invalid, including what only the extra checks found. */
  get failed(): boolean {
    const c = this.counts;
    return c.invalidDigest + c.invalidLog + c.missingDigestRun + c.brokenLink + c.unlistedLog > 0;
  }
}
