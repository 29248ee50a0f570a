import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateRsaKeyPem, SqliteKeyStore } from "../../src/adapters/sqlite/key-store.ts";
import { deleteAllRows } from "../../src/adapters/sqlite/reset.ts";
import { sqliteOpener } from "../support/sqlite.ts";
import { countingGenerator, keyStoreContract } from "./key-store.contract.ts";

const open = sqliteOpener();

keyStoreContract(
  "SqliteKeyStore (:memory:)",
  async (setup) => new SqliteKeyStore(open(":memory:").db, setup),
);

const T0 = new Date("2024-03-05T12:00:00Z");

interface PrivateColumn {
  fingerprint: string;
  private_key: string | null;
}

describe("SqliteKeyStore on a file", () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "opentrail-keys-"));
    path = join(dir, "db.sqlite");
  });

  afterEach(() => {
    open.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is the `keys` of openSqlite and keeps the active key across close and reopen", async () => {
    const first = open(path);
    const key = await first.keys.activeKey("us-east-1", T0);
    first.close();
    const second = open(path);
    expect(await second.keys.activeKey("us-east-1", new Date(T0.getTime() + 1000))).toEqual(key);
  });

  it("takes the rotation period from openSqlite's options", async () => {
    const db = open(path, { keys: { rotationMs: 120_000 } });
    const key = await db.keys.activeKey("us-east-1", T0);
    expect(key.validTo.getTime() - key.validFrom.getTime()).toBe(120_000);
  });

  it("keeps one key when two connections make one at the same time", async () => {
    const a = open(path);
    const b = open(path);
    // both generate before either inserts: the second insert finds the first key and drops its own
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const gated = async () => {
      started += 1;
      if (started === 2) release();
      await bothStarted;
      return generateRsaKeyPem();
    };
    const storeA = new SqliteKeyStore(a.db, { generate: gated });
    const storeB = new SqliteKeyStore(b.db, { generate: gated });
    const [ka, kb] = await Promise.all([
      storeA.activeKey("us-east-1", T0),
      storeB.activeKey("us-east-1", T0),
    ]);
    expect(started).toBe(2);
    expect(kb).toEqual(ka);
    expect(a.db.prepare("SELECT count(*) AS n FROM signing_keys").get()).toEqual({ n: 1 });
  });

  it("forgets the private key of a key that has rotated out, and keeps its public key", async () => {
    const db = open(path);
    const keys = new SqliteKeyStore(db.db, { rotationMs: 60_000 });
    const old = await keys.activeKey("us-east-1", T0);
    const other = await keys.activeKey("eu-west-1", T0);
    const next = await keys.activeKey("us-east-1", old.validTo);
    const rows = db.db
      .prepare<[], PrivateColumn>("SELECT fingerprint, private_key FROM signing_keys ORDER BY id")
      .all();
    expect(rows.map((r) => [r.fingerprint, r.private_key === null])).toEqual([
      [old.fingerprint, true],
      // another region's key rotates on its own schedule
      [other.fingerprint, false],
      [next.fingerprint, false],
    ]);
    expect((await keys.keyByFingerprint(old.fingerprint))?.publicKeyDer).toEqual(old.publicKeyDer);
    // a caller whose clock stands before the rotation cannot sign with the retired key: it gets a new one
    const behind = await keys.activeKey("us-east-1", new Date(old.validTo.getTime() - 1000));
    expect([old.id, next.id]).not.toContain(behind.id);
  });

  it("makes a new key after a development reset emptied the table", async () => {
    const db = open(path);
    const gen = countingGenerator();
    const keys = new SqliteKeyStore(db.db, { generate: gen.generate });
    const before = await keys.activeKey("us-east-1", T0);
    deleteAllRows(db.db);
    const after = await keys.activeKey("us-east-1", T0);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(gen.calls).toBe(2);
  });

  it("refuses a rotation period that is not whole seconds", () => {
    const db = open(path);
    for (const rotationMs of [0, 999, 1500, -1000, Number.NaN]) {
      expect(() => new SqliteKeyStore(db.db, { rotationMs })).toThrow(/whole number of seconds/);
    }
  });
});
