import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ObjectStore } from "../../src/ports/index.ts";

/** A store under test and the means to arrange its buckets from outside the port. */
export interface ObjectStoreFixture {
  store: ObjectStore;
  createBucket(bucket: string): Promise<void>;
  /** Where the backend can express it: leave the bucket there but make it unwritable. */
  denyBucket?(bucket: string): Promise<void>;
  /** Where an S3 stand-in behaves unlike S3; the suite then checks less. */
  quirks?: StoreQuirks;
  close(): Promise<void>;
}

export interface StoreQuirks {
  /** Keys come in the order the server's file system gives, not sorted. */
  unorderedListing?: boolean;
  /** StartAfter compares UTF-16 code units, so keys above U+FFFF sort wrong against it. */
  utf16StartAfter?: boolean;
  /** A listing of more than one page fails. */
  noListPaging?: boolean;
  /** A put is answered before its bytes are written, so racing puts of one key may tear it. */
  answersBeforeWritten?: boolean;
}

let counter = 0;

/**
 * A bucket name no other test of this process uses, so fixtures may share one server. Names stay
 * valid S3 names (lower case, digits, hyphens, 3–63 characters).
 */
function uniqueBucket(label: string): string {
  counter += 1;
  return `ot-${label}-${counter}`;
}

export async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out;
}

/** S3's key order: UTF-8 bytes, not JavaScript's UTF-16 code units. */
export function byteOrder(keys: string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A gzipped log-file-like body whose bytes cover the whole 0–255 range. */
export function gzipBody(seed: number): Buffer {
  const records = Array.from({ length: 20 }, (_, i) => ({ eventID: `${seed}-${i}`, n: i * seed }));
  return gzipSync(JSON.stringify({ Records: records }));
}

const SIGNATURE = "ab".repeat(256);

/** A placement no other key of a test shares, so puts may run many at a time. */
async function putAll(store: ObjectStore, bucket: string, keys: string[], body: Buffer): Promise<void> {
  const queue = [...keys];
  const worker = async () => {
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      await store.putObject(bucket, key, body);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** What every ObjectStore must do; run it from each adapter's test file. */
export function objectStoreContract(name: string, make: () => Promise<ObjectStoreFixture>): void {
  describe(`ObjectStore contract: ${name}`, () => {
    let fx: ObjectStoreFixture;

    beforeEach(async () => {
      fx = await make();
    });

    afterEach(async () => {
      await fx.close();
    });

    describe("probeBucket", () => {
      it("answers ok for an existing bucket", async () => {
        const bucket = uniqueBucket("ok");
        await fx.createBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("ok");
      });

      it("answers missing for a bucket that does not exist", async () => {
        expect(await fx.store.probeBucket(uniqueBucket("missing"))).toBe("missing");
      });

      it("sees a bucket created after a probe found it missing", async () => {
        const bucket = uniqueBucket("late");
        expect(await fx.store.probeBucket(bucket)).toBe("missing");
        await fx.createBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("ok");
      });

      it("tells buckets apart", async () => {
        const present = uniqueBucket("present");
        await fx.createBucket(present);
        expect(await fx.store.probeBucket(`${present}-x`)).toBe("missing");
      });

      it("answers denied for a bucket the service may not write to", async (ctx) => {
        if (fx.denyBucket === undefined) {
          ctx.skip();
          return;
        }
        const bucket = uniqueBucket("denied");
        await fx.createBucket(bucket);
        await fx.denyBucket(bucket);
        expect(await fx.store.probeBucket(bucket)).toBe("denied");
      });
    });

    describe("putObject and getObject", () => {
      let bucket: string;

      beforeEach(async () => {
        bucket = uniqueBucket("obj");
        await fx.createBucket(bucket);
      });

      it("gives back the exact bytes and content headers of a gzipped log file", async () => {
        const body = gzipBody(7);
        const key =
          "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x_CloudTrail_us-east-1_20240501T1200Z_a.json.gz";
        await fx.store.putObject(bucket, key, body, {
          contentType: "application/json",
          contentEncoding: "gzip",
        });
        const got = await fx.store.getObject(bucket, key);
        expect(got?.body.equals(body)).toBe(true);
        expect(got).toMatchObject({ contentType: "application/json", contentEncoding: "gzip", metadata: {} });
      });

      it("keeps every byte value", async () => {
        const body = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
        await fx.store.putObject(bucket, "bytes.bin", body);
        expect((await fx.store.getObject(bucket, "bytes.bin"))?.body.equals(body)).toBe(true);
      });

      it("keeps an empty body", async () => {
        await fx.store.putObject(bucket, "empty", Buffer.alloc(0));
        expect((await fx.store.getObject(bucket, "empty"))?.body.length).toBe(0);
      });

      it("gives back user metadata with lower-case names, as boto3 shows Metadata['signature']", async () => {
        await fx.store.putObject(bucket, "d/digest.json.gz", gzipBody(1), {
          contentType: "application/json",
          contentEncoding: "gzip",
          metadata: { signature: SIGNATURE, "Signature-Algorithm": "SHA256withRSA" },
        });
        const got = await fx.store.getObject(bucket, "d/digest.json.gz");
        expect(got?.metadata).toEqual({ signature: SIGNATURE, "signature-algorithm": "SHA256withRSA" });
      });

      it("accepts a KMS key id", async () => {
        const kmsKeyId = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        await fx.store.putObject(bucket, "kms.json.gz", gzipBody(2), { kmsKeyId });
        expect((await fx.store.getObject(bucket, "kms.json.gz"))?.body.equals(gzipBody(2))).toBe(true);
      });

      it("answers undefined for a key that does not exist", async () => {
        await fx.store.putObject(bucket, "a/present", Buffer.from("x"));
        for (const key of ["absent", "a/present/below", "a", "a/presen"]) {
          expect(await fx.store.getObject(bucket, key), key).toBeUndefined();
        }
      });

      it("fails with NoSuchBucket for a bucket that does not exist", async () => {
        const missing = uniqueBucket("nobucket");
        await expect(fx.store.putObject(missing, "k", Buffer.from("x"))).rejects.toMatchObject({
          name: "ObjectStoreError",
          code: "NoSuchBucket",
        });
        await expect(fx.store.getObject(missing, "k")).rejects.toMatchObject({ code: "NoSuchBucket" });
        await expect(collect(fx.store.listKeys(missing, ""))).rejects.toMatchObject({ code: "NoSuchBucket" });
      });

      it("fails with AccessDenied for a bucket the service may not write to", async (ctx) => {
        if (fx.denyBucket === undefined) {
          ctx.skip();
          return;
        }
        await fx.denyBucket(bucket);
        await expect(fx.store.putObject(bucket, "a/k", Buffer.from("x"))).rejects.toMatchObject({
          code: "AccessDenied",
        });
      });

      it("takes the same put again (a retried delivery) and keeps one object", async () => {
        const body = gzipBody(3);
        const opts = { contentEncoding: "gzip", metadata: { signature: SIGNATURE } };
        await fx.store.putObject(bucket, "r/k.json.gz", body, opts);
        await fx.store.putObject(bucket, "r/k.json.gz", body, opts);
        if (fx.quirks?.answersBeforeWritten !== true) {
          await Promise.all([1, 2, 3].map(() => fx.store.putObject(bucket, "r/k.json.gz", body, opts)));
        }
        const got = await fx.store.getObject(bucket, "r/k.json.gz");
        expect(got?.body.equals(body)).toBe(true);
        expect(got?.metadata).toEqual({ signature: SIGNATURE });
        expect(await collect(fx.store.listKeys(bucket, "r/"))).toEqual(["r/k.json.gz"]);
      });

      it("replaces body and metadata when a key is put with other ones", async () => {
        await fx.store.putObject(bucket, "k", Buffer.from("one"), { metadata: { signature: "1" } });
        await fx.store.putObject(bucket, "k", Buffer.from("two"), { contentType: "text/plain" });
        const got = await fx.store.getObject(bucket, "k");
        expect(got?.body.toString()).toBe("two");
        expect(got?.metadata).toEqual({});
        expect(got?.contentType).toBe("text/plain");
      });

      it("deletes an object, and deleting a missing key succeeds", async () => {
        await fx.store.putObject(bucket, "x/y.json.gz", gzipBody(4), { metadata: { signature: "s" } });
        await fx.store.deleteObject(bucket, "x/y.json.gz");
        expect(await fx.store.getObject(bucket, "x/y.json.gz")).toBeUndefined();
        expect(await collect(fx.store.listKeys(bucket, ""))).toEqual([]);
        await fx.store.deleteObject(bucket, "x/y.json.gz");
        await fx.store.deleteObject(bucket, "never/was");
      });
    });

    describe("listKeys", () => {
      let bucket: string;
      // S3's order written out; no key is a folder of another, which a file system could not hold.
      const ordered = [
        "A",
        "a-c",
        "a.b",
        "a/b",
        "a/c/d",
        "b",
        "sp ace/k+1=2",
        "z",
        "é",
        "\uFF21",
        "\u{1F600}",
      ];

      beforeEach(async () => {
        bucket = uniqueBucket("list");
        await fx.createBucket(bucket);
        await putAll(fx.store, bucket, [...ordered].reverse(), Buffer.from("v"));
      });

      const list = async (prefix: string, startAfter?: string) => {
        const got = await collect(fx.store.listKeys(bucket, prefix, startAfter));
        return fx.quirks?.unorderedListing === true ? byteOrder(got) : got;
      };

      it("lists every key in UTF-8 byte order", async () => {
        expect(byteOrder(ordered)).toEqual(ordered);
        expect(await list("")).toEqual(ordered);
      });

      it("lists the keys that start with a prefix, folder or not", async () => {
        expect(await list("a/")).toEqual(["a/b", "a/c/d"]);
        expect(await list("a")).toEqual(["a-c", "a.b", "a/b", "a/c/d"]);
        expect(await list("a/c")).toEqual(["a/c/d"]);
        expect(await list("a/c/d")).toEqual(["a/c/d"]);
        expect(await list("sp ace/")).toEqual(["sp ace/k+1=2"]);
        expect(await list("q")).toEqual([]);
      });

      it("starts after a key, present or not", async () => {
        expect(await list("", "a.b")).toEqual(ordered.slice(3));
        expect(await list("a", "a/")).toEqual(["a/b", "a/c/d"]);
        expect(await list("a", "a/bb")).toEqual(["a/c/d"]);
        if (fx.quirks?.utf16StartAfter !== true) {
          expect(await list("", "\uFF21")).toEqual(["\u{1F600}"]);
          expect(await list("", "\u{1F600}")).toEqual([]);
        }
        expect(await list("a/", "")).toEqual(["a/b", "a/c/d"]);
      });

      it("finds digests the way validate-logs does: a prefix and a marker a minute before the start", async () => {
        const base = "p/AWSLogs/111122223333/CloudTrail-Digest/us-east-1";
        const name = (day: string, time: string) =>
          `${base}/2024/05/${day}/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_202405${day}T${time}Z.json.gz`;
        const digests = [
          name("01", "230000"),
          name("02", "000000"),
          name("02", "010000"),
          name("10", "000000"),
        ];
        await putAll(fx.store, bucket, digests, gzipBody(5));
        const other = `${base}-other/x.json.gz`;
        await fx.store.putObject(bucket, other, gzipBody(6));
        expect(await list(base, name("01", "235900"))).toEqual(digests.slice(1));
        // The CLI's prefix has no trailing "/", so a sibling folder with a longer name comes along.
        expect(await list(base)).toEqual([other, ...digests]);
        expect(await list(`${base}/`)).toEqual(digests);
      });

      it("pages through 2,000 keys", async (ctx) => {
        if (fx.quirks?.noListPaging === true) {
          ctx.skip();
          return;
        }
        const many = Array.from({ length: 2_000 }, (_, i) => `many/${i % 7}/${i}.json.gz`);
        await putAll(fx.store, bucket, many, Buffer.from("v"));
        const sorted = byteOrder(many);
        expect(await list("many/")).toEqual(sorted);
        expect(await list("many/", sorted[1_200])).toEqual(sorted.slice(1_201));
      });
    });
  });
}
