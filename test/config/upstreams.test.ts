import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, hasUpstream, loadConfig } from "../../src/config/index.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "opentrail-upstreams-"));
  dirs.push(dir);
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe("upstreams", () => {
  it("are none by default: no request is forwarded", () => {
    const config = loadConfig({ env: {} });
    expect(config.upstreams).toEqual({ services: {} });
    expect(hasUpstream(config.upstreams)).toBe(false);
  });

  it("take a default and per-service URLs from the flag (repeats joined with commas, as the CLI does)", () => {
    const config = loadConfig({
      env: {},
      flags: { upstream: "http://127.0.0.1:5000/,s3=http://127.0.0.1:4569,dynamodb=https://ddb.local:8000" },
    });
    expect(config.upstreams).toEqual({
      default: "http://127.0.0.1:5000",
      services: { s3: "http://127.0.0.1:4569", dynamodb: "https://ddb.local:8000" },
    });
  });

  it("read OPENTRAIL_UPSTREAM, which a flag overrides", () => {
    const env = { OPENTRAIL_UPSTREAM: "s3=http://127.0.0.1:4569" };
    expect(loadConfig({ env }).upstreams).toEqual({ services: { s3: "http://127.0.0.1:4569" } });
    expect(loadConfig({ env, flags: { upstream: "http://127.0.0.1:5000" } }).upstreams).toEqual({
      default: "http://127.0.0.1:5000",
      services: {},
    });
  });

  it("read the file's upstreams object and upstream credentials", () => {
    const config = loadConfig({
      env: {},
      flags: {
        config: configFile({
          upstreams: { default: "http://127.0.0.1:5000", s3: "http://127.0.0.1:4569" },
          upstreamCredentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        }),
      },
    });
    expect(config.upstreams).toEqual({
      default: "http://127.0.0.1:5000",
      services: { s3: "http://127.0.0.1:4569" },
    });
    expect(config.upstreamCredentials).toEqual({ accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
  });

  it.each([
    ["ftp://x", "must be an http:// or https:// URL"],
    ["s3=", "must be a URL"],
    ["S3=http://x", "is not a service name"],
    ["http://x/?a=1", "without query"],
  ])("refuse %s", (text, why) => {
    expect(() => loadConfig({ env: {}, flags: { upstream: text } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, flags: { upstream: text } })).toThrow(why);
  });

  it("refuse upstream credentials without a secret or with an unknown key", () => {
    expect(() =>
      loadConfig({ env: {}, flags: { config: configFile({ upstreamCredentials: { accessKeyId: "a" } }) } }),
    ).toThrow("upstreamCredentials.secretAccessKey must be a non-empty string");
    expect(() =>
      loadConfig({
        env: {},
        flags: {
          config: configFile({
            upstreamCredentials: { accessKeyId: "a", secretAccessKey: "b", region: "x" },
          }),
        },
      }),
    ).toThrow('unknown key "upstreamCredentials.region"');
  });
});
