import type { ObjectReader } from "../ports/index.ts";
import { walkChain } from "./chain.ts";
import type { PublicKeys } from "./digest-read.ts";
import { DigestCache } from "./fetch-cache.ts";
import { type DigestScope, listDigests } from "./listing.ts";
import { OrderedOutput } from "./output.ts";
import { createPool } from "./pool.ts";
import type { Report } from "./report.ts";
import { displayTime } from "./time.ts";
import { unlistedLogFiles } from "./unlisted.ts";

/**
 * `aws cloudtrail validate-logs` with the same verdicts in the same order, made fast: digests are
 * fetched ahead of the walk and log files hashed many at a time, while the verdicts still come out
 * in the walk's order. Three checks the AWS CLI does not make are added: runs of deleted digests,
 * wrong `previousDigestHashValue` links, and log files no digest lists.
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

/** The public keys of the range and the two hours after it; none at all is no validation. */
async function publicKeysFor(t: ValidateTarget, deps: ValidateDeps): Promise<PublicKeys> {
  const until = new Date(t.end.getTime() + 2 * HOUR);
  const keys = await deps.publicKeys(t.start, until);
  if (keys.size === 0) {
    throw new ValidationAbort(
      `No public keys found between ${displayTime(t.start)} and ${displayTime(until)}`,
    );
  }
  return keys;
}

export async function validateLogs(t: ValidateTarget, deps: ValidateDeps): Promise<void> {
  const { reader, report } = deps;
  const pool = createPool(deps.concurrency);
  const scope: DigestScope = {
    prefix: t.prefix,
    accountId: t.accountId,
    region: t.region,
    trailName: t.trailName,
    homeRegion: t.homeRegion,
  };
  const seen = { listed: 0, digests: 0 };
  const list = async (bucket: string, end: Date) => {
    const listing = await listDigests(reader, scope, bucket, t.start, end);
    seen.listed += listing.keys.length;
    return listing;
  };
  const output: OrderedOutput = new OrderedOutput(report, () =>
    deps.onProgress?.({ ...seen, logs: output.logs, pending: output.pending }),
  );

  const listing = await list(t.bucket, t.end);
  const cache = new DigestCache(reader, pool, await publicKeysFor(t, deps), t.homeRegion);
  const range = { start: t.start, end: t.end };
  const walk = { scope, range, reader, pool, cache, output, list, onDigest: () => seen.digests++ };
  const findings = await walkChain(walk, listing);
  for (const key of await unlistedLogFiles(reader, t, findings.valid, findings.listed)) {
    output.emit({
      line: `Log file\ts3://${key.bucket}/${key.key}\tINVALID: not listed in any digest`,
      error: true,
      tally: "unlistedLog",
    });
  }
  await output.finish();
  report.summary(t.start, t.end, findings.found);
}

export { parseCliTrailArn } from "../domain/names.ts";
export type { ObjectReader } from "../ports/objects.ts";
