/** Readers of single values, each with the message the configuration has always given. */

export class ConfigError extends Error {}

/** A string that must not be empty; undefined and null are absent. */
export function nonEmpty(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw new ConfigError(`${what} must be a non-empty string`);
  return v;
}

/** Why the text is not a port, as commander says it of the --port flag; undefined when it is one. */
export function portProblem(text: string): string | undefined {
  return /^\d+$/.test(text) && Number(text) <= 65535 ? undefined : "must be a port number (0-65535)";
}

/** A port from a flag, a variable or the file; an empty text is absent. */
export function parsePort(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${what} must be a port number (0-65535)`);
  return n;
}
