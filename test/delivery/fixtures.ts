import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { logFileKeys } from "../../bench/support/delivery-server.ts";

/**
 * Records and readers shared by the delivery suites: records shaped as CloudTrail writes them,
 * the key layout of log-files.md §5, and a log file's records read back from its gzip bytes.
 */

export const ACCOUNT = "123456789012";

/**
 * `[prefix/]AWSLogs/<acct>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<16>.json.gz`;
 * groups: prefix, account, region, year, month, day, stamp date, stamp time.
 */
export const KEY_PATTERN =
  /^(?:(.+)\/)?AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\2_CloudTrail_\3_(\d{8})T(\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$/;

export type CloudTrailRecord = Record<string, unknown>;

/** `YYYY-MM-DDTHH:MM:SSZ` of a moment, as records carry it. */
export function wholeSecond(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** A deterministic event id per number, so a failure names the record. */
export function eventId(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

/** An EC2 management call: even numbers read, odd numbers write. */
export function managementRecord(n: number, extra: CloudTrailRecord = {}): CloudTrailRecord {
  return {
    eventVersion: "1.08",
    userIdentity: { type: "IAMUser", accountId: ACCOUNT, userName: "alice" },
    eventTime: wholeSecond(new Date()),
    eventSource: "ec2.amazonaws.com",
    eventName: n % 2 === 0 ? "DescribeInstances" : "RunInstances",
    awsRegion: "us-east-1",
    sourceIPAddress: "192.0.2.1",
    requestParameters: null,
    responseElements: null,
    eventID: eventId(n),
    readOnly: n % 2 === 0,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: "Management",
    ...extra,
  };
}

/** A data event on one resource, e.g. PutObject of an S3 object or Invoke of a function. */
export function dataRecord(
  n: number,
  call: { source: string; name: string; readOnly: boolean; resource: { type: string; ARN: string } },
  extra: CloudTrailRecord = {},
): CloudTrailRecord {
  return managementRecord(n, {
    eventSource: call.source,
    eventName: call.name,
    readOnly: call.readOnly,
    managementEvent: false,
    eventCategory: "Data",
    resources: [{ ...call.resource, accountId: ACCOUNT }],
    ...extra,
  });
}

/** The records of one delivered log file, after checking it is `{"Records":[…]}` in gzip. */
export function logFileRecords(gzipped: Buffer): CloudTrailRecord[] {
  if (gzipped[0] !== 0x1f || gzipped[1] !== 0x8b) throw new Error("log file is not gzip");
  const body = JSON.parse(gunzipSync(gzipped).toString("utf8")) as unknown;
  if (typeof body !== "object" || body === null || Object.keys(body).join() !== "Records") {
    throw new Error('log file body is not {"Records":[…]}');
  }
  const records = (body as { Records: unknown }).Records;
  if (!Array.isArray(records) || records.length === 0) throw new Error("log file holds no records");
  return records as CloudTrailRecord[];
}

/** eventIDs of records, sorted, so two deliveries compare as multisets. */
export function idsOf(records: readonly CloudTrailRecord[]): string[] {
  return records.map((r) => String(r.eventID)).sort();
}

export interface LocalLogFile {
  /** Object key: the path under the bucket's directory. */
  key: string;
  /** The key's region folder. */
  region: string;
  records: CloudTrailRecord[];
}

/** The log files in a bucket of the local store (`<root>/<bucket>/<key>`), in key order. */
export function localLogFiles(root: string, bucket: string): LocalLogFile[] {
  const dir = join(root, bucket);
  return logFileKeys(dir).map((key) => {
    const m = KEY_PATTERN.exec(key);
    if (!m) throw new Error(`not a log file key: ${key}`);
    return { key, region: m[3]!, records: logFileRecords(readFileSync(join(dir, key))) };
  });
}
