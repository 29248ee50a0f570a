import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { runValidateLogs } from "../../src/cli/validate-logs.ts";
import { loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import { clockedClient } from "../support/clocked-client.ts";

/*
 * Issue 13, item 7: a trail whose S3KeyPrefix is one segment of 400 bytes (200 × "é", over a file
 * name's 255) delivers log files and digests to the local store, and validate-logs, reading them
 * back through the local reader, finds them all valid.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BUCKET = "ot-long-prefix";
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("validate-logs under a prefix longer than a file name", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "opentrail-long-prefix-"));
  let app: OpenTrail | undefined;
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("validates every digest and log file", async () => {
    const t0 = Math.floor((Date.now() - 4 * HOUR) / 1000) * 1000;
    let t = t0;
    let real = false;
    const clock = { now: () => (real ? new Date() : new Date(t)) };
    mkdirSync(join(dataDir, "buckets", BUCKET), { recursive: true });
    app = await startOpenTrail(
      { ...loadConfig({ flags: { port: 0, dataDir } }), deliveryIntervalMs: 3_600_000 },
      { clock, log: pino({ level: "silent" }) },
    );
    const api = () => clockedClient(app!.url, clock);
    const drain = async () => {
      await app!.delivery.drain();
      await app!.digests.drain();
    };
    const prefix = "é".repeat(200);
    const created = await api().createTrail({
      Name: "long-prefix",
      S3BucketName: BUCKET,
      S3KeyPrefix: prefix,
      EnableLogFileValidation: true,
    });
    const trailArn = created.TrailARN!;
    await api().startLogging({ Name: trailArn });
    for (const [when, call] of [
      [10 * MINUTE, () => api().describeTrails({})],
      [HOUR + 5 * MINUTE, () => api().listTrails({})],
      [2 * HOUR + 5 * MINUTE, () => api().stopLogging({ Name: trailArn })],
    ] as const) {
      t = t0 + when;
      await call();
      await drain();
    }
    real = true;
    const keys: string[] = [];
    for await (const k of app.objects.listKeys(BUCKET, `${prefix}/AWSLogs/`)) keys.push(k);
    expect(keys.some((k) => k.includes("/CloudTrail-Digest/"))).toBe(true);

    let stdout = "";
    let stderr = "";
    const code = await runValidateLogs(
      {
        trailArn,
        startTime: iso(t0 - MINUTE),
        endTime: iso(t0 + 3 * HOUR),
        endpoint: app.url,
        dataDir,
        verbose: true,
        concurrency: "16",
      },
      {
        env: { AWS_DEFAULT_REGION: "us-east-1" },
        cwd: dataDir,
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
      },
    );
    expect(stderr).not.toContain("INVALID");
    expect(code, stdout + stderr).toBe(0);
    expect(stdout).toMatch(/^(\d+)\/\1 log files valid$/m);
    expect(stdout).toMatch(/^([1-9]\d*)\/\1 digest files valid$/m);
  });
});
