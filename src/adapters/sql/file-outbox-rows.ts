import type { FileConsumer, OutputStatus } from "../../ports/index.ts";

/** Every output a delivered file waits for, one file_outbox row each. */
export const FILE_CONSUMERS: readonly FileConsumer[] = ["sns", "logs", "events"];

/** An output_status row as both SQL backends keep it (times in ms). */
export interface OutputStatusRow {
  latest_success: number | null;
  latest_error: string | null;
  latest_attempt: number | null;
}

export function toOutputStatus(r: OutputStatusRow | undefined): OutputStatus {
  if (!r) return {};
  return {
    ...(r.latest_success === null ? {} : { latestTime: new Date(r.latest_success) }),
    ...(r.latest_error === null ? {} : { latestError: r.latest_error }),
    ...(r.latest_attempt === null ? {} : { latestAttemptTime: new Date(r.latest_attempt) }),
  };
}
