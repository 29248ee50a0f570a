import type { DigestChain } from "../../ports/index.ts";

/** A digest chain as both SQL backends store it. */
export interface ChainRow {
  trail_arn: string;
  region: string;
  account_id: string;
  trail_name: string;
  home_region: string;
  bucket: string;
  prefix: string;
  period_start: number;
  closed_at: number | null;
  prev_bucket: string | null;
  prev_key: string | null;
  prev_signature: string | null;
  prev_sha256: string | null;
}

export function toChain(r: ChainRow): DigestChain {
  const hasPrevious =
    r.prev_bucket !== null && r.prev_key !== null && r.prev_signature !== null && r.prev_sha256 !== null;
  return {
    trailArn: r.trail_arn,
    region: r.region,
    accountId: r.account_id,
    trailName: r.trail_name,
    homeRegion: r.home_region,
    bucket: r.bucket,
    prefix: r.prefix,
    periodStart: new Date(r.period_start),
    ...(r.closed_at === null ? {} : { closedAt: new Date(r.closed_at) }),
    previous: hasPrevious
      ? { bucket: r.prev_bucket!, key: r.prev_key!, signature: r.prev_signature!, sha256: r.prev_sha256! }
      : null,
  };
}

export function toChainRow(c: DigestChain): ChainRow {
  return {
    trail_arn: c.trailArn,
    region: c.region,
    account_id: c.accountId,
    trail_name: c.trailName,
    home_region: c.homeRegion,
    bucket: c.bucket,
    prefix: c.prefix,
    period_start: c.periodStart.getTime(),
    closed_at: c.closedAt ? c.closedAt.getTime() : null,
    prev_bucket: c.previous?.bucket ?? null,
    prev_key: c.previous?.key ?? null,
    prev_signature: c.previous?.signature ?? null,
    prev_sha256: c.previous?.sha256 ?? null,
  };
}

/** The columns of a digest chain row, in the order both backends' tables have them. */
export const CHAIN_COLUMNS = [
  "trail_arn",
  "region",
  "account_id",
  "trail_name",
  "home_region",
  "bucket",
  "prefix",
  "period_start",
  "closed_at",
  "prev_bucket",
  "prev_key",
  "prev_signature",
  "prev_sha256",
] as const satisfies readonly (keyof ChainRow)[];
