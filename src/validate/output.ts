import type { Report, Verdict } from "./report.ts";

/** Verdicts computed ahead of the printer at most; bounds memory on digests listing many files. */
const MAX_AHEAD = 4096;

/**
 * Verdicts reach the report in the order they were emitted, the walk's order, though most are
 * promises still being computed (log files hashed meanwhile). The first failure of a verdict stops
 * the output; the walk hears of it at its next `backpressure()` and `finish()` throws it.
 */
export class OrderedOutput {
  readonly #report: Report;
  readonly #onPrinted: () => void;
  #queued = 0;
  #printed = 0;
  #logs = 0;
  #failure: unknown;
  #tail: Promise<void> = Promise.resolve();
  #wake: (() => void) | undefined;

  /** `onPrinted` runs after each emitted item has reached the report. */
  constructor(report: Report, onPrinted: () => void) {
    this.#report = report;
    this.#onPrinted = onPrinted;
  }

  /** Emitted items not printed yet. */
  get pending(): number {
    return this.#queued - this.#printed;
  }

  /** Log file verdicts printed. */
  get logs(): number {
    return this.#logs;
  }

  emit(verdicts: Verdict | Verdict[] | Promise<Verdict>): void {
    const ready = Promise.resolve(verdicts);
    ready.catch(() => {});
    this.#queued++;
    this.#tail = this.#tail
      .then(() => ready)
      .then((v) => {
        for (const one of Array.isArray(v) ? v : [v]) {
          if (one.tally === "validLog" || one.tally === "invalidLog") this.#logs++;
          this.#report.verdict(one);
        }
        this.#printed++;
        this.#onPrinted();
        this.#wake?.();
      });
    this.#tail.catch((e: unknown) => {
      this.#failure ??= e;
      this.#wake?.();
    });
  }

  /** Waits while too much is computed ahead of the printer; throws the output's failure. */
  async backpressure(): Promise<void> {
    while (this.pending > MAX_AHEAD && this.#failure === undefined) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Once everything emitted is printed; throws the output's failure. */
  async finish(): Promise<void> {
    await this.#tail;
    if (this.#failure !== undefined) throw this.#failure;
  }
}
