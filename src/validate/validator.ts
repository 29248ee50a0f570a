import { digestKey } from "../domain/digest.ts";
import type { ObjectReader } from "../ports/index.ts";
import { type DigestRead, type PublicKeys, readDigest } from "./digest-read.ts";
import { checkLogFile } from "./log-check.ts";
import { createPool } from "./pool.ts";
import type { Report, Verdict } from "./report.ts";
import { digestKeyStamp, displayTime, keyStamp, stampTime } from "./time.ts";
import { type CoveredDigest, escapeRegExp, unlistedLogFiles } from "./unlisted.ts";

/**
 * The chain walk of `aws cloudtrail validate-logs` (newest listed digest first, then each digest's
 * `previousDigest*` link, the next older listed digest when a link is missing or a digest fails), with
 * the same verdicts in the same order, made fast: digests are fetched ahead of the walk and log
 * files hashed many at a time, while the verdicts still come out in the walk's order. Three checks
 * the AWS CLI does not make are added: runs of deleted digests, wrong `previousDigestHashValue`
 * links, and log files no digest lists.
 */

const HOUR = 3_600_000;

export interface ValidateTarget {
  trailArn: string;
  start: Date;
  end: Date;
  bucket: string;
  /** S3KeyPrefix without the joining "/"; undefined or "" for none. */
  prefix?: string;
  accountId: string;
  /** The region whose digests are walked (the AWS CLI's own region). */
  region: string;
  trailName: string;
  homeRegion: string;
}

export interface ValidateDeps {
  reader: ObjectReader;
  /** ListPublicKeys over [start, end]: fingerprint → DER. */
  publicKeys(start: Date, end: Date): Promise<PublicKeys>;
  report: Report;
  /** Objects read at once. */
  concurrency: number;
  onProgress?: (p: Progress) => void;
}

export interface Progress {
  /** Digest keys listed in range: the walk's length when no link leads elsewhere. */
  listed: number;
  digests: number;
  logs: number;
  /** Log files queued or being read. */
  pending: number;
}

/** The validation could not be carried out (no public keys, an unreachable store). */
export class ValidationAbort extends Error {}

/** Keys of a bucket's digests in range, oldest first, consumed from the end as the AWS CLI pops them. */
interface Listing {
  bucket: string;
  keys: string[];
  remaining: number;
  index: Map<string, number>;
}

/** Lookahead of the digest prefetch; digests are small, so a window this size costs little memory. */
const PREFETCH = 16;
/** Verdicts computed ahead of the printer at most; bounds memory on digests listing many files. */
const MAX_AHEAD = 4096;

export async function validateLogs(t: ValidateTarget, deps: ValidateDeps): Promise<void> {
  const { reader, report } = deps;
  const pool = createPool(deps.concurrency);
  const head = t.prefix ? `${t.prefix}/` : "";

  async function listDigests(bucket: string, start: Date, end: Date): Promise<Listing> {
    const base = `${head}AWSLogs/${t.accountId}/CloudTrail-Digest/${t.region}`;
    const marker = digestKey({
      prefix: t.prefix,
      accountId: t.accountId,
      region: t.region,
      trailName: t.trailName,
      homeRegion: t.homeRegion,
      endTime: new Date(start.getTime() - 60_000),
    });
    const pattern = new RegExp(
      `^${escapeRegExp(head)}AWSLogs/${escapeRegExp(t.accountId)}/CloudTrail-Digest/${escapeRegExp(t.region)}/\\d+/\\d+/\\d+/` +
        `${escapeRegExp(t.accountId)}_CloudTrail-Digest_${escapeRegExp(t.region)}_${escapeRegExp(t.trailName)}_${escapeRegExp(t.homeRegion)}_.+\\.json\\.gz$`,
    );
    const from = keyStamp(start);
    const to = keyStamp(new Date(end.getTime() + HOUR));
    const keys: string[] = [];
    for await (const key of reader.listKeys(bucket, base, marker)) {
      if (!pattern.test(key)) continue;
      const stamp = digestKeyStamp(key);
      if (stamp > to) break;
      // backfill digests are AWS's alone; this walk, like the AWS CLI's first pass, leaves them out
      if (stamp < from || key.endsWith("_backfill.json.gz")) continue;
      keys.push(key);
    }
    listedCount += keys.length;
    return { bucket, keys, remaining: keys.length, index: new Map(keys.map((k, i) => [k, i])) };
  }

  /** The next listed key strictly older than `before` (the newest one when undefined), consumed. */
  function nextListed(l: Listing, before?: string): { key: string; end: Date } | undefined {
    const limit = before === undefined ? undefined : stampTime(digestKeyStamp(before))?.getTime();
    while (l.remaining > 0) {
      const key = l.keys[--l.remaining]!;
      const end = stampTime(digestKeyStamp(key));
      if (end && (limit === undefined || end.getTime() < limit)) return { key, end };
    }
    return undefined;
  }

  const reads = new Map<string, Promise<DigestRead>>();
  const readId = (bucket: string, key: string) => `${bucket}\n${key}`;
  let keys: PublicKeys = new Map();
  function fetchDigest(bucket: string, key: string): Promise<DigestRead> {
    const id = readId(bucket, key);
    let p = reads.get(id);
    if (!p) {
      p = pool.run(() => readDigest(reader, keys, t.homeRegion, bucket, key), true);
      // a prefetched digest the walk never reaches must not surface as an unhandled rejection
      p.catch(() => {});
      reads.set(id, p);
    }
    return p;
  }
  function takeDigest(bucket: string, key: string): Promise<DigestRead> {
    const p = fetchDigest(bucket, key);
    reads.delete(readId(bucket, key));
    return p;
  }
  /** Links mostly point at the next older listed key: read the next few before the walk asks. */
  function prefetchBelow(l: Listing, key: string): void {
    const at = l.index.get(key);
    if (at === undefined) return;
    for (let i = at - 1; i >= 0 && i >= at - PREFETCH && reads.size < 2 * PREFETCH; i--) {
      fetchDigest(l.bucket, l.keys[i]!);
    }
  }

  // verdicts leave in walk order; each is a promise so that log files are read while the walk goes on
  let printed = 0;
  let queued = 0;
  let digestsSeen = 0;
  let printedLogs = 0;
  let listedCount = 0;
  let failure: unknown;
  let tail: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  const progress = () =>
    deps.onProgress?.({
      listed: listedCount,
      digests: digestsSeen,
      logs: printedLogs,
      pending: queued - printed,
    });
  const emit = (verdicts: Verdict | Verdict[] | Promise<Verdict>) => {
    const ready = Promise.resolve(verdicts);
    ready.catch(() => {});
    queued++;
    tail = tail
      .then(() => ready)
      .then((v) => {
        for (const one of Array.isArray(v) ? v : [v]) {
          if (one.tally === "validLog" || one.tally === "invalidLog") printedLogs++;
          report.verdict(one);
        }
        printed++;
        progress();
        wake?.();
      });
    tail.catch((e: unknown) => {
      failure ??= e;
      wake?.();
    });
  };
  const backpressure = async () => {
    while (queued - printed > MAX_AHEAD && failure === undefined) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (failure !== undefined) throw failure;
  };

  const found: { start?: Date; end?: Date } = {};
  const track = (start: Date, end: Date) => {
    const s = start.getTime() > t.start.getTime() ? start : t.start;
    if (!found.start || s.getTime() < found.start.getTime()) found.start = s;
    const e = end.getTime() < t.end.getTime() ? end : t.end;
    if (!found.end || e.getTime() > found.end.getTime()) found.end = e;
  };

  // what the extra checks need
  const valid: CoveredDigest[] = [];
  let interval: number | undefined;
  let missingRun: { bucket: string; key: string; end: Date } | undefined;

  let listing = await listDigests(t.bucket, t.start, t.end);
  keys = await deps.publicKeys(t.start, new Date(t.end.getTime() + 2 * HOUR));
  if (keys.size === 0) {
    throw new ValidationAbort(
      `No public keys found between ${displayTime(t.start)} and ${displayTime(new Date(t.end.getTime() + 2 * HOUR))}`,
    );
  }

  let bucket = t.bucket;
  const first = nextListed(listing);
  let key = first?.key;
  let endDate = first?.end;
  let lastStart = endDate;
  // the valid digest whose link led to `key`
  let linkedFrom: { bucket: string; key: string; hash: unknown; signature: unknown } | undefined;

  while (key !== undefined && lastStart !== undefined && t.start.getTime() <= lastStart.getTime()) {
    await backpressure();
    prefetchBelow(listing, key);
    const read = await takeDigest(bucket, key);
    digestsSeen++;
    const from = linkedFrom;
    linkedFrom = undefined;
    if (from && read.kind !== "missing" && read.sha256 !== undefined) {
      const hashOk = from.hash === read.sha256;
      const signatureOk = read.signature !== undefined && from.signature === read.signature;
      if (!hashOk || !signatureOk) {
        const what = hashOk ? "previousDigestSignature" : "previousDigestHashValue";
        emit({
          line: `Digest file\ts3://${from.bucket}/${from.key}\tINVALID: ${what} does not match s3://${bucket}/${key}`,
          error: true,
          tally: "brokenLink",
        });
      }
    }
    if (read.kind !== "valid") {
      if (read.kind === "missing") {
        emit({
          line: `Digest file\ts3://${bucket}/${key}\tINVALID: not found`,
          error: true,
          tally: "invalidDigest",
        });
        // a link to a missing digest: it was not the last of its chain, so its length is the interval
        if (from) missingRun = { bucket, key, end: stampTime(digestKeyStamp(key)) ?? new Date(0) };
      } else {
        emit({ line: read.message, error: true, tally: "invalidDigest" });
      }
      const next = nextListed(listing, key);
      key = next?.key;
      endDate = next?.end;
      continue;
    }

    lastStart = read.start;
    endDate = read.end;
    track(read.start, read.end);
    const length = read.end.getTime() - read.start.getTime();
    if (from) interval ??= length;
    if (missingRun && !from) {
      emit(runOfMissing(missingRun, read.end, length));
      missingRun = undefined;
    }
    valid.push({ bucket, key, start: read.start, end: read.end, logFiles: read.logFiles });
    emit({ line: `Digest file\ts3://${bucket}/${key}\tvalid`, error: false, tally: "validDigest" });
    for (const log of read.logFiles) {
      await backpressure();
      emit(pool.run(() => checkLogFile(reader, log)));
    }

    const prevBucket = read.doc.previousDigestS3Bucket;
    const prevKey = read.doc.previousDigestS3Object;
    if (prevBucket === null || prevBucket === undefined || prevKey === null || prevKey === undefined) {
      const next = nextListed(listing, key);
      if (next) {
        emit({
          line: `No log files were delivered by CloudTrail between ${displayTime(next.end)} and ${displayTime(read.start)}`,
          error: true,
        });
      }
      key = next?.key;
      endDate = next?.end;
      continue;
    }
    linkedFrom = {
      bucket,
      key,
      hash: read.doc.previousDigestHashValue,
      signature: read.doc.previousDigestSignature,
    };
    key = String(prevKey);
    if (String(prevBucket) !== bucket) {
      bucket = String(prevBucket);
      listing = await listDigests(bucket, t.start, endDate);
    }
  }

  /**
   * After a missing digest the walk goes on with the next older listed one. When that one is no
   * chain end (its length is the interval) and more than one interval lies between it and the
   * missing digest, the digests in between are missing too; their keys follow from the interval.
   */
  function runOfMissing(
    run: { bucket: string; key: string; end: Date },
    olderEnd: Date,
    olderLength: number,
  ) {
    const step = interval ?? HOUR;
    const verdicts: Verdict[] = [];
    if (olderLength !== step) return verdicts;
    const runHead = run.key.slice(0, run.key.indexOf("AWSLogs/"));
    for (let at = olderEnd.getTime() + step; at < run.end.getTime(); at += step) {
      const k = digestKey({
        prefix: runHead === "" ? undefined : runHead.slice(0, -1),
        accountId: t.accountId,
        region: t.region,
        trailName: t.trailName,
        homeRegion: t.homeRegion,
        endTime: new Date(at),
      });
      verdicts.push({
        line: `Digest file\ts3://${run.bucket}/${k}\tINVALID: not found`,
        error: true,
        tally: "missingDigestRun",
      });
    }
    return verdicts;
  }

  for (const key of await unlistedLogFiles(reader, t, valid)) {
    emit({
      line: `Log file\ts3://${key.bucket}/${key.key}\tINVALID: not listed in any digest`,
      error: true,
      tally: "unlistedLog",
    });
  }
  await tail;
  if (failure !== undefined) throw failure;
  report.summary(
    t.start,
    t.end,
    found.start && found.end ? { start: found.start, end: found.end } : undefined,
  );
}
