import { readFileSync } from "node:fs";
import { ConfigError } from "./values.ts";

function isBlock(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The configuration file's object. */
export function readConfigFile(file: string): Record<string, unknown> {
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(e as Error).message}`);
  }
  if (!isBlock(content)) throw new ConfigError(`configuration file ${file} must hold a JSON object`);
  return content;
}

/** The file's value at `key` or `block.key`; undefined where a block is not an object. */
export function fileValue(content: Record<string, unknown>, path: string): unknown {
  let v: unknown = content;
  for (const key of path.split("."))
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}
