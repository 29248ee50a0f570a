import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

/**
 * scripts/python-deps.sh, run by `npm test`: installs requirements-dev.txt only when an import
 * fails, and says what to do when the install fails. A stand-in python3 plays pip.
 */

const SCRIPT = new URL("../../scripts/python-deps.sh", import.meta.url).pathname;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A PATH where python3 fails every import and pip ends with `pipStatus`, logging its arguments. */
function fakePython(pipStatus: number): { bin: string; log: string } {
  const bin = mkdtempSync(join(tmpdir(), "opentrail-fake-python-"));
  dirs.push(bin);
  const log = join(bin, "calls.log");
  const python = join(bin, "python3");
  writeFileSync(
    python,
    `#!/bin/sh\necho "$@" >> "${log}"\nif [ "$1" = "-m" ]; then exit ${pipStatus}; fi\nexit 1\n`,
  );
  chmodSync(python, 0o755);
  return { bin, log };
}

const run = (bin: string) =>
  promisify(execFile)("bash", [SCRIPT], { env: { PATH: `${bin}:/usr/bin:/bin` } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe("python-deps.sh", () => {
  it("installs the pinned requirements when an import fails, and says so when that fails too", async () => {
    const { bin, log } = fakePython(1);
    const r = await run(bin);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("installing the Python test packages");
    expect(r.stderr).toContain("could not install the Python test packages");
    expect(r.stderr).toContain("python3 -m pip install -r requirements-dev.txt");
    expect(readFileSync(log, "utf8")).toContain("-m pip install --quiet -r requirements-dev.txt");
  });

  it("says what is wrong when the install succeeds but the packages still cannot be used", async () => {
    const { bin } = fakePython(0);
    const r = await run(bin);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("installed but cannot be used");
  });

  it("pins every package to one version", () => {
    const lines = readFileSync(new URL("../../requirements-dev.txt", import.meta.url), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(lines.map((l) => l.split("==")[0])).toEqual([
      "awscli",
      "boto3",
      "botocore",
      "moto[server]",
      "pytest",
    ]);
    for (const line of lines) expect(line).toMatch(/^[a-z0-9[\]-]+==\d+(\.\d+)+$/);
  });
});
