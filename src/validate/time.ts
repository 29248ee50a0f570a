/**
 * Times as validate-logs takes and prints them. The AWS CLI reads --start-time and --end-time with a
 * lenient date parser; the forms people pass are ISO 8601 (extended or basic, with or without a
 * time or a zone) and, here too, epoch seconds, which the AWS CLI v1 rejects.
 */

const EXTENDED =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const EPOCH = /^\d{1,11}(?:\.\d+)?$/;

/** A time given on the command line, or undefined when it is none of the accepted forms. */
export function parseTime(text: string): Date | undefined {
  const s = text.trim();
  if (EPOCH.test(s)) return new Date(Math.round(Number(s) * 1000));
  const m = EXTENDED.exec(s) ?? BASIC.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone] = m;
  const ms = Math.round(Number(`0.${frac || "0"}`) * 1000);
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), ms);
  const check = new Date(local);
  // Date.UTC rolls 2015-02-30 over to March; an impossible date is a mistake, not a time
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23) {
    return undefined;
  }
  // without a zone the time is UTC, as the AWS CLI takes it
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== "Z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  return new Date(local - offsetMin * 60_000);
}

/** `2015-01-08T05:21:42Z`: how the AWS CLI prints times in its output. */
export function displayTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}
