/**
 * Every error opentrail can answer with, named exactly as AWS names it. Only the wire layer
 * turns these into `{"__type","message"}` and a status.
 */

/** Error codes and their HTTP status. Modeled CloudTrail exceptions are all 400. */
export const ERROR_STATUS = {
  // modeled CloudTrail exceptions
  CloudTrailARNInvalidException: 400,
  CloudWatchLogsDeliveryUnavailableException: 400,
  ConflictException: 400,
  InsightNotEnabledException: 400,
  InsufficientEncryptionPolicyException: 400,
  InsufficientS3BucketPolicyException: 400,
  InsufficientSnsTopicPolicyException: 400,
  InvalidCloudWatchLogsLogGroupArnException: 400,
  InvalidCloudWatchLogsRoleArnException: 400,
  InvalidEventCategoryException: 400,
  InvalidEventSelectorsException: 400,
  InvalidHomeRegionException: 400,
  InvalidInsightSelectorsException: 400,
  InvalidKmsKeyIdException: 400,
  InvalidLookupAttributesException: 400,
  InvalidMaxResultsException: 400,
  InvalidNextTokenException: 400,
  InvalidParameterCombinationException: 400,
  InvalidParameterException: 400,
  InvalidS3BucketNameException: 400,
  InvalidS3PrefixException: 400,
  InvalidSnsTopicNameException: 400,
  InvalidTagParameterException: 400,
  InvalidTimeRangeException: 400,
  InvalidTokenException: 400,
  InvalidTrailNameException: 400,
  KmsException: 400,
  KmsKeyNotFoundException: 400,
  MaximumNumberOfTrailsExceededException: 400,
  OperationNotPermittedException: 400,
  OrganizationsNotInUseException: 400,
  ResourceNotFoundException: 400,
  ResourceTypeNotSupportedException: 400,
  S3BucketDoesNotExistException: 400,
  TagsLimitExceededException: 400,
  ThrottlingException: 400,
  TrailAlreadyExistsException: 400,
  TrailNotFoundException: 400,
  UnsupportedOperationException: 400,
  // protocol, authentication and generic errors
  AccessDeniedException: 400,
  ExpiredTokenException: 400,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  MissingAuthenticationTokenException: 403,
  SerializationException: 400,
  UnknownOperationException: 400,
  UnrecognizedClientException: 400,
  ValidationException: 400,
  RequestEntityTooLargeException: 413,
  RequestTimeoutException: 408,
  InternalFailure: 500,
  ServiceUnavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error with an AWS code; `name` is the code, as in the official SDK's exceptions. */
export class CloudTrailError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly $fault: "client" | "server";

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.$fault = this.status >= 500 ? "server" : "client";
  }
}

/** `throw fail("TrailNotFoundException", "Unknown trail: …")`. */
export function fail(code: ErrorCode, message: string): CloudTrailError {
  return new CloudTrailError(code, message);
}

export function isCloudTrailError(e: unknown): e is CloudTrailError {
  return e instanceof CloudTrailError;
}
