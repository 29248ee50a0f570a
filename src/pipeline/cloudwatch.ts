import { logStreamName, type Trail } from "../domain/trail.ts";
import type { Clock, CloudWatchLogs, LogEvent, ObjectStore } from "../ports/index.ts";
import { type FileOutput, readRecords } from "./file-outputs.ts";

/** PutLogEvents' limits (CloudWatch Logs API reference): events and bytes per call, 26 bytes of overhead each. */
export const MAX_EVENTS_PER_PUT = 10_000;
export const MAX_BYTES_PER_PUT = 1_048_576;
const EVENT_OVERHEAD = 26;
/** Events over 256 KB are not sent to CloudWatch Logs (CloudTrail User Guide, "Limitation"). */
export const MAX_EVENT_BYTES = 256 * 1024;

/** Splits the messages into PutLogEvents calls, in order, all stamped `timestamp`; oversize events are left out. */
export function logEventBatches(messages: readonly string[], timestamp: number): LogEvent[][] {
  const batches: LogEvent[][] = [];
  let current: LogEvent[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message, "utf8");
    if (size > MAX_EVENT_BYTES) continue;
    if (current.length === MAX_EVENTS_PER_PUT || bytes + size + EVENT_OVERHEAD > MAX_BYTES_PER_PUT) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ timestamp, message });
    bytes += size + EVENT_OVERHEAD;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * CloudWatch Logs: each record of each delivered file becomes one log event in the trail's log
 * group, stream `<account>_CloudTrail_<home region>`, in eventTime order, stamped with the time
 * it is sent (the delivery time, as the console shows it). The file is read back from the bucket,
 * so the log group holds exactly what the bucket holds. A crash between two puts of one file
 * sends that file's events again (at least once).
 */
export function cloudWatchOutput(logs: CloudWatchLogs, objects: ObjectStore, clock: Clock): FileOutput {
  return {
    consumer: "logs",
    batch: 1,
    what: "sent log file to CloudWatch Logs",
    wants: (trail): trail is Trail => trail?.cloudWatchLogsLogGroupArn !== undefined && logs.configured,
    async send(trail, _lane, files) {
      const file = files[0]!;
      const messages = (await readRecords(objects, file)).map((r) => JSON.stringify(r));
      const stream = logStreamName(trail);
      for (const events of logEventBatches(messages, clock.now().getTime())) {
        await logs.putLogEvents(trail.cloudWatchLogsLogGroupArn!, stream, events);
      }
      return file.id;
    },
  };
}
