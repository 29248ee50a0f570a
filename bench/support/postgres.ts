import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

/**
 * The CPU time the database server's processes spent during a benchmark, to put beside the
 * nodes' CPU per record (a fresh database for each run comes from test/support/fresh-database.ts).
 */

/** Clock ticks per second of /proc/PID/stat; 100 on every Linux build that matters here. */
const CLOCK_TICKS = 100;

/** What a postgres process works for, from its title (`postgres: 15/main: user db host(port) state`). */
type PostgresRole = "run" | "shared" | "other";

function roleOf(title: string, database: string): PostgresRole {
  const m = /^postgres: [^:]+: (.*)$/.exec(title.trim());
  // the postmaster keeps the command line it was started with
  if (!m) return "shared";
  const words = m[1]!.split(/\s+/);
  // a client backend: user, database, host(port) or [local], state
  if (words.length >= 3 && (/\(\d+\)$/.test(words[2]!) || words[2] === "[local]")) {
    return words[1] === database ? "run" : "other";
  }
  if (m[1]!.startsWith("autovacuum worker")) return words.at(-1) === database ? "run" : "other";
  // WAL writer, checkpointer, background writer, launchers: work for every database
  return "shared";
}

export interface PostgresSample {
  /** CPU ms by process id, of the processes that work for `database` or for every database. */
  byPid: Map<number, { ms: number; role: "run" | "shared" }>;
}

/**
 * utime + stime of the postgres processes on this machine that work for `database` (its
 * backends and autovacuum workers) or for every database (postmaster, WAL writer,
 * checkpointer, …), in ms (Linux /proc; empty elsewhere). Other databases' backends, such as
 * another developer's tests on the same server, are left out. A backend's CPU is counted in its
 * own process; one that exits between two samples takes its time with it.
 */
export function postgresCpu(database: string): PostgresSample {
  const byPid: PostgresSample["byPid"] = new Map();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return { byPid };
  }
  for (const pid of pids) {
    let stat: string;
    let title: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) !== "postgres") continue;
      title = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      continue;
    }
    const role = roleOf(title, database);
    if (role === "other") continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    byPid.set(Number(pid), { ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS, role });
  }
  return { byPid };
}

/** CPU ms spent between two samples (processes new since `before` from 0), the run's and the shared. */
export function postgresCpuSpent(
  before: PostgresSample,
  after: PostgresSample,
): { run: number; shared: number } {
  const spent = { run: 0, shared: 0 };
  for (const [pid, { ms, role }] of after.byPid) spent[role] += ms - (before.byPid.get(pid)?.ms ?? 0);
  return spent;
}

/** The line both benchmarks print: PostgreSQL's CPU per record, split into the run's and the shared. */
export function postgresCpuLine(
  spent: { run: number; shared: number },
  records: number,
  wallMs: number,
): string {
  const us = (ms: number) => ((ms * 1000) / records).toFixed(1);
  const total = spent.run + spent.shared;
  return (
    `PostgreSQL CPU: ${us(total)} µs per record (this database's backends ${us(spent.run)}, ` +
    `shared processes such as the WAL writer ${us(spent.shared)}), ${((100 * total) / wallMs).toFixed(0)}% of one core`
  );
}

export interface WalSample {
  /** WAL position, bytes from the cluster's start: every database's writes move it. */
  walBytes: number;
  /** Transactions committed in the run's database so far (as last reported by its backends). */
  commits: number;
}

/** Where the WAL is and how many transactions the database of `url` has committed. */
export async function walSample(url: string): Promise<WalSample> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // statistics a backend has not flushed yet would be missed; this flushes this backend's own
    const { rows } = await client.query<{ wal: string; commits: string }>(
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal, xact_commit::text AS commits
         FROM pg_stat_database WHERE datname = current_database()`,
    );
    return { walBytes: Number(rows[0]!.wal), commits: Number(rows[0]!.commits) };
  } finally {
    await client.end();
  }
}

/** The WAL line both benchmarks print: bytes and commits per record between two samples. */
export function walLine(before: WalSample, after: WalSample, records: number, wallMs: number): string {
  const bytes = after.walBytes - before.walBytes;
  const commits = after.commits - before.commits;
  return (
    `PostgreSQL WAL: ${(bytes / records).toFixed(0)} bytes per record, ${(((bytes / wallMs) * 1000) / 1024 / 1024).toFixed(1)} MB/s ` +
    `(the whole server's); ${((1000 * commits) / records).toFixed(1)} commits per 1,000 records, ${((commits / wallMs) * 1000).toFixed(0)}/s (this database's)`
  );
}
