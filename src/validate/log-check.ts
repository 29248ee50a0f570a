import { createHash, type Hash } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGunzip, gunzipSync } from "node:zlib";
import { type ObjectReader, ObjectStoreError } from "../ports/index.ts";
import type { LogFileEntry } from "./digest-read.ts";
import type { Verdict } from "./report.ts";

/** Bodies up to this size are inflated in one call: a zlib stream per small file costs more than the file. */
const ONE_SHOT_BYTES = 1024 * 1024;
const INFLATE = { finishFlush: constants.Z_SYNC_FLUSH };

/** Inflates a gzip stream into `hash`; only a body larger than ONE_SHOT_BYTES is inflated as it streams. */
async function inflateInto(body: Readable, hash: Hash): Promise<void> {
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await it.next();
    if (next.done) {
      hash.update(gunzipSync(Buffer.concat(head, size), INFLATE));
      return;
    }
    head.push(next.value);
    size += next.value.length;
    if (size > ONE_SHOT_BYTES) break;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* head.splice(0);
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  }
  await pipeline(
    Readable.from(rest()),
    createGunzip(INFLATE),
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done();
      },
    }),
  );
}

function isZlibError(e: unknown): boolean {
  return typeof e === "object" && e !== null && "code" in e && String(e.code).startsWith("Z_");
}

/**
 * One log file: streamed, inflated and hashed (chunk by chunk when it is large), compared with the digest's hash as
 * text (as the AWS CLI compares it). A truncated body inflates as far as it goes and then fails
 * the comparison, as it does with the AWS CLI's streaming inflater; a body that is not gzip at all
 * is "invalid format".
 */
export async function checkLogFile(reader: ObjectReader, log: LogFileEntry): Promise<Verdict> {
  const where = `Log file\ts3://${log.s3Bucket}/${log.s3Object}\t`;
  const invalid = (why: string): Verdict => ({
    line: `${where}INVALID: ${why}`,
    error: true,
    tally: "invalidLog",
  });
  let body: Awaited<ReturnType<ObjectReader["openObject"]>>;
  try {
    body = await reader.openObject(log.s3Bucket, log.s3Object);
  } catch (e) {
    // a listed file in a bucket that is gone is as missing as a deleted one
    if (e instanceof ObjectStoreError && e.code === "NoSuchBucket") return invalid("not found");
    throw e;
  }
  if (!body) return invalid("not found");
  const hash = createHash("sha256");
  try {
    await inflateInto(body, hash);
  } catch (e) {
    if (e instanceof ObjectStoreError) throw e;
    // only zlib's own errors say the bytes are no gzip; a connection dropped mid-body says nothing about them
    if (!isZlibError(e)) {
      throw new ObjectStoreError("ServiceUnavailable", `read ${log.s3Bucket}/${log.s3Object}: ${String(e)}`, {
        cause: e,
      });
    }
    return invalid("invalid format");
  }
  if (hash.digest("hex") !== log.hashValue) return invalid("hash value doesn't match");
  return { line: `${where}valid`, error: false, tally: "validLog" };
}
