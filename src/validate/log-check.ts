import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGunzip } from "node:zlib";
import { ObjectStoreError } from "../ports/index.ts";
import type { LogFileEntry } from "./digest-read.ts";
import type { Verdict } from "./report.ts";
import type { ValidationStore } from "./store.ts";

/**
 * One log file: streamed, inflated and hashed chunk by chunk, compared with the digest's hash as
 * text (as the AWS CLI compares it). A truncated body inflates as far as it goes and then fails
 * the comparison, as it does with the AWS CLI's streaming inflater; a body that is not gzip at all
 * is "invalid format".
 */
export async function checkLogFile(store: ValidationStore, log: LogFileEntry): Promise<Verdict> {
  const where = `Log file\ts3://${log.s3Bucket}/${log.s3Object}\t`;
  const invalid = (why: string): Verdict => ({
    line: `${where}INVALID: ${why}`,
    error: true,
    tally: "invalidLog",
  });
  let body: Awaited<ReturnType<ValidationStore["openObject"]>>;
  try {
    body = await store.openObject(log.s3Bucket, log.s3Object);
  } catch (e) {
    // a listed file in a bucket that is gone is as missing as a deleted one
    if (e instanceof ObjectStoreError && e.code === "NoSuchBucket") return invalid("not found");
    throw e;
  }
  if (!body) return invalid("not found");
  const hash = createHash("sha256");
  try {
    await pipeline(
      body,
      createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          done();
        },
      }),
    );
  } catch (e) {
    if (e instanceof ObjectStoreError) throw e;
    return invalid("invalid format");
  }
  if (hash.digest("hex") !== log.hashValue) return invalid("hash value doesn't match");
  return { line: `${where}valid`, error: false, tally: "validLog" };
}
