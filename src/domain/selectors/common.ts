import { type CloudTrailError, fail } from "../../api/errors.ts";

export function invalidSelectors(message: string): CloudTrailError {
  return fail("InvalidEventSelectorsException", message);
}

export function isOneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return (list as readonly unknown[]).includes(v);
}

/** Renders a value the way AWS messages do; a missing one prints as Java's null. */
export function shown(v: unknown): string {
  return v === undefined || v === null ? "null" : String(v);
}

// ARN pieces shared by the basic value formats and the advanced resources.ARN checks.
export const PARTITION = "(?:aws|aws-cn|aws-us-gov)";
export const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d{1,2}";
export const ACCOUNT = "\\d{12}";
export const LAMBDA_FUNCTION = "[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?";
export const DYNAMODB_TABLE = "[A-Za-z0-9_.-]{3,255}";

const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;
const BUCKET_CHARS = /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/;

/** S3 naming rules for a bucket named inside a selector value. */
export function isBucketName(name: string): boolean {
  return (
    name.length >= 3 &&
    name.length <= 63 &&
    BUCKET_CHARS.test(name) &&
    !IP_ADDRESS.test(name) &&
    !name.includes("..") &&
    !name.includes(".-") &&
    !name.includes("-.")
  );
}

/** `arn:<p>:s3:::<bucket>/<key…>` with a valid bucket; the key may be empty. */
const S3_OBJECT_ARN = new RegExp(`^arn:${PARTITION}:s3:::([^/]*)/`);

export function isS3ObjectPrefix(value: string): boolean {
  const m = S3_OBJECT_ARN.exec(value);
  return m !== null && isBucketName(m[1] ?? "");
}
