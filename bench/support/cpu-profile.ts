import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";

/** Where a V8 CPU profile (`node --cpu-prof`) says the time went: self and total time per function. */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === "" ? "(anonymous)" : functionName;
  if (url === "") return name;
  const file = url.includes("/node_modules/")
    ? url.slice(url.lastIndexOf("/node_modules/") + 14)
    : url.includes("/dist/")
      ? url.slice(url.lastIndexOf("/dist/") + 6)
      : basename(url);
  return `${name} ${file}:${lineNumber + 1}`;
}

/**
 * Where ingest spends its time, by the innermost frame of a sample that belongs to one of these.
 * Builtins (JSON.parse, TextDecoder) have no frame of their own: they count for their caller.
 */
const STAGES: readonly (readonly [string, RegExp])[] = [
  ["SQLite append (adapter, better-sqlite3, commit)", /adapters\/sqlite\/|better-sqlite3/],
  ["record checks (domain/records/ingest)", /domain\/records\/ingest/],
  ["event-history columns (domain/records/stored)", /domain\/records\/stored|domain\/selectors/],
  ["SigV4 verification", /wire\/sigv4|signature-v4/],
  ["body decoding and JSON.parse (wire/ingest)", /wire\/ingest/],
  ["ingest service loop", /service\/ingest/],
  ["HTTP (body read, response)", /http\/server|node:_http|node:net|node:stream/],
];

const SPECIAL = new Set(["(garbage collector)", "(idle)", "(program)"]);

function stageOf(node: ProfileNode, parents: ReadonlyMap<number, ProfileNode>): string {
  if (SPECIAL.has(node.callFrame.functionName)) return node.callFrame.functionName;
  for (let n: ProfileNode | undefined = node; n; n = parents.get(n.id)) {
    for (const [stage, pattern] of STAGES) if (pattern.test(n.callFrame.url)) return stage;
  }
  return "other";
}

function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0]!;
}

function table(title: string, rows: [string, number][], totalUs: number, top: number): string {
  const lines = rows
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, us]) =>
        `  ${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  return [title, ...lines].join("\n");
}

/** The newest profile in `dir`, summarised as the functions with the most self and total time. */
export function summarizeProfile(dir: string, top = 25): string {
  const path = newestProfile(dir);
  const profile = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);

  const total = new Map<number, number>();
  const inclusive = (id: number): number => {
    const known = total.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const sum = (self.get(id) ?? 0) + (node.children ?? []).reduce((s, c) => s + inclusive(c), 0);
    total.set(id, sum);
    return sum;
  };
  for (const node of profile.nodes) inclusive(node.id);

  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);
  const byStage = new Map<string, number>();
  for (const [id, us] of self) {
    const stage = stageOf(byId.get(id)!, parents);
    byStage.set(stage, (byStage.get(stage) ?? 0) + us);
  }

  const selfBy = new Map<string, number>();
  const totalBy = new Map<string, number>();
  // A function that calls itself would be counted once per frame; count only its outermost frame.
  const walk = (id: number, open: ReadonlySet<string>) => {
    const node = byId.get(id)!;
    const name = label(node);
    selfBy.set(name, (selfBy.get(name) ?? 0) + (self.get(id) ?? 0));
    if (!open.has(name)) totalBy.set(name, (totalBy.get(name) ?? 0) + total.get(id)!);
    const next = new Set(open).add(name);
    for (const child of node.children ?? []) walk(child, next);
  };
  walk(profile.nodes[0]!.id, new Set());
  totalBy.delete("(root)");

  return [
    `server CPU profile ${path}: ${(totalUs / 1e6).toFixed(1)} s of the main thread, wall clock (blocking I/O counts where it happens)`,
    table("by stage:", [...byStage], totalUs, top),
    table("self time:", [...selfBy], totalUs, top),
    table("total time (self and callees):", [...totalBy], totalUs, top),
  ].join("\n");
}
