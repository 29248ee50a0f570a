import {
  type DigestKeyParts,
  digestFolder,
  digestKey,
  digestKeyMatcher,
  digestKeyStamp,
  digestStamp,
  isBackfillDigestKey,
  parseDigestStamp,
} from "../domain/digest.ts";
import { dayFolder, deliveryMinuteReader, logFileFolder } from "../domain/log-files.ts";
import type { ObjectReader } from "../ports/index.ts";

/**
 * What the walk lists: a bucket's digest keys in range (consumed newest first, as the AWS CLI pops
 * them) and, for the check of unlisted files, the log file keys of a span of days.
 */

const HOUR = 3_600_000;

/** The digests of one trail and region, whatever the bucket: `digestKey`'s parts but the time. */
export type DigestScope = Omit<DigestKeyParts, "endTime">;

/** Keys of a bucket's digests in range, oldest first, consumed from the end as the AWS CLI pops them. */
export interface DigestListing {
  readonly bucket: string;
  readonly keys: readonly string[];
  /** Keys not consumed yet: keys[0 .. remaining). */
  remaining: number;
  readonly index: ReadonlyMap<string, number>;
}

/**
 * The digest keys of `bucket` whose stamps lie in [start, end + 1 hour], as the AWS CLI lists them:
 * from just before `start`'s key, stopping at the first key past the range.
 */
export async function listDigests(
  reader: ObjectReader,
  scope: DigestScope,
  bucket: string,
  start: Date,
  end: Date,
): Promise<DigestListing> {
  const marker = digestKey({ ...scope, endTime: new Date(start.getTime() - 60_000) });
  const isDigest = digestKeyMatcher(scope);
  const from = digestStamp(start);
  const to = digestStamp(new Date(end.getTime() + HOUR));
  const keys: string[] = [];
  for await (const key of reader.listKeys(bucket, digestFolder(scope), marker)) {
    if (!isDigest(key)) continue;
    const stamp = digestKeyStamp(key);
    if (stamp > to) break;
    // backfill digests are AWS's alone; this walk, like the AWS CLI's first pass, leaves them out
    if (stamp < from || isBackfillDigestKey(key)) continue;
    keys.push(key);
  }
  return { bucket, keys, remaining: keys.length, index: new Map(keys.map((k, i) => [k, i])) };
}

/** A key's end time by its stamp. */
export function stampedEnd(key: string): Date | undefined {
  return parseDigestStamp(digestKeyStamp(key));
}

/** The next listed key strictly older than `before` (the newest one when undefined), consumed. */
export function nextListed(l: DigestListing, before?: string): { key: string; end: Date } | undefined {
  const limit = before === undefined ? undefined : stampedEnd(before)?.getTime();
  while (l.remaining > 0) {
    const key = l.keys[--l.remaining]!;
    const end = stampedEnd(key);
    if (end && (limit === undefined || end.getTime() < limit)) return { key, end };
  }
  return undefined;
}

/** A log file key of a region's folder and the minute its name says it was delivered. */
export interface LogKey {
  key: string;
  minute: number;
}

/**
 * The log file keys (by their names) below `head` of the days from `firstDay` to `lastDay` (epoch
 * ms), in S3 order; keys of other shapes are passed over.
 */
export async function* listLogKeys(
  reader: ObjectReader,
  bucket: string,
  head: string,
  scope: { accountId: string; region: string },
  firstDay: number,
  lastDay: number,
): AsyncGenerator<LogKey> {
  const base = logFileFolder(head, scope.accountId, scope.region);
  const minuteOf = deliveryMinuteReader(scope.accountId, scope.region);
  const last = dayFolder(lastDay);
  // keys of a day folder all sort after the folder name without its slash
  for await (const key of reader.listKeys(bucket, base, base + dayFolder(firstDay))) {
    const rest = key.slice(base.length);
    if (rest.slice(0, 10) > last) return;
    const minute = minuteOf(rest);
    if (minute !== undefined) yield { key, minute };
  }
}
