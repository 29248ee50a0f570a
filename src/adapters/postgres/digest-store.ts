import type pg from "pg";
import type { DigestChain, DigestChainStore } from "../../ports/index.ts";
import { type ChainRow, CHAIN_COLUMNS as COLUMNS, toChain, toChainRow } from "../sql/digest-rows.ts";

function toValues(c: DigestChain): ChainRow[keyof ChainRow][] {
  const row = toChainRow(c);
  return COLUMNS.map((column) => row[column]);
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
