import type { RequestContext } from "../api/context.ts";
import { fail } from "../api/errors.ts";
import {
  cloudWatchLogsDeliveryUnavailable,
  cloudWatchLogsRoleDenied,
  insufficientEncryptionPolicy,
  insufficientS3BucketPolicy,
  insufficientSnsTopicPolicy,
  invalidCloudWatchLogsGroupArn,
  invalidHomeRegion,
  kmsKeyNotFound,
  kmsKeyUnusable,
  s3BucketDoesNotExist,
  trailNotFound,
} from "../api/messages.ts";
import { parseTrailRef, trailArn } from "../domain/names.ts";
import {
  bucketQuestions,
  keyQuestions,
  logRoleQuestions,
  type PolicyQuestion,
  type PolicyTrail,
  roleTrustQuestions,
  topicKeyArn,
  topicKeyQuestions,
  topicQuestions,
} from "../domain/policy.ts";
import { type Trail, visibleIn } from "../domain/trail.ts";
import type {
  KeyDescription,
  KeyService,
  PolicyAnswer,
  PolicyEvaluator,
  RoleAnswer,
  TopicAnswer,
} from "../ports/index.ts";
import type { ServiceDeps } from "./types.ts";

/** Reads may see a shadow of a multi-Region trail; writes must come from the home region. */
export type Access = "read" | "write";

/**
 * How TrailNotFoundException names a trail asked for by a bare name: most operations turn the name
 * into an ARN of the current region, GetTrail repeats the name as given (errors.md).
 */
export type UnknownNameShown = "as-arn" | "as-given";

/**
 * Resolves a Name/TrailName argument (a name or an ARN) as AWS does: a bare name only finds trails
 * homed in the current region; an ARN also finds the shadow of a multi-Region trail.
 */
export async function resolveTrail(
  deps: ServiceDeps,
  ctx: RequestContext,
  value: string | undefined,
  access: Access,
  unknownName: UnknownNameShown = "as-arn",
): Promise<Trail> {
  const ref = parseTrailRef(value);
  if (ref.kind === "name") {
    const trail = await deps.trails.get(ctx.accountId, ctx.region, ref.name);
    if (trail) return trail;
    const shown = unknownName === "as-given" ? ref.name : trailArn(ctx.region, ctx.accountId, ref.name);
    throw trailNotFound(shown, ctx.accountId);
  }
  if (ref.accountId !== ctx.accountId) throw trailNotFound(ref.arn, ctx.accountId);
  const trail = await deps.trails.get(ctx.accountId, ref.region, ref.name);
  if (!trail || trail.arn !== ref.arn) throw trailNotFound(ref.arn, ctx.accountId);
  if (trail.homeRegion !== ctx.region) {
    if (access === "write") throw invalidHomeRegion(trail.homeRegion);
    if (!visibleIn(trail, ctx.region)) throw trailNotFound(ref.arn, ctx.accountId);
  }
  return trail;
}

/** Trails visible in the current region: home trails first, then shadows, each by name. */
export async function visibleTrails(
  deps: ServiceDeps,
  ctx: RequestContext,
  includeShadows: boolean,
): Promise<Trail[]> {
  const all = await deps.trails.list(ctx.accountId);
  const byName = (a: Trail, b: Trail) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const home = all.filter((t) => t.homeRegion === ctx.region).sort(byName);
  const shadows = includeShadows
    ? all.filter((t) => t.homeRegion !== ctx.region && t.isMultiRegionTrail).sort(byName)
    : [];
  return [...home, ...shadows];
}

/** Saves a changed trail, bumping its version (a concurrent writer gets ConflictException). */
export async function saveTrail(deps: ServiceDeps, trail: Trail): Promise<Trail> {
  const next = { ...trail, version: trail.version + 1 };
  await deps.trails.update(next);
  return next;
}

/**
 * CreateTrail, UpdateTrail and PutInsightSelectors check the destination bucket as AWS does: it
 * exists and, with policy checks on and a store that has policies, its policy lets CloudTrail
 * write this trail's files (policy-checks.md §2, §7).
 */
export async function checkBucket(deps: ServiceDeps, ctx: RequestContext, trail: PolicyTrail): Promise<void> {
  const bucket = trail.s3BucketName;
  const probe = await deps.objects.probeBucket(bucket);
  if (probe === "missing") throw s3BucketDoesNotExist(bucket);
  if (probe === "denied") throw insufficientS3BucketPolicy(bucket);
  if (probe === "unreachable") throw storeUnreachable(bucket);
  await checkBucketPolicy(deps, ctx, trail);
}

/** The policy half of checkBucket, alone for a new prefix in the same bucket (its grant may lack it). */
export async function checkBucketPolicy(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: PolicyTrail,
): Promise<void> {
  const bucket = trail.s3BucketName;
  const objects = deps.objects;
  if (deps.policyChecks !== "aws" || !objects.bucketPolicy || !deps.policies) return;
  const answer: PolicyAnswer = await readOrUnavailable(
    ctx,
    () => objects.bucketPolicy!(bucket),
    { bucket },
    "the bucket policy could not be read",
    () => storeUnreachable(bucket),
  );
  if (answer.kind === "missing") throw s3BucketDoesNotExist(bucket);
  if (answer.kind === "none") throw insufficientS3BucketPolicy(bucket);
  if (answer.kind === "unknown") {
    ctx.log.warn({ bucket, reason: answer.reason }, "the store cannot show bucket policies: check skipped");
    return;
  }
  const refused = await deps.policies.refused(answer.document, bucketQuestions(trail));
  if (refused) {
    ctx.log.info(
      { bucket, action: refused.action, resource: refused.resource },
      "bucket policy refuses CloudTrail",
    );
    throw insufficientS3BucketPolicy(bucket);
  }
}

function storeUnreachable(bucket: string) {
  return unavailable(`The object store holding bucket ${bucket} cannot be reached; try again later.`);
}

function unavailable(message: string) {
  return fail("ServiceUnavailable", message);
}

/**
 * A read of another service that CreateTrail or UpdateTrail needs: when it fails, the failure is
 * logged with `fields` and the call is refused with `refusal` (ServiceUnavailable), to be retried.
 */
async function readOrUnavailable<T>(
  ctx: RequestContext,
  read: () => Promise<T>,
  fields: Record<string, string>,
  what: string,
  refusal: () => Error,
): Promise<T> {
  try {
    return await read();
  } catch (e) {
    ctx.log.warn({ ...fields, err: e }, what);
    throw refusal();
  }
}

/**
 * The SNS topic exists and, with policy checks on, lets CloudTrail publish (policy-checks.md §3).
 * Without an SNS endpoint nothing can be asked: the topic is accepted and nothing is published.
 */
export async function checkTopic(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  topicArn: string,
): Promise<void> {
  if (!deps.notifications?.configured) {
    ctx.log.warn(
      { topicArn },
      "no SNS endpoint configured: the topic is not checked and nothing is published",
    );
    return;
  }
  const notifications = deps.notifications;
  const answer: TopicAnswer = await readOrUnavailable(
    ctx,
    () => notifications.topicPolicy(topicArn),
    { topicArn },
    "the topic policy could not be read",
    () => unavailable(`The SNS endpoint holding topic ${topicArn} cannot be reached; try again later.`),
  );
  if (answer.kind === "missing") throw insufficientSnsTopicPolicy();
  if (deps.policyChecks !== "aws" || !deps.policies) return;
  if (answer.kind === "none") throw insufficientSnsTopicPolicy();
  if (answer.kind === "unknown") {
    ctx.log.warn({ topicArn, reason: answer.reason }, "the topic policy cannot be read: check skipped");
    return;
  }
  if (await deps.policies.refused(answer.document, topicQuestions(trail, topicArn))) {
    throw insufficientSnsTopicPolicy();
  }
  if (answer.kmsMasterKeyId !== undefined) {
    await checkTopicKey(deps, ctx, trail, topicArn, answer.kmsMasterKeyId);
  }
}

/**
 * A KMS-encrypted topic (policy-checks.md §3): with a KMS endpoint, its key must exist, be
 * enabled and let CloudTrail make and decrypt data keys, or CloudTrail could never publish. Which
 * exception AWS gives is not documented: the topic's own (InsufficientSnsTopicPolicyException),
 * KmsKeyNotFoundException for a key that does not exist (as for a trail's key).
 */
async function checkTopicKey(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: Pick<PolicyTrail, "arn" | "accountId">,
  topicArn: string,
  keyId: string,
): Promise<void> {
  if (!deps.kmsKeys?.configured || !deps.policies) {
    ctx.log.warn({ topicArn, keyId }, "no KMS endpoint configured: the topic's key is not checked");
    return;
  }
  const key = await describedKey(deps.kmsKeys, ctx, topicKeyArn(topicArn, keyId));
  if (!key.enabled) throw insufficientSnsTopicPolicy();
  if (await keyPolicyRefuses(deps.kmsKeys, deps.policies, ctx, key.arn, topicKeyQuestions(trail, key.arn))) {
    throw insufficientSnsTopicPolicy();
  }
}

/** The key `keyId` names (id, ARN, alias); KmsException when KMS cannot answer, KmsKeyNotFoundException when there is none. */
async function describedKey(kms: KeyService, ctx: RequestContext, keyId: string): Promise<KeyDescription> {
  let key: KeyDescription | undefined;
  try {
    key = await kms.describeKey(keyId);
  } catch (e) {
    ctx.log.warn({ keyId, err: e }, "the KMS key could not be described");
    throw fail("KmsException", `KMS cannot describe key ${keyId}.`);
  }
  if (!key) throw kmsKeyNotFound(keyId);
  return key;
}

/** Does the key's policy refuse CloudTrail one of `questions`? A policy KMS will not show is not judged (logged). */
async function keyPolicyRefuses(
  kms: KeyService,
  policies: PolicyEvaluator,
  ctx: RequestContext,
  keyArn: string,
  questions: PolicyQuestion[],
): Promise<boolean> {
  const answer = await kms.keyPolicy(keyArn);
  if (answer.kind === "unknown") {
    ctx.log.warn({ keyArn, reason: answer.reason }, "the key policy cannot be read: check skipped");
    return false;
  }
  return answer.kind !== "policy" || (await policies.refused(answer.document, questions)) !== undefined;
}

/**
 * The log group exists in the trail's account and home region (policy-checks.md §5, §7): without a
 * CloudWatch Logs endpoint nothing could be delivered, so the setting is refused rather than kept
 * silently. Then the role, as CloudTrail assumes it (checkLogRole).
 */
export async function checkLogGroup(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: { arn: string; accountId: string; homeRegion: string },
  groupArn: string,
  roleArn: string,
): Promise<void> {
  if (!deps.logs?.configured) {
    throw cloudWatchLogsDeliveryUnavailable(
      "no CloudWatch Logs endpoint is configured: set --upstream logs=URL",
    );
  }
  const [, , , region, account] = groupArn.split(":");
  if (region !== trail.homeRegion || account !== trail.accountId) throw invalidCloudWatchLogsGroupArn();
  const logs = deps.logs;
  const exists = await readOrUnavailable(
    ctx,
    () => logs.logGroupExists(groupArn),
    { groupArn },
    "the log group could not be looked up",
    () => unavailable("The CloudWatch Logs endpoint cannot be reached; try again later."),
  );
  if (!exists) throw invalidCloudWatchLogsGroupArn();
  await checkLogRole(deps, ctx, trail, groupArn, roleArn);
}

/**
 * With policy checks aws and an IAM endpoint, the role must exist, trust CloudTrail to assume it
 * and let it create the trail's stream and put events there (notifications-and-integrations.md
 * §2.1); else AWS's "Access denied". Without IAM the role is recorded, not checked.
 */
async function checkLogRole(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: { arn: string; accountId: string; homeRegion: string },
  groupArn: string,
  roleArn: string,
): Promise<void> {
  if (deps.policyChecks !== "aws" || !deps.policies || !deps.roles?.configured) {
    ctx.log.warn(
      { roleArn },
      deps.policyChecks === "aws"
        ? "no IAM endpoint configured: the CloudWatch Logs role is not checked"
        : "policy checks are off: the CloudWatch Logs role is not checked",
    );
    return;
  }
  const roles = deps.roles;
  const role: RoleAnswer = await readOrUnavailable(
    ctx,
    () => roles.role(roleArn),
    { roleArn },
    "the CloudWatch Logs role could not be read",
    () => unavailable("The IAM endpoint cannot be reached; try again later."),
  );
  if (role.kind === "unknown") {
    ctx.log.warn({ roleArn, reason: role.reason }, "the role cannot be read: check skipped");
    return;
  }
  const refused =
    role.kind === "missing"
      ? { action: "iam:GetRole", resource: roleArn }
      : ((await deps.policies.refused(role.trustPolicy, roleTrustQuestions(trail, roleArn))) ??
        (await deps.policies.refusedTo(role.arn, role.identity, logRoleQuestions(trail, groupArn))));
  if (refused) {
    ctx.log.info(
      { roleArn, action: refused.action, resource: refused.resource },
      "CloudTrail cannot write to the log group with this role",
    );
    throw cloudWatchLogsRoleDenied();
  }
}

/**
 * With a KMS endpoint, the key must exist and be enabled, and (policy checks aws) its policy must
 * let CloudTrail describe it and make data keys for this trail; the answer is the key's ARN, as
 * AWS echoes KmsKeyId (an alias reads back as its key). Without an endpoint the syntax-checked
 * value stays (policy-checks.md §7.3).
 */
export async function resolveKey(
  deps: ServiceDeps,
  ctx: RequestContext,
  trail: Pick<PolicyTrail, "arn" | "accountId" | "s3BucketName">,
  keyId: string,
): Promise<string> {
  if (!deps.kmsKeys?.configured) return keyId;
  const key = await describedKey(deps.kmsKeys, ctx, keyId);
  if (!key.enabled) throw kmsKeyUnusable(key.arn);
  if (deps.policyChecks !== "aws" || !deps.policies) return key.arn;
  if (await keyPolicyRefuses(deps.kmsKeys, deps.policies, ctx, key.arn, keyQuestions(trail, key.arn))) {
    throw insufficientEncryptionPolicy(trail.s3BucketName, key.arn);
  }
  return key.arn;
}
