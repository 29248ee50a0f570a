import type pg from "pg";
import { fingerprint, publicKeyDer } from "../../domain/digest.ts";
import type { DigestPublicKey, DigestSigningKey, KeyStore } from "../../ports/index.ts";
import {
  generateRsaKeyPem,
  type KeyRow,
  type KeyStoreOptions,
  PUBLIC_KEY_COLUMNS as PUBLIC_COLUMNS,
  rotationOf,
  toPublicKey as toPublic,
} from "../sql/signing-keys.ts";
import { inTransaction, LOCK_SPACE } from "./pool.ts";

// the newest start wins when windows overlap (a key made while the clock stood earlier)
const ACTIVE = `SELECT * FROM signing_keys
  WHERE region = $1 AND private_key IS NOT NULL AND valid_from <= $2 AND $2 < valid_to
  ORDER BY valid_from DESC, id DESC LIMIT 1`;

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

/**
 * Signing keys in PostgreSQL, with SQLite's rules: a key is generated outside any transaction
 * (~100 ms), one caller per region at a time in this process; the insert re-checks under a
 * per-region advisory lock, so of two nodes making a key at once one wins and the other drops its own.
 */
export class PgKeyStore implements KeyStore {
  readonly #pool: pg.Pool;
  readonly #rotationMs: number;
  readonly #generate: () => Promise<string>;
  readonly #turns = new Map<string, Promise<void>>();

  constructor(pool: pg.Pool, options: KeyStoreOptions = {}) {
    this.#pool = pool;
    this.#rotationMs = rotationOf(options);
    this.#generate = options.generate ?? generateRsaKeyPem;
  }

  async activeKey(region: string, now: Date): Promise<DigestSigningKey> {
    const at = now.getTime();
    if (!Number.isFinite(at)) throw new Error("activeKey needs a valid time");
    // this process's callers of one region take turns, so they share one new key; the database
    // lock in #create does the same between processes
    const previous = this.#turns.get(region) ?? Promise.resolve();
    const turn = previous.then(async () => {
      const found = await current(this.#pool, region, at);
      if (found) return found;
      await this.#create(region, at);
      const made = await current(this.#pool, region, at);
      if (!made) throw new Error(`no signing key for ${region} after making one`);
      return made;
    });
    const tail = turn.then(
      () => {},
      () => {},
    );
    this.#turns.set(region, tail);
    try {
      return await turn;
    } finally {
      if (this.#turns.get(region) === tail) this.#turns.delete(region);
    }
  }

  async publicKeys(region: string, start: Date, end: Date): Promise<DigestPublicKey[]> {
    const { rows } = await this.#pool.query<KeyRow>(
      `SELECT ${PUBLIC_COLUMNS} FROM signing_keys
       WHERE region = $1 AND valid_from <= $3 AND valid_to >= $2 ORDER BY valid_from, id`,
      [region, start.getTime(), end.getTime()],
    );
    return rows.map(toPublic);
  }

  async keyByFingerprint(fp: string): Promise<DigestPublicKey | undefined> {
    const { rows } = await this.#pool.query<KeyRow>(
      `SELECT ${PUBLIC_COLUMNS} FROM signing_keys WHERE fingerprint = $1`,
      [fp],
    );
    return rows[0] && toPublic(rows[0]);
  }

  async #create(region: string, at: number): Promise<void> {
    const pem = await this.#generate();
    const der = publicKeyDer(pem);
    // ListPublicKeys shows whole seconds, as AWS does
    const validFrom = Math.floor(at / 1000) * 1000;
    await inTransaction(this.#pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LOCK_SPACE, `keys:${region}`]);
      if (await current(client, region, at)) return;
      await client.query("UPDATE signing_keys SET private_key = NULL WHERE region = $1 AND valid_to <= $2", [
        region,
        at,
      ]);
      await client.query(
        `INSERT INTO signing_keys (region, fingerprint, public_key, private_key, valid_from, valid_to)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [region, fingerprint(der), der, pem, validFrom, validFrom + this.#rotationMs],
      );
    });
  }
}

async function current(db: Queryable, region: string, at: number): Promise<DigestSigningKey | undefined> {
  const { rows } = await db.query<KeyRow>(ACTIVE, [region, at]);
  const row = rows[0];
  return row?.private_key ? { ...toPublic(row), privateKeyPem: row.private_key } : undefined;
}
