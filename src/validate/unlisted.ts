import type { ObjectReader } from "../ports/index.ts";
import type { LogFileEntry } from "./digest-read.ts";

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
  logFiles: readonly LogFileEntry[];
}

export interface LogScope {
  accountId: string;
  region: string;
}

const MINUTE = 60_000;

/** `s` as a literal inside a RegExp. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

function day(t: number): string {
  return new Date(t).toISOString().slice(0, 10).replaceAll("-", "/");
}

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

export async function unlistedLogFiles(
  reader: ObjectReader,
  scope: LogScope,
  digests: readonly CoveredDigest[],
): Promise<{ bucket: string; key: string }[]> {
  const groups = new Map<string, { bucket: string; head: string; digests: CoveredDigest[] }>();
  for (const d of digests) {
    const at = d.key.indexOf("AWSLogs/");
    if (at < 0) continue;
    const head = d.key.slice(0, at);
    const id = `${d.bucket}\n${head}`;
    let g = groups.get(id);
    if (!g) {
      g = { bucket: d.bucket, head, digests: [] };
      groups.set(id, g);
    }
    g.digests.push(d);
  }

  const found: { bucket: string; key: string }[] = [];
  for (const g of groups.values()) {
    const listed = new Set<string>();
    for (const d of g.digests) {
      for (const f of d.logFiles) if (f.s3Bucket === g.bucket) listed.add(f.s3Object);
    }
    const spans = merge(g.digests.map((d) => ({ start: d.start.getTime(), end: d.end.getTime() })));
    if (spans.length === 0) continue;
    const covered = (minute: number) => spans.some((s) => minute >= s.start && minute + MINUTE <= s.end);
    const base = `${g.head}AWSLogs/${scope.accountId}/CloudTrail/${scope.region}/`;
    const name = new RegExp(
      `^\\d{4}/\\d{2}/\\d{2}/${escapeRegExp(scope.accountId)}_CloudTrail_${escapeRegExp(scope.region)}_(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})Z_[^/]*\\.json\\.gz$`,
    );
    const lastDay = day(spans[spans.length - 1]!.end);
    // keys of a day folder all sort after the folder name without its slash
    for await (const key of reader.listKeys(g.bucket, base, base + day(spans[0]!.start))) {
      const rest = key.slice(base.length);
      if (rest.slice(0, 10) > lastDay) break;
      if (listed.has(key)) continue;
      const m = name.exec(rest);
      if (!m) continue;
      const minute = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
      if (covered(minute)) found.push({ bucket: g.bucket, key });
    }
  }
  return found;
}
