import type pg from "pg";
import type { DigestChain, DigestChainStore } from "../../ports/index.ts";

interface ChainRow {
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

const COLUMNS = [
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

function toChain(r: ChainRow): DigestChain {
  const previous =
    r.prev_bucket !== null && r.prev_key !== null && r.prev_signature !== null && r.prev_sha256 !== null
      ? { bucket: r.prev_bucket, key: r.prev_key, signature: r.prev_signature, sha256: r.prev_sha256 }
      : null;
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
    previous,
  };
}

function toValues(c: DigestChain): ChainRow[keyof ChainRow][] {
  return [
    c.trailArn,
    c.region,
    c.accountId,
    c.trailName,
    c.homeRegion,
    c.bucket,
    c.prefix,
    c.periodStart.getTime(),
    c.closedAt ? c.closedAt.getTime() : null,
    c.previous?.bucket ?? null,
    c.previous?.key ?? null,
    c.previous?.signature ?? null,
    c.previous?.sha256 ?? null,
  ];
}

const UPSERT = `INSERT INTO digest_chains (${COLUMNS.join(", ")})
  VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})
  ON CONFLICT (trail_arn, region) DO UPDATE SET
  ${COLUMNS.slice(2)
    .map((c) => `${c} = excluded.${c}`)
    .join(", ")}`;

/** Digest chain state in PostgreSQL: one row per (trail, region), written whole. */
export class PgDigestStore implements DigestChainStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async chains(): Promise<DigestChain[]> {
    const { rows } = await this.#pool.query<ChainRow>(
      `SELECT ${COLUMNS.join(", ")} FROM digest_chains ORDER BY trail_arn, region`,
    );
    return rows.map(toChain);
  }

  async saveChain(chain: DigestChain): Promise<void> {
    await this.#pool.query(UPSERT, toValues(chain));
  }
}
