import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const config = join(dirname(fileURLToPath(import.meta.url)), "../../.dependency-cruiser.cjs");

// A tree with the folder names of src/, outside src/ so that a failing run leaves nothing behind in
// the code: one import the table allows, and forbidden ones of each kind the config checks.
const fixture: Record<string, string> = {
  "src/api/index.ts": "export type AccountId = string;\n",
  "src/ports/index.ts": "export interface Clock {\n  now(): Date;\n}\n",
  "src/adapters/sqlite/index.ts": "export const openSqlite = () => ({});\n",
  "src/domain/allowed.ts":
    'import type { AccountId } from "../api/index.ts";\nexport const root: AccountId = "000000000000";\n',
  "src/domain/forbidden.ts":
    'import { openSqlite } from "../adapters/sqlite/index.ts";\nexport const db = openSqlite();\n',
  "src/domain/type-only.ts":
    'import type { Clock } from "../ports/index.ts";\nexport type Timed = { clock: Clock };\n',
  "src/domain/io.ts": 'import { readFileSync } from "node:fs";\nexport const read = readFileSync;\n',
};

describe("layer rules (.dependency-cruiser.cjs)", () => {
  let root: string;
  let result: ICruiseResult;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "opentrail-layers-"));
    for (const [path, text] of Object.entries(fixture)) {
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), text);
    }
    const options = await extractDepcruiseOptions(config);
    const { output } = await cruise(["src"], { ...options, baseDir: root });
    result = output as ICruiseResult;
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const violations = () =>
    result.summary.violations.map((v) => `${v.from} → ${v.to} (${v.rule.name})`).sort();

  it("reports a forbidden import, a type-only one too, and a forbidden builtin", () => {
    expect(violations()).toEqual([
      "src/domain/forbidden.ts → src/adapters/sqlite/index.ts (layer-domain)",
      "src/domain/io.ts → fs (domain-no-io)",
      "src/domain/type-only.ts → src/ports/index.ts (layer-domain)",
    ]);
    expect(result.summary.error).toBe(3);
  });

  it("does not report an import the table allows", () => {
    expect(violations().filter((v) => v.startsWith("src/domain/allowed.ts"))).toEqual([]);
    const allowed = result.modules.find((m) => m.source === "src/domain/allowed.ts");
    expect(allowed?.dependencies.map((d) => [d.resolved, d.valid])).toEqual([["src/api/index.ts", true]]);
  });
});
