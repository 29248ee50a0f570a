import type { Trail } from "../domain/trail.ts";
import type { FileToSend, Notifications } from "../ports/index.ts";
import type { FileOutput } from "./file-outputs.ts";

/** At most this many keys in one message (notifications-and-integrations.md §1.2). */
export const MAX_KEYS_PER_MESSAGE = 100;

/** CloudTrail's Message: compact JSON, the bucket and the keys written. */
export function notificationMessage(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({ s3Bucket: bucket, s3ObjectKey: keys });
}

/** The first run of files that share a bucket (a trail may have moved between deliveries). */
function sameBucket(files: FileToSend[]): FileToSend[] {
  const bucket = files[0]?.bucket;
  const end = files.findIndex((f) => f.bucket !== bucket);
  return end === -1 ? files : files.slice(0, end);
}

/**
 * SNS notifications: one Publish per run of waiting files of a lane, listing their keys in
 * delivery order, to the trail's current topic. A trail without a topic, or a deployment without
 * an SNS endpoint, gets none.
 */
export function snsOutput(sns: Notifications): FileOutput {
  return {
    consumer: "sns",
    batch: MAX_KEYS_PER_MESSAGE,
    what: "published notification",
    wants: (trail): trail is Trail => trail?.snsTopicArn !== undefined && sns.configured,
    async send(trail, _lane, files) {
      const batch = sameBucket(files);
      await sns.publish(
        trail.snsTopicArn!,
        notificationMessage(
          batch[0]!.bucket,
          batch.map((f) => f.key),
        ),
      );
      return batch[batch.length - 1]!.id;
    },
  };
}
