import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../../bench/support/server-process.ts";
import {
  type Backend,
  BUCKET_1,
  BUCKET_2,
  HOUR,
  MINUTE,
  type Scenario,
  startScenario,
} from "./validate-fixture.ts";

/**
 * `opentrail validate-logs` on one trail's digests and log files, valid and tampered, in the local
 * store or in moto's S3. Bucket 1 holds chain 1 (digests D1..D3 hourly, D4 final) and chain 2 (one
 * final digest); bucket 2, the trail's current one, holds chain 3.
 */

const ALL_VALID = /^(\d+)\/\1 log files valid$/m;

/** Failure lines: what follows the file's URL, by URL. */
function failures(stderr: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of stderr.split("\n")) {
    const m = /^(?:Digest|Log) file\t(s3:\/\/\S+)\t(INVALID: .*)$/.exec(line);
    if (m) found.set(m[1]!, m[2]!);
  }
  return found;
}

const url = (bucket: string, key: string) => `s3://${bucket}/${key}`;

/** A key of the same minute folder with another unique part: where a moved log file could sit. */
function sibling(key: string, unique: string): string {
  return key.replace(/_[A-Za-z0-9]+\.json\.gz$/, `_${unique}.json.gz`);
}

export function validationCases(backend: Backend): void {
  describe(`opentrail validate-logs (${backend})`, () => {
    let s: Scenario;
    let digests1: string[];
    let logs1: string[];

    beforeAll(async () => {
      assertBuilt();
      s = await startScenario(backend);
      digests1 = await s.digestKeys(BUCKET_1);
      logs1 = await s.logKeys(BUCKET_1);
    }, 120_000);
    afterEach(async () => {
      await s.restore();
    });
    afterAll(async () => {
      await s?.close();
    });

    it("reports every digest and log file of the trail's bucket valid (built CLI, exit 0)", async () => {
      const r = await s.validateBuilt();
      expect(r.stderr).toBe("");
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain("2/2 digest files valid");
      expect(r.stdout).toMatch(ALL_VALID);
      expect(r.stdout).toContain(`Validating log files for trail ${s.trailArn} between`);
    });

    it("keeps its summary on a terminal, where the progress line is drawn among the lines", async () => {
      const r = await s.validateOnTerminal({ s3Bucket: BUCKET_1 });
      expect(r.code, r.screen).toBe(0);
      expect(r.screen).toMatch(/^5\/5 digest files valid$/m);
      expect(r.screen).toMatch(ALL_VALID);
      expect(r.screen).not.toContain("[#");
    });

    it("takes its region as the AWS CLI does: --region, else the trail ARN's, never AWS_DEFAULT_REGION", async () => {
      const elsewhere = { AWS_DEFAULT_REGION: "eu-west-1", AWS_REGION: "eu-west-1" };
      const r = await s.validate({}, elsewhere);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("2/2 digest files valid");
      // the bucket named: a single-Region trail is not described in another region
      const other = await s.validate({ region: "eu-west-1", s3Bucket: BUCKET_2 });
      expect(other.stdout).toContain("No digests found");
    });

    it("is read by aws cloudtrail validate-logs too, with the same verdict", async () => {
      const [aws, ours] = await Promise.all([s.validateAws(), s.validateBuilt()]);
      expect(aws.code, aws.stderr).toBe(0);
      expect(aws.stdout).toContain("2/2 digest files valid");
      expect(ours.stdout).toBe(aws.stdout);
    });

    it("follows two chains in the earlier bucket, reporting the gap after a stop", async () => {
      expect(digests1.length).toBe(5);
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain("5/5 digest files valid");
      expect(r.stdout).toMatch(ALL_VALID);
      expect(r.stderr).toMatch(/^No log files were delivered by CloudTrail between \S+ and \S+$/m);
      expect(r.stderr).not.toContain("INVALID");
    });

    it("reports a changed log file (built CLI, exit 1)", async () => {
      const changed = logs1[0]!;
      await s.change(BUCKET_1, changed, gzipSync('{"Records":[]}'));
      const r = await s.validateBuilt(["--s3-bucket", BUCKET_1]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect([...failures(r.stderr)]).toEqual([
        [url(BUCKET_1, changed), "INVALID: hash value doesn't match"],
      ]);
      expect(r.stdout).toMatch(/, 1\/\d+ log files INVALID/);
    });

    it("reports a deleted log file (built CLI, exit 1)", async () => {
      const deleted = logs1[1]!;
      await s.remove(BUCKET_1, deleted);
      const r = await s.validateBuilt(["--s3-bucket", BUCKET_1]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect([...failures(r.stderr)]).toEqual([[url(BUCKET_1, deleted), "INVALID: not found"]]);
    });

    it("reports a moved log file where it was and, beyond the AWS CLI, where it went", async () => {
      const moved = logs1[2]!;
      const to = sibling(moved, "Moved0000000000");
      const got = await s.objects.getObject(BUCKET_1, moved);
      await s.add(BUCKET_1, to, got!.body);
      await s.remove(BUCKET_1, moved);
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      const f = failures(r.stderr);
      expect(f.get(url(BUCKET_1, moved))).toBe("INVALID: not found");
      expect(f.get(url(BUCKET_1, to))).toBe("INVALID: not listed in any digest");
      expect(f.size).toBe(2);
      expect(r.stdout).toContain("\n1 log files not listed in any digest");
    });

    it("reports a changed digest: a JSON edit fails the signature, a body that is no gzip the format", async () => {
      const changed = digests1[1]!;
      const original = (await s.objects.getObject(BUCKET_1, changed))!;
      const text = gunzipSync(original.body).toString("utf8").replace('"logFiles":[', '"logFiles":[ ');
      await s.change(BUCKET_1, changed, gzipSync(text));
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      // beyond the AWS CLI: the next digest's hash of it no longer matches either
      expect([...failures(r.stderr)]).toEqual([
        [
          url(BUCKET_1, digests1[2]!),
          `INVALID: previousDigestHashValue does not match ${url(BUCKET_1, changed)}`,
        ],
        [url(BUCKET_1, changed), "INVALID: signature verification failed"],
      ]);
      expect(r.stdout).toContain("4/5 digest files valid, 1/5 digest files INVALID");
      await s.restore();
      await s.change(BUCKET_1, changed, Buffer.from(text));
      const plain = await s.validate({ s3Bucket: BUCKET_1 });
      expect([...failures(plain.stderr)]).toEqual([[url(BUCKET_1, changed), "INVALID: invalid format"]]);
    });

    it("reports a deleted digest as not found and goes on with the one before it", async () => {
      const deleted = digests1[2]!;
      await s.remove(BUCKET_1, deleted);
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      expect([...failures(r.stderr)]).toEqual([[url(BUCKET_1, deleted), "INVALID: not found"]]);
      expect(r.stdout).toContain("4/5 digest files valid, 1/5 digest files INVALID");
    });

    it("reports both of two consecutive deleted digests", async () => {
      const [, second, third] = digests1;
      await s.remove(BUCKET_1, second!);
      await s.remove(BUCKET_1, third!);
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      const f = failures(r.stderr);
      expect(f.get(url(BUCKET_1, third!))).toBe("INVALID: not found");
      expect(f.get(url(BUCKET_1, second!))).toBe("INVALID: not found");
      expect(f.size).toBe(2);
      expect(r.stdout).toContain("1 more digest files not found (deleted together with the next digest)");
    });

    it("reports a log file that no digest lists", async () => {
      const stamp = new Date(s.t0 + 20 * MINUTE).toISOString();
      const key = logs1[0]!.replace(
        /_\d{8}T\d{4}Z_[A-Za-z0-9]+\.json\.gz$/,
        `_${stamp.slice(0, 10).replaceAll("-", "")}T${stamp.slice(11, 13)}${stamp.slice(14, 16)}Z_Unlisted0000000.json.gz`,
      );
      await s.add(BUCKET_1, key, gzipSync('{"Records":[]}'));
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      expect([...failures(r.stderr)]).toEqual([[url(BUCKET_1, key), "INVALID: not listed in any digest"]]);
      expect(r.stdout).toContain("5/5 digest files valid");
    });

    it("reports a signed digest whose previousDigestHashValue is wrong", async () => {
      const forged = digests1[3]!;
      await s.forgeDigest(BUCKET_1, forged, (doc) => {
        doc.previousDigestHashValue = "0".repeat(64);
      });
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.code).toBe(1);
      expect([...failures(r.stderr)]).toEqual([
        [
          url(BUCKET_1, forged),
          `INVALID: previousDigestHashValue does not match ${url(BUCKET_1, digests1[2]!)}`,
        ],
      ]);
      expect(r.stdout).toContain("5/5 digest files valid");
    });

    it("hashes a log file larger than a megabyte as it streams", async () => {
      const forged = digests1[3]!;
      const doc = JSON.parse(
        gunzipSync((await s.objects.getObject(BUCKET_1, forged))!.body).toString("utf8"),
      );
      const log = doc.logFiles[0].s3Object as string;
      const records = Array.from(
        { length: 40_000 },
        (_, i) => `{"eventID":"${i}","eventName":"Bench${i % 97}"}`,
      );
      const body = Buffer.from(`{"Records":[${records.join(",")}]}`);
      expect(body.length).toBeGreaterThan(1024 * 1024);
      await s.change(BUCKET_1, log, gzipSync(body, { level: 0 }));
      await s.forgeDigest(BUCKET_1, forged, (d) => {
        (d.logFiles as { hashValue: string }[])[0]!.hashValue = createHash("sha256")
          .update(body)
          .digest("hex");
      });
      const r = await s.validate({ s3Bucket: BUCKET_1 });
      expect(r.stderr).not.toContain("INVALID");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${url(BUCKET_1, log)}\tvalid`);
    });

    it("takes epoch seconds and reports a range without digests", async () => {
      const epoch = (ms: number) => String(Math.floor(ms / 1000));
      const all = await s.validate({ startTime: epoch(s.t0 - MINUTE), endTime: epoch(s.t0 + 6 * HOUR) });
      expect(all.code).toBe(0);
      expect(all.stdout).toContain("2/2 digest files valid");
      const none = await s.validate({ startTime: epoch(s.t0 + 5 * HOUR + 35 * MINUTE) });
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/No digests found\n$/);
    });

    it("rejects a malformed trail ARN and a reversed range with status 2", async () => {
      const bad = await s.validate({ trailArn: "arn:aws:cloudtrail:us-east-1:1234:trail/x" });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("Invalid trail ARN provided");
      const reversed = await s.validate({ startTime: s.end, endTime: new Date(s.t0).toISOString() });
      expect(reversed.code).toBe(2);
      expect(reversed.stderr).toContain("start-time must occur before end-time");
    });
  });
}
