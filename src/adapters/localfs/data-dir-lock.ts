import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The lock file in a data directory: the PID of the server that has it. */
export const LOCK_FILE = "opentrail.lock";

/** Another live process has the data directory. */
export class DataDirInUse extends Error {
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(
      `the data directory ${dataDir} is in use by another opentrail (pid ${pid}); stop it, or give this one another --data-dir (if no such process is an opentrail, delete ${join(dataDir, LOCK_FILE)})`,
    );
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, it is someone else's
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function holder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data directory for this process: one server per SQLite database and bucket directory.
 * A lock left by a process that is gone is taken over. `release` removes it if it is still ours.
 */
export function lockDataDir(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const mine = String(process.pid);
  for (;;) {
    try {
      writeFileSync(path, `${mine}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const pid = holder(path);
    if (pid !== undefined && pid !== process.pid && alive(pid)) throw new DataDirInUse(dataDir, pid);
    // stale (or this process's own): take it over
    rmSync(path, { force: true });
  }
  return {
    release() {
      if (holder(path) === process.pid) rmSync(path, { force: true });
    },
  };
}
