import { readdirSync, readFileSync } from "node:fs";

/**
 * The CPU time the database server's processes spent during a benchmark, to put beside the
 * nodes' CPU per record (a fresh database for each run comes from test/support/fresh-database.ts).
 */

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux build that matters here. */
const CLOCK_TICKS = 100;

/**
 * utime + stime of every process named `postgres` on this machine, in ms, by process id (Linux
 * /proc; empty elsewhere). A backend's CPU is counted in its own process, so the postmaster, the
 * WAL writer, the checkpointer and every connection's backend are all here; a backend that exits
 * between two readings takes its time with it.
 */
export function postgresCpuMs(): Map<number, number> {
  const byPid = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return byPid;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    if (stat.slice(open + 1, close) !== "postgres") continue;
    const fields = stat.slice(close + 2).split(" ");
    byPid.set(Number(pid), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS);
  }
  return byPid;
}

/** CPU ms the postgres processes spent between two readings (processes new since `before` from 0). */
export function postgresCpuSpentMs(before: Map<number, number>, after: Map<number, number>): number {
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}
