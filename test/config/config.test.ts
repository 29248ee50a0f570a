import { availableParallelism } from "node:os";
import { Option } from "commander";
import { describe, expect, it } from "vitest";
import { ConfigError, flagKey, loadConfig, serveFlags } from "../../src/config/index.ts";

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

describe("serve's flags", () => {
  it("are named in ConfigSources.flags as commander names them", () => {
    const flags = serveFlags();
    expect(flags.map((f) => f.flag.split(" ")[0])).toEqual([
      "--host",
      "--port",
      "--data-dir",
      "--config",
      "--s3-endpoint",
      "--delivery-interval",
      "--digest-interval",
      "--ingest-workers",
      "--lookup-events-rate",
      "--log-level",
    ]);
    for (const { flag } of flags) expect(flagKey(flag)).toBe(new Option(flag).attributeName());
  });
});
