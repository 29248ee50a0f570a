import { topicKeyArn, topicKeyQuestions, topicQuestions } from "../domain/policy.ts";
import type { Trail } from "../domain/trail.ts";
import {
  AwsServiceError,
  type Clock,
  type FileToSend,
  type KeyService,
  type Notifications,
  type PolicyEvaluator,
} from "../ports/index.ts";
import { keyUse, POLICY_MAX_AGE_MS } from "./delivery-policy.ts";
import type { FileOutput } from "./file-outputs.ts";
import { readCache } from "./policy-cache.ts";

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

/** With policy checks aws: the topic policy as SNS applies it to CloudTrail's Publish. */
export interface TopicPolicyCheck {
  policies: PolicyEvaluator;
  clock: Clock;
  /** How long a topic policy read stays trusted while publishing succeeds. */
  maxAgeMs?: number;
  /** KMS, for topics encrypted with a key: SNS uses it with CloudTrail's permissions. */
  keys?: KeyService;
}

/**
 * SNS applies the topic policy to CloudTrail's principal, an SNS emulator does not apply it to
 * opentrail's credentials: a policy changed after CreateTrail so that CloudTrail may not publish
 * fails the notification with SNS's AuthorizationError (LatestNotificationError), and the files
 * wait until it allows again. Read at most every `maxAgeMs`, and again after any failure; a
 * policy that cannot be read, or a topic that is gone, is left to Publish to answer.
 */
function topicGate(sns: Notifications, check: TopicPolicyCheck) {
  const maxAgeMs = check.maxAgeMs ?? POLICY_MAX_AGE_MS;
  const topics = readCache(check.clock, maxAgeMs, (arn) => sns.topicPolicy(arn));
  const keys = check.keys?.configured ? check.keys : undefined;
  /** The key each encrypted topic was last seen with, so that a failure reads it again too. */
  const keyOfTopic = new Map<string, string>();
  const topicKeys = keys && readCache(check.clock, maxAgeMs, (arn) => keyUse(keys, arn, true));

  /**
   * The code SNS answers a Publish to a KMS-encrypted topic whose key CloudTrail cannot use:
   * KMSNotFound, KMSInvalidState (pending deletion), KMSDisabled, KMSAccessDenied (the key policy).
   */
  async function keyRefusal(trail: Trail, topicArn: string, keyId: string): Promise<string | undefined> {
    const keyArn = topicKeyArn(topicArn, keyId);
    keyOfTopic.set(topicArn, keyArn);
    const read = await topicKeys?.get(keyArn);
    if (read === undefined) return undefined;
    const use = read.value;
    if (use.kind === "missing") return "KMSNotFound";
    if (use.kind === "disabled") return use.state?.startsWith("Pending") ? "KMSInvalidState" : "KMSDisabled";
    const policy = use.policy;
    if (policy === undefined || policy.kind === "unknown" || policy.kind === "missing") return undefined;
    if (!read.verdicts.has(trail.arn)) {
      const refused =
        policy.kind === "none" ||
        (await check.policies.refused(policy.document, topicKeyQuestions(trail, use.arn))) !== undefined;
      read.verdicts.set(trail.arn, refused ? "KMSAccessDenied" : undefined);
    }
    return read.verdicts.get(trail.arn);
  }

  return {
    async refuse(trail: Trail, topicArn: string): Promise<void> {
      const read = await topics.get(topicArn);
      if (read === undefined) return;
      const answer = read.value;
      if (answer.kind !== "policy" && answer.kind !== "none") return;
      const name = trail.arn;
      if (!read.verdicts.has(name)) {
        const refused =
          answer.kind === "none" ||
          (await check.policies.refused(answer.document, topicQuestions(trail, topicArn))) !== undefined;
        read.verdicts.set(name, refused ? "AuthorizationError" : undefined);
      }
      if (read.verdicts.get(name) !== undefined) {
        throw new AwsServiceError(
          "AuthorizationError",
          `the policy of ${topicArn} does not let cloudtrail.amazonaws.com publish for ${trail.arn}`,
          false,
        );
      }
      const keyId = answer.kmsMasterKeyId;
      const code = keyId === undefined ? undefined : await keyRefusal(trail, topicArn, keyId);
      if (code !== undefined) {
        throw new AwsServiceError(
          code,
          `the KMS key ${keyId} of ${topicArn} cannot be used by cloudtrail.amazonaws.com for ${trail.arn}`,
          false,
        );
      }
    },
    forget: (topicArn: string) => {
      const keyArn = keyOfTopic.get(topicArn);
      if (keyArn !== undefined) topicKeys?.forget(keyArn);
      topics.forget(topicArn);
    },
  };
}

/**
 * SNS notifications: one Publish per run of waiting files of a lane, listing their keys in
 * delivery order, to the trail's current topic. A trail without a topic, or a deployment without
 * an SNS endpoint, gets none.
 */
export function snsOutput(sns: Notifications, check?: TopicPolicyCheck): FileOutput {
  const gate = check && topicGate(sns, check);
  return {
    consumer: "sns",
    batch: MAX_KEYS_PER_MESSAGE,
    what: "published notification",
    wants: (trail): trail is Trail => trail?.snsTopicArn !== undefined && sns.configured,
    async send(trail, _lane, files) {
      const batch = sameBucket(files);
      const topicArn = trail.snsTopicArn!;
      try {
        await gate?.refuse(trail, topicArn);
        await sns.publish(
          topicArn,
          notificationMessage(
            batch[0]!.bucket,
            batch.map((f) => f.key),
          ),
        );
      } catch (e) {
        gate?.forget(topicArn);
        throw e;
      }
      return batch[batch.length - 1]!.id;
    },
  };
}
