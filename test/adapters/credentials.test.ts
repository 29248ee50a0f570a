import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { principalFor } from "../../src/adapters/credentials.ts";
import { ConfigError, loadConfig } from "../../src/config/index.ts";

const ROLE = {
  accessKeyId: "ASIAROLEEXAMPLE",
  secretAccessKey: "role-secret",
  sessionToken: "token",
  accountId: "444455556666",
  type: "AssumedRole" as const,
  roleName: "Auditor",
  sessionName: "nightly-check",
};

describe("AssumedRole sessionContext.attributes", () => {
  it("dates the session at the given issue time when the configuration names none", () => {
    const { identity } = principalFor(ROLE, "us-east-1", new Date("2026-11-25T09:30:12.345Z"));
    expect(identity.sessionContext).toMatchObject({
      attributes: { creationDate: "2026-11-25T09:30:12Z", mfaAuthenticated: "false" },
    });
    // creationDate comes first, as in AWS's records
    expect(Object.keys((identity.sessionContext as { attributes: object }).attributes)).toEqual([
      "creationDate",
      "mfaAuthenticated",
    ]);
  });

  it("takes sessionCreated from the configuration", () => {
    const { identity } = principalFor({ ...ROLE, sessionCreated: "2025-01-02T03:04:05Z" });
    expect(identity.sessionContext).toMatchObject({ attributes: { creationDate: "2025-01-02T03:04:05Z" } });
  });

  it("refuses a sessionCreated that is not a record time", () => {
    const dir = mkdtempSync(join(tmpdir(), "opentrail-cred-"));
    const file = join(dir, "config.json");
    writeFileSync(
      file,
      JSON.stringify({ credentials: [{ ...ROLE, sessionCreated: "2025-01-02 03:04:05" }] }),
    );
    try {
      expect(() => loadConfig({ flags: { config: file }, env: {} })).toThrow(
        new ConfigError("credentials[0].sessionCreated must be a UTC time written YYYY-MM-DDTHH:MM:SSZ"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
