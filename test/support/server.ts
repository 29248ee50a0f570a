import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";
import type { Clock } from "../../src/ports/index.ts";
import type { CallRenderer } from "../../src/proxy/call.ts";

export interface TestServer {
  app: OpenTrail;
  url: string;
  dataDir: string;
  /** Local bucket root: `mkdirSync(join(bucketsDir, name))` creates a bucket. */
  bucketsDir: string;
  createBucket(name: string): void;
  close(): Promise<void>;
}

/** A real server on 127.0.0.1, port 0, over a fresh data directory, silent; on `clock` if given. */
export async function startTestServer(
  overrides: Partial<Config> = {},
  opts: { clock?: Clock; renderer?: CallRenderer } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "opentrail-test-"));
  const config = { ...loadConfig({ flags: { port: 0, dataDir } }), ...overrides };
  const app = await startOpenTrail(config, {
    log: pino({ level: "silent" }),
    clock: opts.clock,
    ...(opts.renderer ? { renderer: opts.renderer } : {}),
  });
  const bucketsDir = join(dataDir, "buckets");
  return {
    app,
    url: app.url,
    dataDir,
    bucketsDir,
    createBucket: (name) => mkdirSync(join(bucketsDir, name), { recursive: true }),
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
