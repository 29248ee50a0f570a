import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe } from "vitest";
import type { Service } from "../../src/api/service.ts";
import type { ServiceDeps } from "../../src/service/types.ts";
import { fuzzWire } from "./fuzz.ts";
import { stubService, wireWith } from "./sign.ts";

const SERVICE_INDEX = fileURLToPath(new URL("../../src/service/index.ts", import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The real service when it exists; until then a stub that echoes the decoded input back. */
async function makeService(): Promise<{ service: Service; real: boolean }> {
  if (existsSync(SERVICE_INDEX)) {
    const mod = (await import(SERVICE_INDEX)) as { buildService?: (deps: ServiceDeps) => Service };
    if (typeof mod.buildService === "function") {
      const { openSqlite } = await import("../../src/adapters/sqlite/index.ts");
      const { LocalFsObjectStore } = await import("../../src/adapters/localfs/object-store.ts");
      const root = mkdtempSync(join(tmpdir(), "opentrail-fuzz-"));
      dirs.push(root);
      // The generator names this bucket, so some CreateTrail calls succeed and later calls find trails.
      mkdirSync(join(root, "fuzz-bucket"));
      const db = openSqlite(":memory:");
      const service = mod.buildService({
        trails: db.trails,
        events: db.events,
        objects: new LocalFsObjectStore(root),
        regions: ["us-east-1", "us-west-2"],
      });
      return { service, real: true };
    }
  }
  return { service: stubService(async (_op, input) => ({ Echo: input, At: new Date() })), real: false };
}

const { service, real } = await makeService();

describe(`wire fuzz over the ${real ? "real service (buildService)" : "echoing stub service"}`, () => {
  fuzzWire(async () => wireWith(service).handle, 3000);
});
