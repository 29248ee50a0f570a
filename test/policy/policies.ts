/** The bucket policy of the CloudTrail User Guide without source conditions, for tests of other outputs. */
export function cloudTrailBucketPolicy(bucket: string, account: string): string {
  const principal = { Service: "cloudtrail.amazonaws.com" };
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:GetBucketAcl",
        Resource: `arn:aws:s3:::${bucket}`,
      },
      {
        Effect: "Allow",
        Principal: principal,
        Action: "s3:PutObject",
        Resource: `arn:aws:s3:::${bucket}/AWSLogs/${account}/*`,
        Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
      },
    ],
  });
}
