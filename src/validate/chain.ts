import { digestKey, digestKeyPrefix } from "../domain/digest.ts";
import type { ObjectReader } from "../ports/index.ts";
import type { DigestRead } from "./digest-read.ts";
import type { DigestCache } from "./fetch-cache.ts";
import { ListedKeys } from "./listed-keys.ts";
import { type DigestListing, type DigestScope, nextListed, stampedEnd } from "./listing.ts";
import { checkLogFile } from "./log-check.ts";
import type { OrderedOutput } from "./output.ts";
import type { Pool } from "./pool.ts";
import type { Verdict } from "./report.ts";
import { displayTime } from "./time.ts";
import { type CoveredDigest, noteListed } from "./unlisted.ts";

/**
 * The chain walk of `aws cloudtrail validate-logs`: newest listed digest first, then each digest's
 * `previousDigest*` link, the next older listed digest when a link is missing or a digest fails.
 * Its verdicts go out in that order; beside the AWS CLI's, it finds runs of deleted digests and
 * links that name other bytes.
 */

const HOUR = 3_600_000;

export interface Span {
  start: Date;
  end: Date;
}

/** What the walk reads with and writes to. */
export interface Walk {
  scope: DigestScope;
  /** The requested range. */
  range: Span;
  reader: ObjectReader;
  pool: Pool;
  cache: DigestCache;
  output: OrderedOutput;
  /** The digests of another bucket, listed from the range's start to `end`. */
  list(bucket: string, end: Date): Promise<DigestListing>;
  onDigest(): void;
}

/** A valid digest's link to the one before it. */
interface Link {
  bucket: string;
  key: string;
  hash: unknown;
  signature: unknown;
}

/** The digest the walk reads next, and how it got there. */
interface Cursor {
  bucket: string;
  key: string;
  listing: DigestListing;
  /** Start of the oldest valid digest so far; at first the end of the newest listed one. */
  lastStart: Date;
  /** The valid digest whose link led here. */
  linkedFrom?: Link;
}

/** A missing digest reached through a link, waiting for the next valid one to tell how many went. */
interface MissingRun {
  bucket: string;
  key: string;
  end: Date;
}

/** What the walk learns besides its verdicts. */
export interface Findings {
  /** For the check of unlisted log files: the valid digests' spans, and the files they list. */
  valid: CoveredDigest[];
  listed: ListedKeys;
  /** The span of the valid digests, clipped to the range; undefined if none. */
  found?: Span;
  /** A linked digest's length: the chain's interval. */
  interval?: number;
  missingRun?: MissingRun;
}

type ValidRead = Extract<DigestRead, { kind: "valid" }>;

/** Walks from the newest digest of `listing` down to the range's start. */
export async function walkChain(w: Walk, listing: DigestListing): Promise<Findings> {
  const findings: Findings = { valid: [], listed: new ListedKeys() };
  const first = nextListed(listing);
  let at: Cursor | undefined = first && {
    bucket: listing.bucket,
    key: first.key,
    listing,
    lastStart: first.end,
  };
  while (at && w.range.start.getTime() <= at.lastStart.getTime()) at = await visit(w, findings, at);
  return findings;
}

async function visit(w: Walk, f: Findings, at: Cursor): Promise<Cursor | undefined> {
  await w.output.backpressure();
  w.cache.prefetchBelow(at.listing, at.key);
  const read = await w.cache.take(at.bucket, at.key);
  w.onDigest();
  if (at.linkedFrom && read.kind !== "missing" && read.sha256 !== undefined) {
    const broken = brokenLink(at.linkedFrom, at, read.sha256, read.signature);
    if (broken) w.output.emit(broken);
  }
  if (read.kind === "valid") return visitValid(w, f, at, read);
  if (read.kind === "missing") {
    w.output.emit({
      line: `Digest file\ts3://${at.bucket}/${at.key}\tINVALID: not found`,
      error: true,
      tally: "invalidDigest",
    });
    // a link to a missing digest: it was not the last of its chain, so its length is the interval
    if (at.linkedFrom) {
      f.missingRun = { bucket: at.bucket, key: at.key, end: stampedEnd(at.key) ?? new Date(0) };
    }
  } else {
    w.output.emit({ line: read.message, error: true, tally: "invalidDigest" });
  }
  const next = nextListed(at.listing, at.key);
  return next && { bucket: at.bucket, key: next.key, listing: at.listing, lastStart: at.lastStart };
}

/** The check the AWS CLI leaves out: the link names the bytes and signature of the digest it led to. */
function brokenLink(
  from: Link,
  to: Cursor,
  sha256: string,
  signature: string | undefined,
): Verdict | undefined {
  const hashOk = from.hash === sha256;
  const signatureOk = signature !== undefined && from.signature === signature;
  if (hashOk && signatureOk) return undefined;
  const what = hashOk ? "previousDigestSignature" : "previousDigestHashValue";
  return {
    line: `Digest file\ts3://${from.bucket}/${from.key}\tINVALID: ${what} does not match s3://${to.bucket}/${to.key}`,
    error: true,
    tally: "brokenLink",
  };
}

async function visitValid(w: Walk, f: Findings, at: Cursor, read: ValidRead): Promise<Cursor | undefined> {
  f.found = widen(f.found, w.range, read);
  const length = read.end.getTime() - read.start.getTime();
  if (at.linkedFrom) f.interval ??= length;
  if (f.missingRun && !at.linkedFrom) {
    w.output.emit(runOfMissing(w.scope, f.missingRun, f.interval ?? HOUR, read.end, length));
    f.missingRun = undefined;
  }
  f.valid.push({ bucket: at.bucket, key: at.key, start: read.start, end: read.end });
  noteListed(f.listed, at, read.logFiles);
  w.output.emit({
    line: `Digest file\ts3://${at.bucket}/${at.key}\tvalid`,
    error: false,
    tally: "validDigest",
  });
  for (const log of read.logFiles) {
    await w.output.backpressure();
    w.output.emit(w.pool.run(() => checkLogFile(w.reader, log)));
  }
  return follow(w, at, read);
}

/** Where a valid digest sends the walk: its link, else the next older listed digest. */
async function follow(w: Walk, at: Cursor, read: ValidRead): Promise<Cursor | undefined> {
  const lastStart = read.start;
  const prevBucket = read.doc.previousDigestS3Bucket;
  const prevKey = read.doc.previousDigestS3Object;
  if (prevBucket === null || prevBucket === undefined || prevKey === null || prevKey === undefined) {
    const next = nextListed(at.listing, at.key);
    if (next) {
      w.output.emit({
        line: `No log files were delivered by CloudTrail between ${displayTime(next.end)} and ${displayTime(read.start)}`,
        error: true,
      });
    }
    return next && { bucket: at.bucket, key: next.key, listing: at.listing, lastStart };
  }
  const linkedFrom: Link = {
    bucket: at.bucket,
    key: at.key,
    hash: read.doc.previousDigestHashValue,
    signature: read.doc.previousDigestSignature,
  };
  const bucket = String(prevBucket);
  const listing = bucket === at.bucket ? at.listing : await w.list(bucket, read.end);
  return { bucket, key: String(prevKey), listing, lastStart, linkedFrom };
}

/** `found` grown by a valid digest's span, clipped to the range. */
function widen(found: Span | undefined, range: Span, d: Span): Span {
  const start = d.start.getTime() > range.start.getTime() ? d.start : range.start;
  const end = d.end.getTime() < range.end.getTime() ? d.end : range.end;
  if (!found) return { start, end };
  return {
    start: start.getTime() < found.start.getTime() ? start : found.start,
    end: end.getTime() > found.end.getTime() ? end : found.end,
  };
}

/**
 * After a missing digest the walk goes on with the next older listed one. When that one is no
 * chain end (its length is the interval) and more than one interval lies between it and the
 * missing digest, the digests in between are missing too; their keys follow from the interval.
 */
function runOfMissing(
  scope: DigestScope,
  run: MissingRun,
  step: number,
  olderEnd: Date,
  olderLength: number,
): Verdict[] {
  const verdicts: Verdict[] = [];
  if (olderLength !== step) return verdicts;
  const prefix = digestKeyPrefix(run.key);
  for (let at = olderEnd.getTime() + step; at < run.end.getTime(); at += step) {
    const key = digestKey({ ...scope, prefix, endTime: new Date(at) });
    verdicts.push({
      line: `Digest file\ts3://${run.bucket}/${key}\tINVALID: not found`,
      error: true,
      tally: "missingDigestRun",
    });
  }
  return verdicts;
}
