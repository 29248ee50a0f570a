import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const REPO = new URL("../../", import.meta.url);

/** Newest modification time of any file under a directory. */
async function newest(path: string): Promise<number> {
  let latest = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** dist/cli/main.js, built first when any source is newer than it. */
export async function builtCli(): Promise<string> {
  const cli = new URL("dist/cli/main.js", REPO).pathname;
  let builtAt = 0;
  try {
    builtAt = statSync(cli).mtimeMs;
  } catch {
    // not built yet
  }
  if (builtAt < (await newest(new URL("src", REPO).pathname))) {
    await promisify(execFile)("npm", ["run", "build", "--silent"], { cwd: REPO.pathname });
  }
  return cli;
}
