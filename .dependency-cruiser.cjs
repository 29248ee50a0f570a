// The layer table of ARCHITECTURE.md ("Layout", column "may import"), checked by `npm run lint:layers`.
// One rule per folder; there is no list of exceptions: a file that breaks its folder's rule is moved
// or the table is changed.
//
// Paths are matched relative to the folder cruised from (the repository root, or the fixture tree of
// test/layers), so every pattern starts at `src/`.

/**
 * A folder of the table as a path pattern. `main` is the composition roots: the files directly in
 * src/ (main.ts for the server, readers.ts for validate-logs, index.ts for the package), which
 * may import everything. `adapters/index` names one file.
 */
function target(name) {
  if (name === "main") return "[^/]+\\.ts$";
  if (name === "adapters/index") return "adapters/index\\.ts$";
  return `${name}/`;
}

/** Matches the resolved path of an npm package (or the bare name when it is not installed, as pg). */
function pkg(...names) {
  const escaped = names.map((n) => n.replace(/[/.]/g, "\\$&"));
  return `(^|node_modules/)(@types/)?(${escaped.join("|")})(/|$)`;
}

/** Matches a node builtin with or without the `node:` prefix. */
function builtin(...names) {
  return `^(node:)?(${names.join("|")})$`;
}

// folder → the folders it may import besides itself (ARCHITECTURE.md, "Layout").
const layers = {
  api: [],
  domain: ["api"],
  ports: ["api", "domain"],
  recording: ["api", "domain", "ports"],
  service: ["api", "domain", "ports", "recording"],
  proxy: ["api", "domain", "ports", "recording", "wire"],
  pipeline: ["domain", "ports"],
  validate: ["domain", "ports"],
  wire: ["api", "ports"],
  http: ["wire", "proxy", "console", "api"],
  console: ["api"],
  workers: ["adapters/index", "service", "recording", "wire"],
  client: ["api"],
  config: [],
  cli: ["client", "config", "main", "validate"],
};

const layerRules = Object.entries(layers).map(([folder, allowed]) => ({
  name: `layer-${folder}`,
  comment: allowed.length
    ? `src/${folder}/ may import ${allowed.join(", ")} (ARCHITECTURE.md, Layout)`
    : `src/${folder}/ imports nothing internal (ARCHITECTURE.md, Layout)`,
  severity: "error",
  from: { path: `^src/${folder}/` },
  to: { path: "^src/", pathNot: `^src/(${[folder, ...allowed].map(target).join("|")})` },
}));

// Adapters implement ports: each backend folder knows ports, domain and itself, not the other
// backends; the files directly in src/adapters/ (index.ts, which picks the backends) may use them all.
// src/adapters/sql/ holds what the SQL backends (SQLite, PostgreSQL) share: row mappings.
const adapterRules = [
  {
    name: "layer-adapters",
    comment: "a backend in src/adapters/<backend>/ may import ports, domain, its own folder and adapters/sql",
    severity: "error",
    from: { path: "^src/adapters/([^/]+)/" },
    to: { path: "^src/", pathNot: "^src/(ports/|domain/|adapters/$1/|adapters/sql/)" },
  },
  {
    name: "layer-adapters-index",
    comment: "the files directly in src/adapters/ may import ports, domain and the backends",
    severity: "error",
    from: { path: "^src/adapters/[^/]+$" },
    to: { path: "^src/", pathNot: "^src/(ports|domain|adapters)/" },
  },
];

const known = [...Object.keys(layers), "adapters"].map((f) => `${f}/`).concat("[^/]+\\.ts$");
const unknownFolderRule = {
  name: "layer-unknown",
  comment: "a file of src/ outside the folders of the table has no rule yet: add its folder to the table",
  severity: "error",
  from: { path: "^src/", pathNot: `^src/(${known.join("|")})` },
  to: { path: "^src/" },
};

const noIo = builtin("fs", "fs/promises", "http", "net");
const adapterPackages = pkg("better-sqlite3", "pg", "@aws-sdk/client-s3");

const packageRules = [
  {
    name: "api-sdk-types-only",
    comment:
      "src/api/ imports only types: the SDK's wire types and pino's Logger (RequestContext carries one)",
    severity: "error",
    from: { path: "^src/api/" },
    to: { dependencyTypesNot: ["type-only"], pathNot: "^src/" },
  },
  {
    name: "api-sdk-packages-only",
    comment: "the only packages src/api/ names are @aws-sdk/client-cloudtrail and pino (types)",
    severity: "error",
    from: { path: "^src/api/" },
    to: { dependencyTypes: ["type-only"], pathNot: `^src/|${pkg("@aws-sdk/client-cloudtrail", "pino")}` },
  },
  {
    name: "domain-no-io",
    comment: "domain and api touch no I/O",
    severity: "error",
    from: { path: "^src/(domain|api)/" },
    to: { path: noIo },
  },
  {
    name: "domain-no-adapter-packages",
    comment: "domain and api know no adapter",
    severity: "error",
    from: { path: "^src/(domain|api)/" },
    to: { path: adapterPackages },
  },
  {
    name: "service-no-adapter-packages",
    comment: "service and pipeline know ports, not adapters",
    severity: "error",
    from: { path: "^src/(service|pipeline)/" },
    to: { path: adapterPackages },
  },
  {
    name: "service-no-http",
    comment: "service and pipeline know no HTTP",
    severity: "error",
    from: { path: "^src/(service|pipeline)/" },
    to: { path: builtin("http") },
  },
];

module.exports = {
  forbidden: [
    ...layerRules,
    ...adapterRules,
    unknownFolderRule,
    ...packageRules,
    {
      name: "no-circular",
      comment: "a cycle makes two modules one layer",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment: "an import that does not resolve escapes every rule above",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // `import type` counts: a type-only import still ties one layer to another.
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    // packages that name their entry points only in `exports` (@cloud-copilot/iam-simulate)
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
