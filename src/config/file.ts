import { readFileSync } from "node:fs";
import { ROWS } from "./settings.ts";
import { ConfigError } from "./values.ts";

function isBlock(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Levenshtein distance: how many letters to insert, delete or change to make one key the other. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        row[j - 1]! + 1,
        previous[j]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}

function refuseUnknownKeys(o: Record<string, unknown>, known: readonly string[], at: string, file: string) {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    let nearest = known[0]!;
    for (const k of known) if (distance(key, k) < distance(key, nearest)) nearest = k;
    throw new ConfigError(`unknown key "${at}${key}" in ${file}; did you mean "${at}${nearest}"?`);
  }
}

/**
 * A misspelt key would otherwise leave its setting at the default without a word: every key, at the
 * top, in a block (s3) and in a list's entries (credentials), must be one the table knows.
 */
function checkKeys(content: Record<string, unknown>, file: string): void {
  const rows = Object.values(ROWS);
  const top = [...new Set(rows.flatMap((s) => (s.file ? [s.file.split(".")[0]!] : [])))];
  refuseUnknownKeys(content, top, "", file);
  for (const block of top) {
    const keys = rows.flatMap((s) =>
      s.file?.startsWith(`${block}.`) ? [s.file.slice(block.length + 1)] : [],
    );
    const value = content[block];
    if (keys.length > 0 && isBlock(value)) refuseUnknownKeys(value, keys, `${block}.`, file);
  }
  for (const s of rows) {
    const list = s.file === undefined ? undefined : content[s.file];
    if (!s.entryKeys || !Array.isArray(list)) continue;
    list.forEach((entry, i) => {
      if (isBlock(entry)) refuseUnknownKeys(entry, s.entryKeys!, `${s.file}[${i}].`, file);
    });
  }
}

/** The configuration file's object, each of its keys one the table knows. */
export function readConfigFile(file: string): Record<string, unknown> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
  }
  if (!isBlock(content)) throw new ConfigError(`configuration file ${file} must hold a JSON object`);
  checkKeys(content, file);
  return content;
}

/** The file's value at `key` or `block.key`; undefined where a block is not an object. */
export function fileValue(content: Record<string, unknown>, path: string): unknown {
  let v: unknown = content;
  for (const key of path.split("."))
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}
