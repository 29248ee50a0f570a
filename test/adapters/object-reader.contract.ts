import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ObjectReader, type ObjectStore, ObjectStoreError } from "../../src/ports/index.ts";
import { byteOrder, collect, gzipBody, type StoreQuirks } from "./object-store.contract.ts";

/**
 * What every ObjectReader must do (validate-logs reads through it): the local directory and the
 * lean S3 reader on each S3 stand-in. The buckets are arranged through the matching ObjectStore,
 * so the suite sees only what the port promises.
 */
export interface ObjectReaderFixture {
  reader: ObjectReader;
  /** The store the reader reads: puts objects for the suite. */
  writer: ObjectStore;
  createBucket(bucket: string): Promise<void>;
  quirks?: StoreQuirks;
  close(): Promise<void>;
}

let counter = 0;
const uniqueBucket = () => `ot-reader-${++counter}`;

// Keys S3 orders by UTF-8 bytes, each needing some escaping in a path or in XML.
const KEYS = [
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/a b+c&d.json.gz",
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/plain.json.gz",
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x(1)!*'~.json.gz",
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/<tag>.json.gz",
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/\u00e9t\u00e9.json.gz",
  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/02/\u{1f600}.json.gz",
  "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz",
];

export function objectReaderContract(name: string, make: () => Promise<ObjectReaderFixture>): void {
  describe(`ObjectReader contract: ${name}`, () => {
    let fx: ObjectReaderFixture;
    let bucket: string;

    beforeEach(async () => {
      fx = await make();
      bucket = uniqueBucket();
      await fx.createBucket(bucket);
      for (const [i, key] of KEYS.entries()) {
        await fx.writer.putObject(bucket, key, gzipBody(i), {
          contentType: "application/json",
          contentEncoding: "gzip",
          metadata: { signature: `sig-${i}`, "signature-algorithm": "SHA256withRSA" },
        });
      }
    });

    afterEach(async () => {
      await fx.close();
    });

    const sorted = (keys: string[]) => (fx.quirks?.unorderedListing ? byteOrder(keys) : keys);

    it("lists every key in UTF-8 byte order", async () => {
      expect(sorted(await collect(fx.reader.listKeys(bucket, "")))).toEqual(byteOrder(KEYS));
    });

    it("lists the keys under a prefix, and after a key", async () => {
      const logs = "AWSLogs/111122223333/CloudTrail/";
      expect(sorted(await collect(fx.reader.listKeys(bucket, logs)))).toEqual(
        byteOrder(KEYS.filter((k) => k.startsWith(logs))),
      );
      const after = KEYS[1]!;
      const expected = byteOrder(KEYS.filter((k) => k.startsWith(logs))).filter(
        (k) => Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0,
      );
      const got = sorted(await collect(fx.reader.listKeys(bucket, logs, after)));
      expect(fx.quirks?.utf16StartAfter ? byteOrder(got) : got).toEqual(expected);
    });

    it("lists nothing under a prefix no key has", async () => {
      expect(await collect(fx.reader.listKeys(bucket, "AWSLogs/999999999999/"))).toEqual([]);
    });

    it("gives back an object's bytes, user metadata and content headers", async () => {
      const got = await fx.reader.getObject(bucket, KEYS[4]!);
      expect(got?.body.equals(gzipBody(4))).toBe(true);
      expect(got?.metadata).toEqual({ signature: "sig-4", "signature-algorithm": "SHA256withRSA" });
      expect(got?.contentType).toBe("application/json");
      expect(got?.contentEncoding).toBe("gzip");
    });

    it("streams an object's stored bytes", async () => {
      const stream = await fx.reader.openObject(bucket, KEYS[0]!);
      expect(stream).toBeDefined();
      expect((await buffer(stream!)).equals(gzipBody(0))).toBe(true);
    });

    it("answers undefined for a key that does not exist, whole or streamed", async () => {
      expect(await fx.reader.getObject(bucket, "AWSLogs/missing.json.gz")).toBeUndefined();
      expect(await fx.reader.openObject(bucket, "AWSLogs/missing.json.gz")).toBeUndefined();
    });

    it("fails with NoSuchBucket when listing a bucket that does not exist", async () => {
      const listing = collect(fx.reader.listKeys("ot-reader-no-such-bucket", ""));
      await expect(listing).rejects.toBeInstanceOf(ObjectStoreError);
      await expect(listing).rejects.toMatchObject({ code: "NoSuchBucket" });
    });
  });
}
