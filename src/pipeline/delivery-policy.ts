import { deliveryQuestions } from "../domain/policy.ts";
import type { Destination, ObjectStore, PolicyAnswer, PolicyEvaluator } from "../ports/index.ts";

/** Why a log file may not be put (an S3 error code), asked before each put; undefined: put it. */
export type PutGate = (destination: Destination, key: string) => Promise<string | undefined>;

/**
 * The bucket policy as AWS applies it to CloudTrail's own puts (policy-checks.md §6): read before
 * each log file is put and evaluated for the service principal's PutObject with its ACL. A policy
 * removed or changed since CreateTrail refuses the put with AccessDenied, so the file waits
 * (LatestDeliveryError) until the policy lets CloudTrail write again. S3-compatible servers do
 * not apply a policy to opentrail's credentials as AWS does to CloudTrail's principal, hence the
 * check here. A policy that cannot be read (no such bucket, an endpoint without policies, the
 * network) leaves the answer to the put itself.
 */
export function bucketPolicyGate(objects: ObjectStore, policies: PolicyEvaluator): PutGate | undefined {
  const read = objects.bucketPolicy?.bind(objects);
  if (read === undefined) return undefined;
  return async (destination, key) => {
    let answer: PolicyAnswer;
    try {
      answer = await read(destination.bucket);
    } catch {
      return undefined;
    }
    if (answer.kind === "none") return "AccessDenied";
    if (answer.kind !== "policy") return undefined;
    const trail = {
      arn: destination.trailArn,
      accountId: destination.accountId,
      s3BucketName: destination.bucket,
      ...(destination.prefix ? { s3KeyPrefix: destination.prefix } : {}),
    };
    return (await policies.refused(answer.document, deliveryQuestions(trail, key)))
      ? "AccessDenied"
      : undefined;
  };
}
