import type { Database, Statement } from "better-sqlite3";
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

export { DEFAULT_KEY_ROTATION_MS, generateRsaKeyPem } from "../sql/signing-keys.ts";

export type SqliteKeyStoreOptions = KeyStoreOptions;

/**
 * Signing keys in SQLite. Generating a key takes ~100 ms, so it happens outside any transaction;
 * one generation per region runs at a time in this process, and the insert re-checks inside an
 * IMMEDIATE transaction, so another process that got there first wins and the spare key is dropped.
 */
export class SqliteKeyStore implements KeyStore {
  readonly #db: Database;
  readonly #rotationMs: number;
  readonly #generate: () => Promise<string>;
  readonly #flights = new Map<string, Promise<void>>();
  readonly #active: Statement<{ region: string; now: number }, KeyRow>;
  readonly #overlapping: Statement<{ region: string; start: number; end: number }, KeyRow>;
  readonly #byFingerprint: Statement<[string], KeyRow>;
  readonly #insert: Statement<Omit<KeyRow, "id">>;
  readonly #retire: Statement<{ region: string; now: number }>;

  constructor(db: Database, options: SqliteKeyStoreOptions = {}) {
    this.#db = db;
    this.#rotationMs = rotationOf(options);
    this.#generate = options.generate ?? generateRsaKeyPem;
    // the newest start wins when windows overlap (a key made while the clock stood earlier)
    this.#active = db.prepare(
      `SELECT * FROM signing_keys
       WHERE region = @region AND private_key IS NOT NULL AND valid_from <= @now AND @now < valid_to
       ORDER BY valid_from DESC, id DESC LIMIT 1`,
    );
    this.#overlapping = db.prepare(
      `SELECT ${PUBLIC_COLUMNS} FROM signing_keys
       WHERE region = @region AND valid_from <= @end AND valid_to >= @start
       ORDER BY valid_from, id`,
    );
    this.#byFingerprint = db.prepare(`SELECT ${PUBLIC_COLUMNS} FROM signing_keys WHERE fingerprint = ?`);
    this.#insert = db.prepare(
      `INSERT INTO signing_keys (region, fingerprint, public_key, private_key, valid_from, valid_to)
       VALUES (@region, @fingerprint, @public_key, @private_key, @valid_from, @valid_to)`,
    );
    this.#retire = db.prepare(
      "UPDATE signing_keys SET private_key = NULL WHERE region = @region AND valid_to <= @now",
    );
  }

  async activeKey(region: string, now: Date): Promise<DigestSigningKey> {
    const at = now.getTime();
    if (!Number.isFinite(at)) throw new Error("activeKey needs a valid time");
    for (;;) {
      const found = this.#current(region, at);
      if (found) return found;
      // a caller whose `now` the joined flight's key does not cover goes round again
      let flight = this.#flights.get(region);
      if (!flight) {
        flight = this.#create(region, at).finally(() => this.#flights.delete(region));
        this.#flights.set(region, flight);
      }
      await flight;
    }
  }

  async publicKeys(region: string, start: Date, end: Date): Promise<DigestPublicKey[]> {
    return this.#overlapping.all({ region, start: start.getTime(), end: end.getTime() }).map(toPublic);
  }

  async keyByFingerprint(fp: string): Promise<DigestPublicKey | undefined> {
    const row = this.#byFingerprint.get(fp);
    return row ? toPublic(row) : undefined;
  }

  #current(region: string, at: number): DigestSigningKey | undefined {
    const row = this.#active.get({ region, now: at });
    return row?.private_key ? { ...toPublic(row), privateKeyPem: row.private_key } : undefined;
  }

  async #create(region: string, at: number): Promise<void> {
    const pem = await this.#generate();
    const der = publicKeyDer(pem);
    // ListPublicKeys shows whole seconds, as AWS does
    const validFrom = Math.floor(at / 1000) * 1000;
    const insert = this.#db.transaction(() => {
      if (this.#current(region, at)) return;
      this.#retire.run({ region, now: at });
      this.#insert.run({
        region,
        fingerprint: fingerprint(der),
        public_key: der,
        private_key: pem,
        valid_from: validFrom,
        valid_to: validFrom + this.#rotationMs,
      });
    });
    insert.immediate();
  }
}
