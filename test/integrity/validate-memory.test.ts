import { createHash, generateKeyPairSync } from "node:crypto";
import { linkSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyPath, LocalFsObjectStore } from "../../src/adapters/localfs/object-store.ts";
import { localObjectReader } from "../../src/adapters/localfs/reader.ts";
import {
  buildDigest,
  DIGEST_SIGNATURE_ALGORITHM,
  type DigestLogFile,
  digestKey,
  fingerprint,
  type PreviousDigest,
  publicKeyDer,
  signDigest,
  signingString,
} from "../../src/domain/digest.ts";
import { logFileKey } from "../../src/domain/log-files.ts";
import { Report } from "../../src/validate/report.ts";
import { validateLogs } from "../../src/validate/validator.ts";

/*
 * validate-logs over 100,000 log files keeps its heap flat: log files are read a bounded number at
 * a time, their verdicts printed and forgotten, and what the check of unlisted files keeps per
 * listed file is a few bytes, not its key and hash. The files are hard links of one small log
 * file in the local store (a real bucket on disk, made in seconds), listed by 100 hourly digests
 * signed with a key of the test's own. Heap is measured after a full collection, every 5,000
 * verdicts; the test asserts memory, never time.
 */

const FILES = 100_000;
const DIGESTS = 100;
const PER_DIGEST = FILES / DIGESTS;
const HOUR = 3_600_000;
const BUCKET = "ot-validate-memory";
const scope = { accountId: "123456789012", region: "us-east-1", trailName: "mem", homeRegion: "us-east-1" };
const trailArn = `arn:aws:cloudtrail:us-east-1:${scope.accountId}:trail/${scope.trailName}`;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const unique = (n: number) => {
  let s = "";
  for (let i = 0; i < 16; i++, n = Math.floor(n / 62)) s += ALPHABET[n % 62];
  return s;
};

let dir: string;
let t0: number;
let der: Buffer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "opentrail-validate-memory-"));
  const root = join(dir, "buckets");
  mkdirSync(join(root, BUCKET), { recursive: true });
  const store = new LocalFsObjectStore(root);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  der = publicKeyDer(privateKey);
  const fp = fingerprint(der);
  const body = '{"Records":[]}';
  const gz = gzipSync(body);
  const sha256 = createHash("sha256").update(body).digest("hex");
  t0 = Math.floor((Date.now() - (DIGESTS + 5) * HOUR) / HOUR) * HOUR;
  let first = "";
  let n = 0;
  let previous: PreviousDigest | null = null;
  for (let d = 0; d < DIGESTS; d++) {
    const start = t0 + d * HOUR;
    const logFiles: DigestLogFile[] = [];
    for (let i = 0; i < PER_DIGEST; i++) {
      const deliveredAt = new Date(start + Math.floor((i * HOUR) / PER_DIGEST));
      const key = logFileKey({ ...scope, deliveredAt, unique: unique(d * PER_DIGEST + i) });
      const path = keyPath(join(root, BUCKET), key);
      // a file takes some 65,000 links on ext4: a fresh copy every 50,000
      if (n % 50_000 === 0) {
        await store.putObject(BUCKET, key, gz);
        first = path;
      } else {
        mkdirSync(dirname(path), { recursive: true });
        linkSync(first, path);
      }
      n++;
      logFiles.push({
        bucket: BUCKET,
        key,
        sha256,
        oldestEventTime: deliveredAt,
        newestEventTime: deliveredAt,
      });
    }
    const endTime = new Date(start + HOUR);
    const key = digestKey({ ...scope, endTime });
    const built = buildDigest({
      accountId: scope.accountId,
      startTime: new Date(start),
      endTime,
      bucket: BUCKET,
      key,
      fingerprint: fp,
      previous,
      logFiles,
    });
    const signature = signDigest(
      privateKey,
      signingString(endTime, BUCKET, key, built.sha256Hex, previous?.signature ?? null),
    );
    await store.putObject(BUCKET, key, gzipSync(built.bytes), {
      metadata: { signature, "signature-algorithm": DIGEST_SIGNATURE_ALGORITHM },
    });
    previous = { bucket: BUCKET, key, sha256: built.sha256Hex, signature };
  }
  await store.close();
}, 300_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("validate-logs memory", () => {
  it(`stays flat over ${FILES.toLocaleString("en")} log files`, async () => {
    const reader = localObjectReader(join(dir, "buckets"));
    let out = "";
    const report = new Report(
      {
        // only the summary is kept: the verdict lines are counted, as a terminal would forget them
        out: (text) => {
          if (/files valid|Results requested|No log files/.test(text)) out += text;
        },
        err: (text) => {
          out += text;
        },
      },
      false,
    );
    const samples: { logs: number; heap: number }[] = [];
    let nextSample = 5_000;
    const sample = (logs: number) => {
      gc();
      samples.push({ logs, heap: process.memoryUsage().heapUsed });
    };
    const start = new Date(t0 - 60_000);
    const end = new Date(t0 + (DIGESTS + 1) * HOUR);
    report.startup(trailArn, start, end);
    try {
      await validateLogs(
        {
          trailArn,
          start,
          end,
          bucket: BUCKET,
          accountId: scope.accountId,
          region: scope.region,
          trailName: scope.trailName,
          homeRegion: scope.homeRegion,
        },
        {
          reader,
          report,
          concurrency: 32,
          publicKeys: async () => new Map([[fingerprint(der), der]]),
          onProgress: (p) => {
            if (p.logs >= nextSample) {
              nextSample += 5_000;
              sample(p.logs);
            }
          },
        },
      );
    } finally {
      await reader.close();
    }
    expect(out).toContain(`${DIGESTS}/${DIGESTS} digest files valid`);
    expect(out).toContain(`${FILES}/${FILES} log files valid`);
    expect(out).not.toContain("INVALID");
    expect(samples.length).toBeGreaterThanOrEqual(18);
    // from the first tenth of the files on, the heap grows by less than 8 MB: without the bound
    // it would hold every log file's key and hash (about 300 bytes each, 30 MB here)
    const base = samples.find((s) => s.logs >= FILES / 10)!.heap;
    const peak = Math.max(...samples.map((s) => s.heap));
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
    const trace = samples.map((s) => `${s.logs}: ${mb(s.heap)}`).join(", ");
    expect(peak - base, `heap after each 5,000 log files: ${trace}`).toBeLessThan(8 * 2 ** 20);
  }, 600_000);
});
