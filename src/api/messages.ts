import { CloudTrailError } from "./errors.ts";

/**
 * The AWS messages that more than one site answers with, or that AWS is known to give, each
 * composed once: a throw site names the builder and passes the values, as moto's exceptions.py
 * does. Limits are arguments because the rules that own them live in domain/.
 */

// ---------------------------------------------------------------------------------------------
// Trails

export function trailNotFound(trail: string, accountId: string): CloudTrailError {
  return new CloudTrailError("TrailNotFoundException", `Unknown trail: ${trail} for the user: ${accountId}`);
}

export function trailAlreadyExists(name: string, accountId: string): CloudTrailError {
  return new CloudTrailError(
    "TrailAlreadyExistsException",
    `Trail ${name} already exists for customer: ${accountId}`,
  );
}

export function maximumNumberOfTrailsExceeded(
  accountId: string,
  limit: number,
  region: string,
): CloudTrailError {
  return new CloudTrailError(
    "MaximumNumberOfTrailsExceededException",
    `User: ${accountId} already has ${limit} trails in ${region}.`,
  );
}

export function invalidHomeRegion(homeRegion: string): CloudTrailError {
  return new CloudTrailError(
    "InvalidHomeRegionException",
    `This operation must be called from the trail's home region (${homeRegion}).`,
  );
}

export function multiRegionWithoutGlobalEvents(): CloudTrailError {
  return new CloudTrailError(
    "InvalidParameterCombinationException",
    "Multi-Region trail must include global service events.",
  );
}

export function organizationsNotInUse(): CloudTrailError {
  return new CloudTrailError(
    "OrganizationsNotInUseException",
    "This account is not a member of an organization.",
  );
}

export function insightNotEnabled(trailName: string): CloudTrailError {
  return new CloudTrailError(
    "InsightNotEnabledException",
    `Trail ${trailName} does not have Insights enabled. Edit the trail settings to enable Insights, and then try the operation again.`,
  );
}

// ---------------------------------------------------------------------------------------------
// ARNs and tagged resources

export function invalidTrailArn(value: string): CloudTrailError {
  return new CloudTrailError("CloudTrailARNInvalidException", `Invalid trail ARN: ${value}`);
}

export function wrongArnRegion(currentRegion: string): CloudTrailError {
  return new CloudTrailError(
    "CloudTrailARNInvalidException",
    `Region in ARN is wrong, you can only access resources in region ${currentRegion}.`,
  );
}

export function wrongArnAccount(accountId: string): CloudTrailError {
  return new CloudTrailError(
    "CloudTrailARNInvalidException",
    `AccountID in ARN is wrong, you can only access resources with AccountID ${accountId}.`,
  );
}

export function resourceTypeNotSupported(type: string, arn: string): CloudTrailError {
  return new CloudTrailError(
    "ResourceTypeNotSupportedException",
    `Resource type ${type} is not supported: ${arn}`,
  );
}

export function resourceNotFound(arn: string): CloudTrailError {
  return new CloudTrailError("ResourceNotFoundException", `Resource not found: ${arn}`);
}

export function tagsLimitExceeded(limit: number): CloudTrailError {
  return new CloudTrailError(
    "TagsLimitExceededException",
    `The number of tags per trail has exceeded the permitted amount. Currently, the limit is ${limit}.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Destinations: S3, SNS, KMS, CloudWatch Logs

export function s3BucketDoesNotExist(bucket: string): CloudTrailError {
  return new CloudTrailError("S3BucketDoesNotExistException", `S3 bucket ${bucket} does not exist!`);
}

export function insufficientS3BucketPolicy(bucket: string): CloudTrailError {
  return new CloudTrailError(
    "InsufficientS3BucketPolicyException",
    `Incorrect S3 bucket policy is detected for bucket: ${bucket}`,
  );
}

export function insufficientSnsTopicPolicy(why?: string): CloudTrailError {
  const message = "SNS Topic does not exist or the topic policy is incorrect!";
  return new CloudTrailError("InsufficientSnsTopicPolicyException", why ? `${message} (${why})` : message);
}

export function invalidS3Prefix(maxLength: number): CloudTrailError {
  return new CloudTrailError("InvalidS3PrefixException", `S3 prefix length exceeds ${maxLength} characters.`);
}

export function invalidSnsTopicName(value: string): CloudTrailError {
  return new CloudTrailError("InvalidSnsTopicNameException", `SNS topic name ${value} is invalid.`);
}

export function invalidKmsKeyId(value: string): CloudTrailError {
  return new CloudTrailError("InvalidKmsKeyIdException", `KMS key ID ${value} is invalid.`);
}

export function kmsKeyNotFound(keyId: string): CloudTrailError {
  return new CloudTrailError("KmsKeyNotFoundException", `KMS key ${keyId} does not exist.`);
}

export function kmsKeyUnusable(keyArn: string): CloudTrailError {
  return new CloudTrailError("KmsException", `KMS key ${keyArn} is disabled or cannot be used.`);
}

export function insufficientEncryptionPolicy(bucket: string, keyArn: string): CloudTrailError {
  return new CloudTrailError(
    "InsufficientEncryptionPolicyException",
    `Insufficient permissions to access S3 bucket ${bucket} or KMS key ${keyArn}.`,
  );
}

export function cloudWatchLogsRoleMissing(): CloudTrailError {
  return new CloudTrailError(
    "InvalidCloudWatchLogsRoleArnException",
    "You must specify a role ARN as well as a log group.",
  );
}

export function cloudWatchLogsGroupMissing(): CloudTrailError {
  return new CloudTrailError(
    "InvalidCloudWatchLogsLogGroupArnException",
    "You must specify a log group as well as a role ARN.",
  );
}

export function invalidCloudWatchLogsGroupArn(): CloudTrailError {
  return new CloudTrailError(
    "InvalidCloudWatchLogsLogGroupArnException",
    "CloudTrail cannot validate the specified log group ARN.",
  );
}

/** CloudTrail cannot assume the role, or the role may not write to the log group. */
export function cloudWatchLogsRoleDenied(): CloudTrailError {
  return new CloudTrailError(
    "InvalidCloudWatchLogsLogGroupArnException",
    "Access denied. Check the permissions for your role.",
  );
}

export function invalidCloudWatchLogsRoleArn(): CloudTrailError {
  return new CloudTrailError(
    "InvalidCloudWatchLogsRoleArnException",
    "CloudTrail cannot validate the specified role ARN.",
  );
}

export function cloudWatchLogsDeliveryUnavailable(why?: string): CloudTrailError {
  const message = "Cannot set a CloudWatch Logs delivery for this Region.";
  return new CloudTrailError(
    "CloudWatchLogsDeliveryUnavailableException",
    why ? `${message} (${why})` : message,
  );
}

// ---------------------------------------------------------------------------------------------
// Paging, time ranges and rates

/** Also a row of LOOKUP_MESSAGES, the table the LookupEvents tests read. */
export const TIME_RANGE_MESSAGE = "Start time must be earlier than end time.";

export function invalidTimeRange(): CloudTrailError {
  return new CloudTrailError("InvalidTimeRangeException", TIME_RANGE_MESSAGE);
}

/** ListTrails' token; LookupEvents words its own (LOOKUP_MESSAGES.nextToken). */
export function invalidNextToken(): CloudTrailError {
  return new CloudTrailError("InvalidNextTokenException", "Invalid NextToken.");
}

/** The reserved NextToken of ListTags and ListPublicKeys, which never hand one out. */
export function invalidToken(): CloudTrailError {
  return new CloudTrailError("InvalidTokenException", "Invalid token.");
}

export function rateExceeded(): CloudTrailError {
  return new CloudTrailError("ThrottlingException", "Rate exceeded");
}

// ---------------------------------------------------------------------------------------------
// Operations of the model that opentrail does not serve

export function unsupportedOperation(operation: string): CloudTrailError {
  return new CloudTrailError("UnsupportedOperationException", `${operation} is not supported by opentrail.`);
}
