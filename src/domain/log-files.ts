/**
 * CloudTrail log files: object keys and bodies, as log-files.md §4–5 lay them out.
 */

const UNIQUE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The 16-character random part of a log file name, from random bytes the caller supplies. */
export function uniquePart(random: Uint8Array): string {
  if (random.length < 16) throw new Error("uniquePart needs 16 random bytes");
  let out = "";
  // 62 does not divide 256; the slight bias is harmless for a name that only has to be unlikely to repeat
  for (let i = 0; i < 16; i++) out += UNIQUE_ALPHABET[random[i]! % UNIQUE_ALPHABET.length];
  return out;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export type LogFileKind = "CloudTrail" | "CloudTrail-Insight";

export interface LogFileKeyParts {
  /** The trail's S3KeyPrefix; absent or "" for none. Joined with one literal "/", never normalised. */
  prefix?: string;
  accountId: string;
  /** Region of the events in the file. */
  region: string;
  /** Delivery time: the folders and the minute stamp. */
  deliveredAt: Date;
  unique: string;
  kind?: LogFileKind;
}

/** `[prefix/]AWSLogs/<acct>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail_<region>_<YYYYMMDD>T<HHmm>Z_<unique>.json.gz` */
export function logFileKey(p: LogFileKeyParts): string {
  const kind = p.kind ?? "CloudTrail";
  const d = p.deliveredAt;
  const yyyy = pad(d.getUTCFullYear(), 4);
  const mm = pad(d.getUTCMonth() + 1);
  const dd = pad(d.getUTCDate());
  const stamp = `${yyyy}${mm}${dd}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
  const head = p.prefix ? `${p.prefix}/` : "";
  return `${head}AWSLogs/${p.accountId}/${kind}/${p.region}/${yyyy}/${mm}/${dd}/${p.accountId}_${kind}_${p.region}_${stamp}_${p.unique}.json.gz`;
}

/** Is the key an Insights log file's? Digests do not list them (insights.md §5). */
export function isInsightFileKey(key: string): boolean {
  return /(^|\/)AWSLogs\/[^/]+\/CloudTrail-Insight\//.test(key);
}

/** `s` as a literal inside a RegExp. */
export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/** What a log-file or digest key holds before `AWSLogs/`: "" or the prefix with its "/"; undefined for other keys. */
export function keyHead(key: string): string | undefined {
  const at = key.indexOf("AWSLogs/");
  return at < 0 ? undefined : key.slice(0, at);
}

/** `<head>AWSLogs/<acct>/CloudTrail/<region>/`: the folder of a region's log files, below `keyHead`'s text. */
export function logFileFolder(head: string, accountId: string, region: string): string {
  return `${head}AWSLogs/${accountId}/CloudTrail/${region}/`;
}

/** `YYYY/MM/DD`: the day folder (below the region's folder) of a time in epoch ms. */
export function dayFolder(time: number): string {
  return new Date(time).toISOString().slice(0, 10).replaceAll("-", "/");
}

/**
 * Reads the delivery minute (epoch ms) from a log file's key below its region's folder
 * (`YYYY/MM/DD/<name>`); undefined for any other name.
 */
export function deliveryMinuteReader(
  accountId: string,
  region: string,
): (rest: string) => number | undefined {
  const name = new RegExp(
    `^\\d{4}/\\d{2}/\\d{2}/${escapeRegExp(accountId)}_CloudTrail_${escapeRegExp(region)}_(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})Z_[^/]*\\.json\\.gz$`,
  );
  return (rest) => {
    const m = name.exec(rest);
    if (!m) return undefined;
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  };
}

/**
 * The body of a log file from records stored as JSON text: the texts go in as they are, so every
 * record reaches the bucket exactly as it was recorded.
 */
export function logFileBody(recordTexts: readonly string[]): string {
  if (recordTexts.length === 0) throw new Error("a log file holds at least one record");
  return `{"Records":[${recordTexts.join(",")}]}`;
}

/** Half-open logging periods in epoch ms; `stop` absent while logging. */
export interface LoggingPeriod {
  start: number;
  stop?: number;
}

/**
 * Was the trail logging at `time`? The service's own calls are routed with the exact time of the
 * call (`exact`); records from elsewhere carry whole seconds, so for them the start counts from
 * its whole second and the stop's second counts in full.
 */
export function loggingAt(periods: readonly LoggingPeriod[], time: Date, exact: boolean): boolean {
  const t = time.getTime();
  for (const p of periods) {
    const start = exact ? p.start : Math.floor(p.start / 1000) * 1000;
    const stop = p.stop === undefined ? undefined : exact ? p.stop : Math.floor(p.stop / 1000) * 1000 + 999;
    if (t >= start && (stop === undefined || t <= stop)) return true;
  }
  return false;
}

/** Periods kept on a trail; older ones are dropped (events that old cannot be delivered anyway). */
export const MAX_LOGGING_PERIODS = 100;

export function startPeriod(periods: readonly LoggingPeriod[], at: Date): LoggingPeriod[] {
  return [...periods, { start: at.getTime() }].slice(-MAX_LOGGING_PERIODS);
}

export function stopPeriod(periods: readonly LoggingPeriod[], at: Date): LoggingPeriod[] {
  return periods.map((p) => (p.stop === undefined ? { ...p, stop: at.getTime() } : p));
}
