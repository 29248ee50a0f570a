import type { Logger } from "pino";
import type { Trail } from "../domain/trail.ts";
import {
  AwsServiceError,
  type Clock,
  type FileToNotify,
  type NotificationOutbox,
  type Notifications,
} from "../ports/index.ts";
import { forcedPasses } from "./loop.ts";

export interface NotifyOptions {
  outbox: NotificationOutbox;
  sns: Notifications;
  /** Every trail, to find a lane's current topic. */
  listTrails: () => Promise<Trail[]>;
  clock: Clock;
  log: Logger;
  tickMs?: number;
}

/** At most this many keys in one message (notifications-and-integrations.md §1.2). */
export const MAX_KEYS_PER_MESSAGE = 100;
const MAX_BACKOFF_MS = 60_000;
const DEFAULT_TICK_MS = 1_000;

type Lane = { trailArn: string; region: string };
const laneKey = (l: Lane) => `${l.trailArn}/${l.region}`;

/** CloudTrail's Message: compact JSON, the bucket and the keys written. */
export function notificationMessage(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
}

/** The first run of files that share a bucket (a trail may have moved between deliveries). */
function sameBucket(files: FileToNotify[]): FileToNotify[] {
  const bucket = files[0]?.bucket;
  const end = files.findIndex((f) => f.bucket !== bucket);
  return end === -1 ? files : files.slice(0, end);
}

/**
 * Publishes an SNS notification for every delivered file, at least once: a file leaves the outbox
 * only after its Publish succeeded (a crash in between publishes it again). While SNS fails the
 * files wait in the outbox, the lane backs off and GetTrailStatus shows the error; delivery never
 * waits for this worker. Files of a trail without a topic (or with no SNS endpoint) are dropped.
 */
export function createNotifyWorker(opts: NotifyOptions) {
  const failures = new Map<string, { count: number; retryAt: number }>();

  async function notifyLane(lane: Lane, topicArn: string | undefined): Promise<void> {
    for (;;) {
      const files = await opts.outbox.filesToNotify(lane.trailArn, lane.region, MAX_KEYS_PER_MESSAGE);
      if (files.length === 0) return;
      if (topicArn === undefined || !opts.sns.configured) {
        await opts.outbox.notified(lane.trailArn, lane.region, files[files.length - 1]!.id);
        continue;
      }
      const batch = sameBucket(files);
      const now = opts.clock.now();
      try {
        await opts.sns.publish(
          topicArn,
          notificationMessage(
            batch[0]!.bucket,
            batch.map((f) => f.key),
          ),
        );
      } catch (e) {
        const code = e instanceof AwsServiceError ? e.code : "InternalError";
        await opts.outbox.notificationFailed(lane.trailArn, lane.region, now, code);
        const count = (failures.get(laneKey(lane))?.count ?? 0) + 1;
        failures.set(laneKey(lane), {
          count,
          retryAt: now.getTime() + Math.min(MAX_BACKOFF_MS, 500 * 2 ** count),
        });
        opts.log.warn(
          { trailArn: lane.trailArn, topicArn, code, files: batch.length },
          "notification failed; will retry",
        );
        return;
      }
      failures.delete(laneKey(lane));
      await opts.outbox.notified(lane.trailArn, lane.region, batch[batch.length - 1]!.id, now);
      opts.log.info({ trailArn: lane.trailArn, topicArn, files: batch.length }, "published notification");
    }
  }

  async function pass(force: boolean): Promise<void> {
    const lanes = await opts.outbox.notificationLanes();
    if (lanes.length === 0) return;
    const topics = new Map((await opts.listTrails()).map((t) => [t.arn, t.snsTopicArn]));
    const now = opts.clock.now().getTime();
    for (const lane of lanes) {
      const f = failures.get(laneKey(lane));
      if (!force && f !== undefined && f.retryAt > now) continue;
      await notifyLane(lane, topics.get(lane.trailArn));
    }
  }

  return forcedPasses(pass, opts.tickMs ?? DEFAULT_TICK_MS, opts.log, "notification pass");
}

export type NotifyWorker = ReturnType<typeof createNotifyWorker>;
