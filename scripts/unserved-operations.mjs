#!/usr/bin/env node
// Writes the CloudTrail operations of the AWS model that opentrail does not serve: the list in
// src/api/unserved-operations.ts and README's "Not implemented" section. The model's operations are
// the commands of @aws-sdk/client-cloudtrail (test/api/unserved-operations.test.ts checks them
// against botocore's model too). Run after upgrading the SDK: `node scripts/unserved-operations.mjs`.
import { readFileSync, writeFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const sdk = await import("@aws-sdk/client-cloudtrail");
const modelOps = Object.keys(sdk)
  .filter((k) => /^[A-Z]\w*Command$/.test(k))
  .map((k) => k.slice(0, -"Command".length))
  .sort();
const served = [
  ...readFileSync(new URL("src/api/operations.ts", root), "utf8")
    .match(/export const OPERATIONS = \[([^\]]*)\]/)[1]
    .matchAll(/"(\w+)"/g),
].map((m) => m[1]);
const unserved = modelOps.filter((op) => !served.includes(op));

writeFileSync(
  new URL("src/api/unserved-operations.ts", root),
  `// Written by scripts/unserved-operations.mjs from the SDK's CloudTrail model: do not edit.

/** Operations of CloudTrail 2013-11-01 that opentrail does not serve: each answers UnsupportedOperationException. */
export const UNSERVED_OPERATIONS = [
${unserved.map((op) => `  "${op}",`).join("\n")}
] as const;
`,
);

const readmeUrl = new URL("README.md", root);
const readme = readFileSync(readmeUrl, "utf8");
const start = "<!-- not-implemented:start -->";
const end = "<!-- not-implemented:end -->";
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} section`);
const list = unserved.map((op) => `\`${op}\``).join(", ");
writeFileSync(readmeUrl, `${readme.slice(0, a + start.length)}\n${list}\n${readme.slice(b)}`);
console.log(`${unserved.length} operations not served, of ${modelOps.length}`);
