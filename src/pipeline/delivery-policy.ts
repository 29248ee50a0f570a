import { deliveryQuestions, keyQuestions, type PolicyTrail } from "../domain/policy.ts";
import type {
  Clock,
  Destination,
  KeyDescription,
  KeyService,
  ObjectStore,
  PolicyAnswer,
  PolicyEvaluator,
} from "../ports/index.ts";
import { type Cached, readCache } from "./policy-cache.ts";

/** Asked before each log file is put: why it may not be (an S3 error code); undefined: put it. */
export interface PutGate {
  refusal(destination: Destination, key: string): Promise<string | undefined>;
  /** The put was refused or failed: read the destination's policy and key again at the next try. */
  forget(destination: Destination): void;
}

export interface PutGateOptions {
  objects: ObjectStore;
  /** KMS, for trails with a KmsKeyId; a key that cannot be used stops delivery in both modes. */
  keys?: KeyService;
  /** Only with policy checks aws: the bucket policy and the key policy are evaluated. */
  policies?: PolicyEvaluator;
  clock: Clock;
  /** How long a policy or key read stays trusted while puts succeed. */
  maxAgeMs?: number;
}

/**
 * A change seen within a minute: a policy broken after CreateTrail fails the next put after that
 * (AWS's own policy changes take effect after a delay too), and a refusal re-reads at each retry,
 * so delivery resumes at the first retry after the policy is fixed.
 */
export const POLICY_MAX_AGE_MS = 60_000;

const trailOf = (d: Destination): PolicyTrail => ({
  arn: d.trailArn,
  accountId: d.accountId,
  s3BucketName: d.bucket,
  ...(d.prefix ? { s3KeyPrefix: d.prefix } : {}),
});

/** A key's folder: files of one folder (trail, region, day) share the policy's answer. */
const folderOf = (key: string) => key.slice(0, key.lastIndexOf("/") + 1);

/**
 * What AWS applies to CloudTrail's own puts and an S3-compatible server does not apply to
 * opentrail's (policy-checks.md §6): the bucket policy, evaluated for the service principal's
 * PutObject with its ACL, and the trail's KMS key, which must be enabled and (policy checks aws)
 * let CloudTrail make data keys for the trail. A refusal fails the put with the code S3 gives
 * CloudTrail's SSE-KMS put — AccessDenied for a policy, KMS.DisabledException for a disabled key,
 * KMS.KMSInvalidStateException for one pending deletion, KMS.NotFoundException for a deleted one
 * (the CloudTrail value is undocumented) — so the file waits (LatestDeliveryError). A policy or
 * key that cannot be read (endpoint down, an endpoint without policies) leaves the answer to the
 * put itself. Reads are cached for `maxAgeMs`, and the evaluation (about a millisecond of CPU
 * with iam-simulate) once per policy read and key folder: the hot path asks nothing remote.
 * Undefined when nothing would be checked (the local directory has no policies, no KMS).
 */
export function deliveryGate(opts: PutGateOptions): PutGate | undefined {
  const maxAgeMs = opts.maxAgeMs ?? POLICY_MAX_AGE_MS;
  const readPolicy = opts.policies ? opts.objects.bucketPolicy?.bind(opts.objects) : undefined;
  const keys = opts.keys?.configured ? opts.keys : undefined;
  if (readPolicy === undefined && keys === undefined) return undefined;
  const bucketPolicies = readPolicy && readCache(opts.clock, maxAgeMs, readPolicy);
  const keyStates = keys && readCache(opts.clock, maxAgeMs, (arn) => keyState(keys, opts.policies, arn));

  async function bucketRefusal(d: Destination, key: string): Promise<string | undefined> {
    if (!bucketPolicies || !opts.policies) return undefined;
    const read = await bucketPolicies.get(d.bucket);
    if (read === undefined) return undefined;
    const answer: PolicyAnswer = read.value;
    if (answer.kind === "none") return "AccessDenied";
    if (answer.kind !== "policy") return undefined;
    const policies = opts.policies;
    return verdict(read, `${d.trailArn}\n${folderOf(key)}`, async () =>
      (await policies.refused(answer.document, deliveryQuestions(trailOf(d), key)))
        ? "AccessDenied"
        : undefined,
    );
  }

  async function keyRefusal(d: Destination): Promise<string | undefined> {
    if (!keyStates || d.kmsKeyId === undefined) return undefined;
    const read = await keyStates.get(d.kmsKeyId);
    if (read === undefined) return undefined;
    const state = read.value;
    if (state.kind !== "usable") return state.code;
    const policies = opts.policies;
    if (!policies || state.policy === undefined) return undefined;
    const document = state.policy;
    return verdict(read, d.trailArn, async () =>
      (await policies.refused(document, keyQuestions(trailOf(d), state.arn))) ? "AccessDenied" : undefined,
    );
  }

  return {
    async refusal(d, key) {
      return (await bucketRefusal(d, key)) ?? (await keyRefusal(d));
    },
    forget(d) {
      bucketPolicies?.forget(d.bucket);
      if (d.kmsKeyId !== undefined) keyStates?.forget(d.kmsKeyId);
    },
  };
}

/** A key as delivery needs it: usable (with its policy, when evaluated), or the S3 code of why not. */
type KeyState = { kind: "usable"; arn: string; policy?: string } | { kind: "unusable"; code: string };

async function keyState(
  keys: KeyService,
  policies: PolicyEvaluator | undefined,
  keyId: string,
): Promise<KeyState> {
  const use = await keyUse(keys, keyId, policies !== undefined);
  if (use.kind === "missing") return { kind: "unusable", code: "KMS.NotFoundException" };
  if (use.kind === "disabled") {
    const pending = use.state === "PendingDeletion" || use.state === "PendingReplicaDeletion";
    return { kind: "unusable", code: pending ? "KMS.KMSInvalidStateException" : "KMS.DisabledException" };
  }
  if (use.policy?.kind === "none") return { kind: "unusable", code: "AccessDenied" };
  return use.policy?.kind === "policy"
    ? { kind: "usable", arn: use.arn, policy: use.policy.document }
    : { kind: "usable", arn: use.arn };
}

/**
 * A KMS key as CloudTrail meets it when it uses it (log files, a topic's messages): gone,
 * not enabled (with its state), or usable, with its policy when `withPolicy` (read only then).
 * Each user maps the states to the codes of its own service.
 */
export type KeyUse =
  | { kind: "missing" }
  /** Not enabled; `state` is KMS's KeyState (Disabled, PendingDeletion, PendingImport …). */
  | { kind: "disabled"; state?: string }
  | { kind: "usable"; arn: string; policy?: PolicyAnswer };

export async function keyUse(keys: KeyService, keyId: string, withPolicy: boolean): Promise<KeyUse> {
  const key: KeyDescription | undefined = await keys.describeKey(keyId);
  if (!key) return { kind: "missing" };
  if (!key.enabled)
    return key.state === undefined ? { kind: "disabled" } : { kind: "disabled", state: key.state };
  return withPolicy
    ? { kind: "usable", arn: key.arn, policy: await keys.keyPolicy(key.arn) }
    : { kind: "usable", arn: key.arn };
}

/** Bounded: a read's verdicts go with it when it is read again. */
const MAX_VERDICTS = 1_000;

async function verdict<T>(
  read: Cached<T>,
  name: string,
  evaluate: () => Promise<string | undefined>,
): Promise<string | undefined> {
  if (read.verdicts.has(name)) return read.verdicts.get(name);
  const answer = await evaluate();
  if (read.verdicts.size >= MAX_VERDICTS) read.verdicts.clear();
  read.verdicts.set(name, answer);
  return answer;
}
