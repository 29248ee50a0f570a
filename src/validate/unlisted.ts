import { keyHead } from "../domain/log-files.ts";
import type { ObjectReader } from "../ports/index.ts";
import type { LogFileEntry } from "./digest-read.ts";
import type { ListedKeys } from "./listed-keys.ts";
import { listLogKeys } from "./listing.ts";

/**
 * Log files that no digest lists, though valid digests cover the time they were delivered: a file
 * slipped into the bucket afterwards, or one the digests were made to forget. Only periods that
 * valid digests cover count (a trail that was not logging, or logged without validation, leaves
 * unlisted files legitimately). A file's key carries its delivery minute; it counts only when that
 * whole minute lies inside the covered time, so no file delivered near a chain's edge is accused.
 * Another trail that delivers to the same bucket and prefix would have its files reported here.
 */

export interface CoveredDigest {
  bucket: string;
  /** The digest's key: its prefix is the prefix of the log files it covers. */
  key: string;
  start: Date;
  end: Date;
}

/**
 * The group of a digest's log files: its bucket and what its key holds before `AWSLogs/`; undefined
 * for a key of no such shape, whose files are not checked.
 */
function groupOf(bucket: string, digestKey: string): string | undefined {
  const head = keyHead(digestKey);
  return head === undefined ? undefined : `${bucket}\n${head}`;
}

/** Notes the files a valid digest lists in its own bucket (the only ones its group's check counts). */
export function noteListed(
  listed: ListedKeys,
  digest: { bucket: string; key: string },
  logFiles: readonly LogFileEntry[],
): void {
  const group = groupOf(digest.bucket, digest.key);
  if (group === undefined) return;
  for (const f of logFiles) if (f.s3Bucket === digest.bucket) listed.add(group, f.s3Object);
}

export interface LogScope {
  accountId: string;
  region: string;
}

const MINUTE = 60_000;

/** Covered spans, merged where one digest starts as the one before it ends. */
function merge(spans: { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const merged: { start: number; end: number }[] = [];
  for (const s of sorted) {
    const last = merged[merged.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else merged.push({ ...s });
  }
  return merged;
}

interface Group {
  id: string;
  bucket: string;
  /** What the digests' keys hold before `AWSLogs/`: the log files they cover lie below the same. */
  head: string;
  digests: CoveredDigest[];
}

/** The digests by bucket and prefix. */
function groupsOf(digests: readonly CoveredDigest[]): Iterable<Group> {
  const groups = new Map<string, Group>();
  for (const d of digests) {
    const head = keyHead(d.key);
    const id = groupOf(d.bucket, d.key);
    if (head === undefined || id === undefined) continue;
    let g = groups.get(id);
    if (!g) {
      g = { id, bucket: d.bucket, head, digests: [] };
      groups.set(id, g);
    }
    g.digests.push(d);
  }
  return groups.values();
}

async function unlistedOfGroup(
  reader: ObjectReader,
  scope: LogScope,
  listed: ListedKeys,
  g: Group,
): Promise<string[]> {
  const spans = merge(g.digests.map((d) => ({ start: d.start.getTime(), end: d.end.getTime() })));
  if (spans.length === 0) return [];
  const covered = (minute: number) => spans.some((s) => minute >= s.start && minute + MINUTE <= s.end);
  const found: string[] = [];
  const days = listLogKeys(reader, g.bucket, g.head, scope, spans[0]!.start, spans[spans.length - 1]!.end);
  for await (const { key, minute } of days) {
    if (covered(minute) && !listed.has(g.id, key)) found.push(key);
  }
  return found;
}

export async function unlistedLogFiles(
  reader: ObjectReader,
  scope: LogScope,
  digests: readonly CoveredDigest[],
  listed: ListedKeys,
): Promise<{ bucket: string; key: string }[]> {
  const found: { bucket: string; key: string }[] = [];
  for (const g of groupsOf(digests)) {
    for (const key of await unlistedOfGroup(reader, scope, listed, g)) found.push({ bucket: g.bucket, key });
  }
  return found;
}
