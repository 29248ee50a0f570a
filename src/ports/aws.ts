import type { PolicyQuestion } from "../domain/policy.ts";

/*
 * The other AWS services opentrail calls (SNS, CloudWatch Logs, EventBridge, KMS, IAM), and the policy
 * questions it asks before accepting a trail. Endpoints come from one lookup in the composition
 * root; a service with none configured answers with AwsServiceUnconfigured at the call.
 */

/** What a destination says about its resource policy. */
export type PolicyAnswer =
  | { kind: "policy"; document: string }
  /** The resource exists and has no policy (S3 NoSuchBucketPolicy). */
  | { kind: "none" }
  /** The endpoint cannot say (NotImplemented, 501, refused for our own credentials). */
  | { kind: "unknown"; reason: string }
  /** The resource does not exist. */
  | { kind: "missing" };

/** A topic's policy, with the key of a KMS-encrypted topic (a key id, ARN or alias). */
export type TopicAnswer = PolicyAnswer & { kmsMasterKeyId?: string };

/** Evaluates policies: resource policies for the CloudTrail service principal, identity policies for a role. */
export interface PolicyEvaluator {
  /** The first question the policy answers otherwise than expected; undefined: none. */
  refused(policy: string, questions: readonly PolicyQuestion[]): Promise<PolicyQuestion | undefined>;
  /**
   * The first question the identity policies of `principal` (an IAM role ARN), within its
   * permissions boundary when it has one, answer otherwise than expected; undefined: none.
   */
  refusedTo(
    principal: string,
    identity: IdentityPolicies,
    questions: readonly PolicyQuestion[],
  ): Promise<PolicyQuestion | undefined>;
}

/** The policy documents (JSON text) that apply to an IAM role's own requests. */
export interface IdentityPolicies {
  /** Inline and attached managed policies. */
  policies: readonly { name: string; document: string }[];
  /** The permissions boundary's document, when the role has one. */
  boundary?: string;
}

/**
 * A failed call to another service, with the service's error code (NotFound, AuthorizationError,
 * ResourceNotFoundException, ...), which GetTrailStatus reports. `retryable` when the endpoint
 * could not be reached or answered 5xx / throttling.
 */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = "AwsServiceError";
    this.code = code;
    this.retryable = retryable;
  }
}

/** The call needs a service whose endpoint is not configured. */
export class AwsServiceUnconfigured extends AwsServiceError {
  constructor(service: string) {
    super(
      "EndpointNotConfigured",
      `no ${service} endpoint is configured: set --upstream ${service}=URL (or a default upstream)`,
      false,
    );
    this.name = "AwsServiceUnconfigured";
  }
}

/** SNS as CloudTrail uses it. */
export interface Notifications {
  /** False when no SNS endpoint is configured (every call would fail with AwsServiceUnconfigured). */
  readonly configured: boolean;
  /**
   * The topic's policy (GetTopicAttributes Policy), and the KMS key the topic is encrypted with
   * (KmsMasterKeyId) when it is; `missing` when the topic does not exist.
   */
  topicPolicy(topicArn: string): Promise<TopicAnswer>;
  /** Publish `message` to the topic; failures are AwsServiceError. */
  publish(topicArn: string, message: string): Promise<void>;
}

/** One CloudWatch Logs event: milliseconds since the epoch and the message text. */
export interface LogEvent {
  timestamp: number;
  message: string;
}

/** CloudWatch Logs as CloudTrail uses it. */
export interface CloudWatchLogs {
  /** False when no CloudWatch Logs endpoint is configured. */
  readonly configured: boolean;
  /** Does the log group of this ARN (`…:log-group:NAME:*`) exist? */
  logGroupExists(groupArn: string): Promise<boolean>;
  /**
   * Puts the events (chronological, within PutLogEvents' limits) into the stream of the group,
   * creating the stream on first use; failures are AwsServiceError.
   */
  putLogEvents(groupArn: string, stream: string, events: readonly LogEvent[]): Promise<void>;
}

/** One EventBridge entry (PutEvents' PutEventsRequestEntry, bus left to the default). */
export interface BusEvent {
  source: string;
  detailType: string;
  /** The JSON text of the detail. */
  detail: string;
  time: Date;
  resources: string[];
}

/** EventBridge's default bus, per region. */
export interface EventBus {
  /** False when no EventBridge endpoint is configured. */
  readonly configured: boolean;
  /** Puts the entries (at most 10) on the default bus of `region`; any failed entry fails the call. */
  putEvents(region: string, entries: readonly BusEvent[]): Promise<void>;
}

/** A KMS key as DescribeKey shows it. */
export interface KeyDescription {
  arn: string;
  enabled: boolean;
  /** KMS's KeyState (Enabled, Disabled, PendingDeletion, ...), when it says. */
  state?: string;
}

/** KMS as CloudTrail uses it. */
export interface KeyService {
  /** False when no KMS endpoint is configured. */
  readonly configured: boolean;
  /** The key an id, key ARN, alias name or alias ARN names; undefined when there is none. */
  describeKey(keyId: string): Promise<KeyDescription | undefined>;
  /** The key's policy (GetKeyPolicy "default"). */
  keyPolicy(keyArn: string): Promise<PolicyAnswer>;
}

/** An IAM role as CloudTrail needs it to assume the role and write with it. */
export type RoleAnswer =
  | {
      kind: "role";
      arn: string;
      /** The trust policy (AssumeRolePolicyDocument), decoded JSON text. */
      trustPolicy: string;
      identity: IdentityPolicies;
    }
  /** No role of this ARN (NoSuchEntity, or a role of that name at another path or account). */
  | { kind: "missing" }
  /** IAM cannot say (our own credentials are refused). */
  | { kind: "unknown"; reason: string };

/** IAM, read only: the roles trails name. */
export interface Roles {
  /** False when no IAM endpoint is configured. */
  readonly configured: boolean;
  /** The role of `roleArn` with its trust policy and every policy of its own; failures are AwsServiceError. */
  role(roleArn: string): Promise<RoleAnswer>;
}
