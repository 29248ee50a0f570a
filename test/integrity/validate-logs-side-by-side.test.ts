import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../../bench/support/server-process.ts";
import { BUCKET_1, type Scenario, startScenario } from "./validate-fixture.ts";

/*
 * The same tampered bucket in moto's S3 checked by `aws cloudtrail validate-logs` (CLI v1) and by
 * the built `opentrail validate-logs`: what the AWS CLI prints, opentrail prints byte for byte, with
 * the same exit status; what the AWS CLI cannot see comes on lines of its own.
 */

const BLANK_OR_EXTRA = /^(?:$|\d+ (?:more digest|digest files whose|log files not listed))/;

describe("opentrail validate-logs beside aws cloudtrail validate-logs", () => {
  let s: Scenario;

  beforeAll(async () => {
    assertBuilt();
    s = await startScenario("moto");
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it("prints what the AWS CLI prints for a changed and a deleted log file and a deleted digest", async () => {
    const logs = await s.logKeys(BUCKET_1);
    const digests = await s.digestKeys(BUCKET_1);
    await s.change(BUCKET_1, logs[0]!, gzipSync('{"Records":[]}'));
    await s.remove(BUCKET_1, logs[3]!);
    await s.remove(BUCKET_1, digests[2]!);
    const [aws, ours] = await Promise.all([
      s.validateAws(["--s3-bucket", BUCKET_1]),
      s.validateBuilt(["--s3-bucket", BUCKET_1]),
    ]);
    expect(aws.code, aws.stderr).toBe(1);
    expect(ours.code).toBe(1);
    expect(ours.stdout).toBe(aws.stdout);
    expect(ours.stderr).toBe(aws.stderr);
    expect(aws.stderr).toContain("INVALID: hash value doesn't match");
    await s.restore();
  });

  it("agrees on a valid bucket, and adds what the AWS CLI misses", async () => {
    const [validAws, validOurs] = await Promise.all([s.validateAws(), s.validateBuilt()]);
    expect(validAws.code).toBe(0);
    expect(validOurs.code).toBe(0);
    expect(validOurs.stdout).toBe(validAws.stdout);

    const logs = await s.logKeys(BUCKET_1);
    const digests = await s.digestKeys(BUCKET_1);
    await s.remove(BUCKET_1, digests[1]!);
    await s.remove(BUCKET_1, digests[2]!);
    await s.add(
      BUCKET_1,
      logs[0]!.replace(/_[A-Za-z0-9]+\.json\.gz$/, "_Extra00000000000.json.gz"),
      gzipSync("{}"),
    );
    const [aws, ours] = await Promise.all([
      s.validateAws(["--s3-bucket", BUCKET_1]),
      s.validateBuilt(["--s3-bucket", BUCKET_1]),
    ]);
    expect(aws.code).toBe(1);
    expect(ours.code).toBe(1);
    const lines = (text: string) => text.split("\n").filter((l) => !BLANK_OR_EXTRA.test(l));
    // every AWS line is ours; ours has two more failures: the second deleted digest, the extra file
    const awsErr = lines(aws.stderr);
    const oursErr = lines(ours.stderr);
    expect(oursErr.filter((l) => !awsErr.includes(l))).toHaveLength(2);
    expect(awsErr.every((l) => oursErr.includes(l))).toBe(true);
    expect(lines(ours.stdout)).toEqual(lines(aws.stdout));
    await s.restore();
  });
});
