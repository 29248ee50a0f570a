import { fileValue, readConfigFile } from "./file.ts";
import { ROWS, SETTINGS, type Setting, type SettingName } from "./settings.ts";

type Settings = typeof SETTINGS;

type Camel<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<Camel<Tail>>}`
  : S;
type FlagKey<F> = F extends `--${infer Name} ${string}` ? Camel<Name> : never;
type FlagOf<S> = S extends { flag: infer F } ? FlagKey<F> : never;
type FlagValue<S> = S extends { numeric: true } ? string | number : string;

/** The flags of the table under commander's names for them (`--data-dir <dir>` is `dataDir`). */
export type Flags = { [K in SettingName as FlagOf<Settings[K]>]?: FlagValue<Settings[K]> };

/** Each setting's value; those that need another are undefined without it. */
export type SettingValues = {
  -readonly [K in SettingName]: Settings[K] extends Setting<infer T>
    ? Settings[K] extends { needs: string }
      ? T | undefined
      : T
    : never;
};

export type Env = Record<string, string | undefined>;

export interface Sources {
  flags: Flags;
  env: Env;
  cwd: string;
}

/** The key of ConfigSources.flags for a flag, as commander names it (`Option.attributeName()`). */
export function flagKey(flag: string): string {
  return flag
    .slice(2)
    .split(" ")[0]!
    .replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}

/** The flags of `opentrail serve`, in the table's order. */
export function serveFlags(): {
  flag: string;
  help: string;
  problem?: (text: string) => string | undefined;
  repeatable?: true;
}[] {
  return Object.values(ROWS).flatMap((s) =>
    s.flag
      ? [
          {
            flag: s.flag,
            help: s.help ?? "",
            ...(s.flagProblem ? { problem: s.flagProblem } : {}),
            ...(s.repeatable ? { repeatable: s.repeatable } : {}),
          },
        ]
      : [],
  );
}

const nullIsAbsent = (v: unknown) => v ?? undefined;

/** Flag, else variable, else file, else default; each source read only when those before have nothing. */
function find(s: (typeof ROWS)[SettingName], sources: Sources, content: Record<string, unknown>): unknown {
  const fromText = s.fromText ?? ((v: string | number) => v);
  if (s.flag) {
    const flag = s.flag.split(" ")[0]!;
    const v = (sources.flags as Record<string, string | number | undefined>)[flagKey(s.flag)];
    const found = v === undefined ? undefined : fromText(v, flag);
    if (found !== undefined) return found;
  }
  if (s.env) {
    const v = sources.env[s.env];
    const found = v === undefined ? undefined : fromText(v, s.env);
    if (found !== undefined) return found;
  }
  if (s.file) {
    const found = (s.fromFile ?? nullIsAbsent)(fileValue(content, s.file), s.file);
    if (found !== undefined) return found;
  }
  return s.default;
}

/**
 * Every setting of the table, read in its order; `after` runs a rule on the settings read so far
 * as soon as the named one is, so that errors come in the table's order.
 */
export function readSettings(
  sources: Sources,
  after: { [K in SettingName]?: (settled: Partial<SettingValues>) => void } = {},
): SettingValues {
  // the file first: any other setting may be in it
  const file = SETTINGS.config.parse(find(ROWS.config, sources, {}));
  const content = file ? readConfigFile(file) : {};
  const settled: Partial<Record<SettingName, unknown>> = { config: file };
  for (const name of Object.keys(ROWS) as SettingName[]) {
    if (name === "config") continue;
    const s = ROWS[name];
    if (s.needs && !settled[s.needs]) {
      settled[name] = undefined;
      continue;
    }
    settled[name] = s.parse(find(s, sources, content), sources.cwd);
    after[name]?.(settled as Partial<SettingValues>);
  }
  return settled as SettingValues;
}
