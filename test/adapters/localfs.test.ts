import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openObjectStore } from "../../src/adapters/index.ts";
import { LocalFsObjectStore } from "../../src/adapters/localfs/object-store.ts";
import { localObjectReader } from "../../src/adapters/localfs/reader.ts";
import { objectReaderContract } from "./object-reader.contract.ts";
import { collect, gzipBody, objectStoreContract } from "./object-store.contract.ts";

const tempRoot = () => mkdtemp(join(tmpdir(), "opentrail-localfs-"));

objectStoreContract("LocalFsObjectStore", async () => {
  const root = await tempRoot();
  const store = new LocalFsObjectStore(root);
  return {
    store,
    createBucket: (bucket) => mkdir(join(root, bucket)),
    // A plain file where the bucket directory should be: unwritable as a bucket even for root,
    // which file modes would not stop.
    async denyBucket(bucket) {
      await rm(join(root, bucket), { recursive: true });
      await writeFile(join(root, bucket), "");
    },
    async close() {
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

objectReaderContract("localObjectReader", async () => {
  const root = await tempRoot();
  const writer = new LocalFsObjectStore(root);
  const reader = localObjectReader(root);
  return {
    reader,
    writer,
    createBucket: (bucket) => mkdir(join(root, bucket)),
    async close() {
      await reader.close();
      await writer.close();
      await rm(root, { recursive: true, force: true });
    },
  };
});

describe("LocalFsObjectStore", () => {
  let root: string;
  let store: LocalFsObjectStore;

  beforeEach(async () => {
    root = await tempRoot();
    store = new LocalFsObjectStore(root);
  });

  afterEach(async () => {
    await chmod(root, 0o700).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  it("never looks outside its root", async () => {
    await mkdir(join(root, "inner", "bucket"), { recursive: true });
    const inner = new LocalFsObjectStore(join(root, "inner"));
    for (const name of ["..", ".", "", "bucket/..", "../inner", "a\\b"]) {
      expect(await inner.probeBucket(name), name).toBe("missing");
    }
    expect(await inner.probeBucket("bucket")).toBe("ok");
  });

  it("answers missing when the root itself does not exist", async () => {
    expect(await new LocalFsObjectStore(join(root, "absent")).probeBucket("b")).toBe("missing");
  });

  it("answers denied for a directory without write permission", async (ctx) => {
    // root may write anywhere, so the check can only be seen as another user.
    if (process.getuid?.() === 0) {
      ctx.skip();
      return;
    }
    await mkdir(join(root, "readonly"));
    await chmod(join(root, "readonly"), 0o500);
    expect(await store.probeBucket("readonly")).toBe("denied");
    await expect(store.putObject("readonly", "k", Buffer.from("x"))).rejects.toMatchObject({
      code: "AccessDenied",
    });
  });

  describe("objects as files", () => {
    const key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz";
    const folder = () => join(root, "b", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01");

    beforeEach(async () => {
      await mkdir(join(root, "b"));
    });

    it("writes the object at its key's path, its metadata out of the bucket, and nothing else", async () => {
      const body = gzipBody(1);
      await store.putObject("b", key, body, {
        contentType: "application/json",
        contentEncoding: "gzip",
        metadata: { signature: "00ff", "signature-algorithm": "SHA256withRSA" },
        kmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/k",
      });
      expect((await readFile(join(root, "b", key))).equals(body)).toBe(true);
      expect(JSON.parse(await readFile(join(root, ".metadata", "b", key), "utf8"))).toEqual({
        signature: "00ff",
        "signature-algorithm": "SHA256withRSA",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        "X-Amz-Server-Side-Encryption": "aws:kms",
        "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "arn:aws:kms:us-east-1:111122223333:key/k",
      });
      expect(await readdir(folder())).toEqual(["d.json.gz"]);
      expect((await readdir(root)).sort()).toEqual([".metadata", "b"]);
    });

    it("writes metadata even without any, so the object's headers are known", async () => {
      await store.putObject("b", "plain", Buffer.from("x"));
      expect(JSON.parse(await readFile(join(root, ".metadata", "b", "plain"), "utf8"))).toEqual({});
    });

    it("lists neither old sidecars nor temp files a crash left behind", async () => {
      await store.putObject("b", key, gzipBody(2), { metadata: { signature: "s" } });
      await writeFile(join(folder(), "d.json.gz.0123456789abcdef.tmp"), "torn");
      await writeFile(join(folder(), "e.json.gz.metadata.json.fedcba9876543210.tmp"), "{");
      expect(await collect(store.listKeys("b", ""))).toEqual([key]);
      await store.putObject("b", key, gzipBody(2), { metadata: { signature: "s" } });
      expect((await store.getObject("b", key))?.body.equals(gzipBody(2))).toBe(true);
    });

    it("removes at start-up the temp files a crash left, and only those (issue 13, item 8)", async () => {
      await store.putObject("b", key, gzipBody(4));
      // an object whose key looks like a temp file is stored under an escaped name
      await store.putObject("b", "kept.0123456789abcdef.tmp", Buffer.from("object"));
      const torn = [
        join(folder(), "d.json.gz.0123456789abcdef.tmp"),
        join(folder(), "d.json.gz.metadata.json.fedcba9876543210.tmp"),
        join(root, "b", "x.00000000deadbeef.tmp"),
      ];
      for (const path of torn) await writeFile(path, "torn");
      // files of other naming: a user's, or in the root beside the buckets
      const others = [
        join(root, "b", "notes.tmp"),
        join(root, "b", "draft.0123.tmp"),
        join(root, "b", "a.0123456789ABCDEF.tmp"),
        join(root, "b", "a.0123456789abcdef.tmp.bak"),
        join(root, "top.0123456789abcdef.tmp"),
      ];
      for (const path of others) await writeFile(path, "mine");
      const reopened = await openObjectStore({ kind: "local", root });
      for (const path of torn) await expect(readFile(path), path).rejects.toMatchObject({ code: "ENOENT" });
      for (const path of others) expect(await readFile(path, "utf8"), path).toBe("mine");
      expect((await reopened.getObject("b", key))?.body.equals(gzipBody(4))).toBe(true);
      expect((await reopened.getObject("b", "kept.0123456789abcdef.tmp"))?.body.toString()).toBe("object");
      await reopened.close();
    });

    it("reads an object without a sidecar, or with a spoilt one, as having no metadata", async () => {
      await store.putObject("b", key, gzipBody(3), {
        contentType: "application/json",
        metadata: { signature: "s" },
      });
      await writeFile(join(root, ".metadata", "b", key), "{not json");
      expect(await store.getObject("b", key)).toMatchObject({ metadata: {} });
      expect((await store.getObject("b", key))?.contentType).toBeUndefined();
      await rm(join(root, ".metadata", "b", key));
      expect((await store.getObject("b", key))?.body.equals(gzipBody(3))).toBe(true);
    });

    it("keeps keys with empty, '.' and '..' segments and reserved names as objects of their own, inside the bucket", async () => {
      await writeFile(join(root, "outside"), "secret");
      // as S3 does: a prefix "logs/" gives "logs//AWSLogs/..."; nothing folds into another key
      const keys = [
        "../outside",
        "a/../../outside",
        "/abs",
        "a//b",
        "a/b",
        "./a",
        "a/.",
        "b/..",
        "x.metadata.json",
        "y.0123456789abcdef.tmp",
        "100%",
        "%2E",
        "%",
        "p%25q",
      ];
      for (const [i, key] of keys.entries()) await store.putObject("b", key, Buffer.from(`body ${i}`));
      for (const [i, key] of keys.entries()) {
        expect((await store.getObject("b", key))?.body.toString(), JSON.stringify(key)).toBe(`body ${i}`);
      }
      const listed: string[] = [];
      for await (const key of store.listKeys("b", "")) listed.push(key);
      expect(listed).toEqual([...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(await readFile(join(root, "outside"), "utf8")).toBe("secret");
      for (const key of keys) await store.deleteObject("b", key);
      for (const key of keys) expect(await store.getObject("b", key), JSON.stringify(key)).toBeUndefined();
    });

    it("refuses the empty key and a key longer than S3 takes", async () => {
      await expect(store.putObject("b", "", Buffer.from("x"))).rejects.toMatchObject({
        code: "InvalidArgument",
      });
      expect(await store.getObject("b", "")).toBeUndefined();
      await store.deleteObject("b", "");
      await expect(store.putObject("b", "k".repeat(1025), Buffer.from("x"))).rejects.toMatchObject({
        code: "KeyTooLongError",
      });
      expect(await readdir(join(root, "b"))).toEqual([]);
    });

    // issue 13, item 7: S3 takes a segment of up to 1,024 bytes and NUL; a file name holds 255 bytes
    const long = "é".repeat(200);
    const keys = [
      `${long}/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/f.json.gz`,
      `${long}x/k`,
      `${"é".repeat(100)}a/k`,
      `${"é".repeat(100)}/k`,
      `${"é".repeat(99)}/k`,
      `${"b".repeat(200)}`,
      `${"b".repeat(201)}`,
      `${"a".repeat(200)}/k`,
      `${"a".repeat(200)}!`,
      `${"a".repeat(200)}0`,
      `${"a".repeat(201)}`,
      `${"a".repeat(199)}..`,
      `${"a".repeat(200)}..`,
      `${"%".repeat(300)}/k`,
      `${"a".repeat(198)}.metadata.json`,
      `${"a".repeat(1000)}.0123456789abcdef.tmp`,
      "nul\0in/the\0key",
      "\0",
      "a\0/\0b",
    ];
    const s3Order = (list: string[]) =>
      [...list].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

    it("writes keys with segments over 255 bytes and with NUL, reads and lists them back as they were", async () => {
      for (const [i, key] of keys.entries()) await store.putObject("b", key, Buffer.from(`body ${i}`));
      for (const [i, key] of keys.entries()) {
        expect((await store.getObject("b", key))?.body.toString(), JSON.stringify(key)).toBe(`body ${i}`);
      }
      expect(await collect(store.listKeys("b", ""))).toEqual(s3Order(keys));
      // prefixes and startAfter that fall inside a long segment's pieces
      for (const prefix of [long.slice(0, 150), long, `${"a".repeat(200)}`, "nul\0", "a\0"]) {
        expect(await collect(store.listKeys("b", prefix)), prefix).toEqual(
          s3Order(keys.filter((k) => k.startsWith(prefix))),
        );
      }
      const sorted = s3Order(keys);
      for (const after of [sorted[3]!, `${"a".repeat(200)}`, `${"a".repeat(200)}/`, long.slice(0, 120)]) {
        expect(await collect(store.listKeys("b", "", after)), after).toEqual(
          sorted.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0),
        );
      }
      // every name on disk fits, and nothing is written outside the bucket
      const names = await readdir(join(root, "b"), { recursive: true });
      for (const path of names)
        for (const n of path.split("/")) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(255);
      expect((await readdir(root)).sort()).toEqual([".metadata", "b"]);
      for (const key of keys) await store.deleteObject("b", key);
      for (const key of keys) expect(await store.getObject("b", key), JSON.stringify(key)).toBeUndefined();
      expect(await collect(store.listKeys("b", ""))).toEqual([]);
    });

    it("opens such keys through the local reader", async () => {
      const reader = localObjectReader(root);
      for (const [i, key] of keys.entries()) await store.putObject("b", key, Buffer.from(`body ${i}`));
      for (const [i, key] of keys.entries()) {
        const stream = await reader.openObject("b", key);
        expect(stream, JSON.stringify(key)).toBeDefined();
        const chunks: Buffer[] = [];
        for await (const c of stream!) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).toString()).toBe(`body ${i}`);
      }
      expect(await collect(reader.listKeys("b", ""))).toEqual(s3Order(keys));
      await reader.close();
    });

    it("refuses a key that is a folder of other keys, and leaves no temp file behind", async () => {
      await store.putObject("b", "a/b", Buffer.from("x"));
      await expect(store.putObject("b", "a", Buffer.from("y"))).rejects.toMatchObject({
        code: "InvalidArgument",
      });
      await expect(store.putObject("b", "a/b/c", Buffer.from("z"))).rejects.toMatchObject({
        code: "InvalidArgument",
      });
      expect(await readdir(join(root, "b"))).toEqual(["a"]);
      expect(await readdir(join(root, "b", "a"))).toEqual(["b"]);
      expect(await collect(store.listKeys("b", ""))).toEqual(["a/b"]);
    });

    it("does not bring back a bucket that was removed", async () => {
      await rm(join(root, "b"), { recursive: true });
      await expect(store.putObject("b", "x/y/z", Buffer.from("x"))).rejects.toMatchObject({
        code: "NoSuchBucket",
      });
      expect(await readdir(root)).toEqual([".metadata"]);
    });

    it("moves the sidecars of an older data directory out of the buckets, once", async () => {
      // the layout before: `<object>.metadata.json` beside each object
      await mkdir(folder(), { recursive: true });
      await writeFile(join(folder(), "d.json.gz"), gzipBody(4));
      await writeFile(
        join(folder(), "d.json.gz.metadata.json"),
        JSON.stringify({ signature: "old", "Content-Type": "application/json" }),
      );
      await writeFile(join(root, "b", "top"), "t");
      await writeFile(join(root, "b", "top.metadata.json"), "{}");
      const old = new LocalFsObjectStore(root);
      expect(await collect(old.listKeys("b", ""))).toEqual([key, "top"]);
      expect(await old.getObject("b", key)).toMatchObject({
        metadata: { signature: "old" },
        contentType: "application/json",
      });
      expect(await readdir(folder())).toEqual(["d.json.gz"]);
      expect(await readdir(join(root, "b"))).toEqual(["AWSLogs", "top"].sort());
      expect(JSON.parse(await readFile(join(root, ".metadata", "b", key), "utf8"))).toMatchObject({
        signature: "old",
      });
      // done once: a sidecar that turns up later is left where it is (and still never listed)
      await writeFile(join(root, "b", "late.metadata.json"), "{}");
      const again = new LocalFsObjectStore(root);
      expect(await collect(again.listKeys("b", ""))).toEqual([key, "top"]);
      expect((await readdir(join(root, "b"))).sort()).toEqual(["AWSLogs", "late.metadata.json", "top"]);
    });

    it("knows no bucket by a name that is no directory name", async () => {
      for (const bucket of ["..", "", "b/..", "a\\b", ".metadata", ".hidden"]) {
        await expect(store.putObject(bucket, "k", Buffer.from("x")), bucket).rejects.toMatchObject({
          code: "NoSuchBucket",
        });
      }
    });
  });
});
