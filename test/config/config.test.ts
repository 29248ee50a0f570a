import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Option } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Config, ConfigError, flagKey, loadConfig, serveFlags } from "../../src/config/index.ts";

describe("ingest workers and the LookupEvents rate", () => {
  it("default to two ingest threads (one on one core) and no rate limit", () => {
    const config = loadConfig({ env: {} });
    expect(config.ingestWorkers).toBe(Math.min(2, availableParallelism()));
    expect(config.lookupEventsRate).toBe(0);
  });

  it("are read from flags before the environment", () => {
    const env = { OPENTRAIL_INGEST_WORKERS: "3", OPENTRAIL_LOOKUP_EVENTS_RATE: "2" };
    expect(loadConfig({ env })).toMatchObject({ ingestWorkers: 3, lookupEventsRate: 2 });
    expect(loadConfig({ env, flags: { ingestWorkers: "0", lookupEventsRate: "0.5" } })).toMatchObject({
      ingestWorkers: 0,
      lookupEventsRate: 0.5,
    });
  });

  it.each([["-1"], ["1.5"], ["65"], ["two"]])("refuses %s ingest workers", (n) => {
    expect(() => loadConfig({ env: {}, flags: { ingestWorkers: n } })).toThrow(
      new ConfigError("the number of ingest workers must be a whole number between 0 and 64"),
    );
  });

  it.each([["-2"], ["fast"]])("refuses a LookupEvents rate of %s", (n) => {
    expect(() => loadConfig({ env: {}, flags: { lookupEventsRate: n } })).toThrow(ConfigError);
  });
});

describe("the database", () => {
  const URL = "postgres://opentrail@db.internal:5432/trails";

  it("is SQLite in the data directory unless a PostgreSQL URL is given", () => {
    expect(loadConfig({ env: {} }).database).toBeUndefined();
    expect(loadConfig({ env: { OPENTRAIL_DATABASE: URL } }).database).toBe(URL);
    const other = "postgresql://node2@db.internal/trails";
    expect(loadConfig({ env: { OPENTRAIL_DATABASE: URL }, flags: { database: other } }).database).toBe(other);
  });

  it.each([["mysql://db/trails"], ["db.internal"]])("refuses %s", (url) => {
    expect(() => loadConfig({ env: {}, flags: { database: url } })).toThrow(
      new ConfigError("database must be a postgres:// or postgresql:// URL"),
    );
  });
});

describe("the configuration file's keys", () => {
  const CREDENTIAL = {
    accessKeyId: "AKIAEXAMPLE",
    secretAccessKey: "secret",
    accountId: "111122223333",
    type: "IAMUser",
    userName: "alice",
  };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "opentrail-config-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function load(content: object): Config {
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify(content));
    return loadConfig({ flags: { config: file }, env: {} });
  }

  it("are every key the table knows", () => {
    const config = load({
      host: "127.0.0.1",
      port: 0,
      dataDir: dir,
      database: "postgres://opentrail@127.0.0.1/opentrail",
      regions: ["us-east-1"],
      credentials: [{ ...CREDENTIAL, sessionToken: "t", principalId: "AIDAEXAMPLE" }],
      s3: {
        endpoint: "http://127.0.0.1:9000",
        region: "eu-west-1",
        accessKeyId: "k",
        secretAccessKey: "s",
        forcePathStyle: false,
      },
      logLevel: "warn",
      trustedProxies: ["10.0.0.1"],
      maxIngestBytes: 4096,
      deliveryIntervalSeconds: 1,
      digestIntervalSeconds: 60,
      upstreamTimeoutSeconds: 2.5,
      ingestWorkers: 0,
      lookupEventsRate: 2,
    });
    expect(config).toMatchObject({
      database: "postgres://opentrail@127.0.0.1/opentrail",
      regions: ["us-east-1"],
      s3: { region: "eu-west-1", forcePathStyle: false },
      deliveryIntervalMs: 1000,
      digestIntervalMs: 60_000,
      upstreamTimeoutMs: 2500,
    });
  });

  it("refuses a misspelled key, naming the nearest known one", () => {
    const file = join(dir, "config.json");
    expect(() => load({ ingestWorker: 2 })).toThrow(
      new ConfigError(`unknown key "ingestWorker" in ${file}; did you mean "ingestWorkers"?`),
    );
    expect(() => load({ deliveryInterval: 2 })).toThrow(
      new ConfigError(`unknown key "deliveryInterval" in ${file}; did you mean "deliveryIntervalSeconds"?`),
    );
  });

  it("refuses a misspelled key inside s3, with or without an endpoint", () => {
    const file = join(dir, "config.json");
    expect(() => load({ s3: { endpoint: "http://127.0.0.1:9000", acessKeyId: "k" } })).toThrow(
      new ConfigError(`unknown key "s3.acessKeyId" in ${file}; did you mean "s3.accessKeyId"?`),
    );
    expect(() => load({ s3: { forcePathstyle: false } })).toThrow(
      new ConfigError(`unknown key "s3.forcePathstyle" in ${file}; did you mean "s3.forcePathStyle"?`),
    );
  });

  it("reads a credential's ingestAccounts, a list of account ids", () => {
    const listed = { ...CREDENTIAL, ingestAccounts: ["444455556666"] };
    expect(load({ credentials: [listed] }).credentials[0]!.ingestAccounts).toEqual(["444455556666"]);
    expect(() => load({ credentials: [{ ...CREDENTIAL, ingestAccounts: ["4444"] }] })).toThrow(
      new ConfigError("credentials[0].ingestAccounts must be a list of 12-digit account ids"),
    );
  });

  it("read the Insights knobs from the insights block, with insights.md's defaults", () => {
    expect(load({}).insights).toEqual({
      baselineMinutes: 10_080,
      warmupMinutes: 2_160,
      multiplier: 3,
      sigmas: 4,
      floorCallRate: 10,
      floorErrorRate: 5,
      endQuietMinutes: 5,
      maxDurationMinutes: 360,
      cooldownMinutes: 5,
      graceSeconds: 60,
      detectDrops: false,
    });
    const knobs = {
      baselineMinutes: 10,
      warmupMinutes: 0,
      multiplier: 2.5,
      sigmas: 0,
      floorCallRate: 5,
      floorErrorRate: 1,
      endQuietMinutes: 2,
      maxDurationMinutes: 30,
      cooldownMinutes: 0,
      graceSeconds: 0,
      detectDrops: true,
    };
    expect(load({ insights: knobs }).insights).toEqual(knobs);
    expect(() => load({ insights: { baselineMinute: 10 } })).toThrow(
      /did you mean "insights.baselineMinutes"/,
    );
    expect(() => load({ insights: { baselineMinutes: 0 } })).toThrow(ConfigError);
    expect(() => load({ insights: { endQuietMinutes: 1.5 } })).toThrow(ConfigError);
    expect(() => load({ insights: { detectDrops: "yes" } })).toThrow(ConfigError);
  });

  it("refuses a misspelled key inside a credentials entry", () => {
    const file = join(dir, "config.json");
    const role = { ...CREDENTIAL, type: "AssumedRole", roleName: "auditor", sesionName: "ci" };
    expect(() => load({ credentials: [CREDENTIAL, role] })).toThrow(
      new ConfigError(
        `unknown key "credentials[1].sesionName" in ${file}; did you mean "credentials[1].sessionName"?`,
      ),
    );
  });
});

describe("serve's flags", () => {
  it("are named in ConfigSources.flags as commander names them", () => {
    const flags = serveFlags();
    expect(flags.map((f) => f.flag.split(" ")[0])).toEqual([
      "--host",
      "--port",
      "--data-dir",
      "--database",
      "--config",
      "--s3-endpoint",
      "--tls-cert",
      "--tls-key",
      "--tls-self-signed",
      "--upstream",
      "--upstream-timeout",
      "--policy-checks",
      "--event-bridge",
      "--delivery-interval",
      "--digest-interval",
      "--ingest-workers",
      "--ingest-memory",
      "--lookup-events-rate",
      "--log-level",
    ]);
    for (const { flag } of flags) expect(flagKey(flag)).toBe(new Option(flag).attributeName());
  });
});
