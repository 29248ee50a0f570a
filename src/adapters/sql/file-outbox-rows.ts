import type { FileConsumer, FileToSend, OutputStatus } from "../../ports/index.ts";

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

/** A file_outbox row as filesFor reads it (its trail's creation in ms; 0 where unknown). */
export interface FileRow {
  id: number;
  bucket: string;
  key: string;
  trail_created: number;
}

export function toFileToSend(r: FileRow): FileToSend {
  return {
    id: r.id,
    bucket: r.bucket,
    key: r.key,
    ...(r.trail_created ? { trailCreatedAt: new Date(r.trail_created) } : {}),
  };
}
