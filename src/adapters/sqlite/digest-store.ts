import type { Database, Statement } from "better-sqlite3";
import type { DigestChain, DigestChainStore } from "../../ports/index.ts";
import { type ChainRow, toChain, toChainRow as toRow } from "../sql/digest-rows.ts";

/** Digest chain state in the service's SQLite database. */
export class SqliteDigestStore implements DigestChainStore {
  readonly #all: Statement<[], ChainRow>;
  readonly #put: Statement<ChainRow>;

  constructor(db: Database) {
    this.#all = db.prepare("SELECT * FROM digest_chains ORDER BY trail_arn, region");
    this.#put = db.prepare(
      `INSERT OR REPLACE INTO digest_chains
         (trail_arn, region, account_id, trail_name, home_region, bucket, prefix, period_start, closed_at,
          prev_bucket, prev_key, prev_signature, prev_sha256)
       VALUES (@trail_arn, @region, @account_id, @trail_name, @home_region, @bucket, @prefix, @period_start,
          @closed_at, @prev_bucket, @prev_key, @prev_signature, @prev_sha256)`,
    );
  }

  async chains(): Promise<DigestChain[]> {
    return this.#all.all().map(toChain);
  }

  async saveChain(chain: DigestChain): Promise<void> {
    this.#put.run(toRow(chain));
  }
}
