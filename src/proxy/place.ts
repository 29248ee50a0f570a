import type { PlacedCall, Protocol, ProxiedRequest } from "./call.ts";
import {
  type MemberRef,
  type ModelTable,
  memberOf,
  type OperationModel,
  type ServiceModel,
  shapeOf,
  structureMembers,
} from "./models.ts";

/**
 * Which call a request is, from the model table alone (recording-other-services.md §1): the
 * signing name narrows the services, the protocol's discriminator (X-Amz-Target, Action/Version,
 * the rpc-v2-cbor path, the REST URI template) names the operation. Never throws: a request the
 * models cannot place is `service: "unknown"` or `operation: undefined`.
 */

export interface PlacementOptions {
  /**
   * Host names S3 is addressed under, besides AWS's own (`s3.amazonaws.com`, `s3.<region>…`):
   * `<bucket>.<base>` is virtual-hosted, `<base>` itself path-style.
   */
  s3BaseHosts?: readonly string[];
}

/** A placed call with what rendering needs again: the service and operation models, the S3 address. */
export interface Placement extends PlacedCall {
  model: ServiceModel | undefined;
  op: OperationModel | undefined;
  /** Values of the URI labels of a REST template ("Bucket", "Key", "FunctionName"). */
  labels: Record<string, string>;
  /** S3: how the bucket was addressed. */
  s3Style?: "virtual" | "path";
}

const DEFAULT_S3_BASE_HOSTS = ["localhost", "localhost.localstack.cloud", "s3.localhost.localstack.cloud"];

/** The request head placement looks at (the body only for query/json/cbor discriminators). */
export type RequestHead = Omit<ProxiedRequest, "body"> & { body?: Uint8Array | undefined };

interface CompiledTemplate {
  service: string;
  operation: string;
  method: string;
  regex: RegExp;
  labels: string[];
  /** Query literals of the template: key → value ("" for a valueless key). */
  queryLiterals: [string, string][];
  /** Required members located in the query string / headers (lower-cased header names). */
  requiredQuery: string[];
  requiredHeaders: string[];
  /** Ranking: literal segments, plain labels, literal characters (higher is better). */
  score: [number, number, number];
}

export interface Placer {
  place(req: RequestHead): Placement;
  /** The protocol a request head uses, before its body is read. */
  protocolOf(req: RequestHead): Protocol | undefined;
  table: ModelTable;
}

export function createPlacer(table: ModelTable, options: PlacementOptions = {}): Placer {
  const index = buildIndex(table);
  const s3Bases = [...DEFAULT_S3_BASE_HOSTS, ...(options.s3BaseHosts ?? [])].map((h) => h.toLowerCase());
  const unknown = (protocol: Protocol | undefined): Placement => ({
    service: "unknown",
    operation: undefined,
    protocol,
    model: undefined,
    op: undefined,
    labels: {},
  });
  const placed = (
    service: string,
    operation: string | undefined,
    protocol: Protocol,
    labels: Record<string, string> = {},
  ): Placement => {
    const model = table.services[service];
    return {
      service,
      operation,
      protocol,
      model,
      op: operation === undefined ? undefined : model?.operations[operation],
      labels,
    };
  };

  function candidatesFor(req: RequestHead): string[] {
    const host = hostOf(req);
    const firstLabel = host.split(".")[0] ?? "";
    const signing = req.signingName ?? signingNameFromQuery(req.query);
    const byName = signing === undefined ? [] : (index.bySigningName.get(signing) ?? []);
    if (byName.length > 0) return preferHost(byName, firstLabel, table);
    const byPrefix = index.byEndpointPrefix.get(firstLabel) ?? [];
    return byPrefix;
  }

  function protocolOf(req: RequestHead): Protocol | undefined {
    const h = req.headers;
    if ((h["smithy-protocol"] ?? "").toLowerCase() === "rpc-v2-cbor") return "smithy-rpc-v2-cbor";
    if (h["x-amz-target"] !== undefined) return "json";
    const type = (h["content-type"] ?? "").toLowerCase();
    if (type.startsWith("application/x-www-form-urlencoded") && req.method === "POST") return "query";
    if (/(^|&)Action=/.test(req.query)) return "query";
    return undefined;
  }

  function placeJson(req: RequestHead): Placement {
    const target = req.headers["x-amz-target"] ?? "";
    const dot = target.lastIndexOf(".");
    const prefix = dot < 0 ? "" : target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const services = index.byTargetPrefix.get(prefix) ?? [];
    if (services.length === 0) return unknown("json");
    const host = hostOf(req);
    const chosen =
      services.length === 1 ? services[0]! : pickByHost(services, host, table, candidatesFor(req));
    const model = table.services[chosen]!;
    return placed(chosen, model.operations[operation] === undefined ? undefined : operation, "json");
  }

  function placeCbor(req: RequestHead): Placement {
    const match = /^\/service\/([^/]+)\/operation\/([^/?]+)/.exec(req.path);
    if (match === null) return unknown("smithy-rpc-v2-cbor");
    const [, serviceShape, operation] = match as unknown as [string, string, string];
    let services = (index.byTargetPrefix.get(serviceShape) ?? []).filter((s) =>
      table.services[s]!.protocols.includes("smithy-rpc-v2-cbor"),
    );
    if (services.length === 0)
      services = candidatesFor(req).filter((s) => table.services[s]!.operations[operation] !== undefined);
    if (services.length === 0) return unknown("smithy-rpc-v2-cbor");
    const chosen = services.length === 1 ? services[0]! : pickByHost(services, hostOf(req), table, []);
    const model = table.services[chosen]!;
    return placed(
      chosen,
      model.operations[operation] === undefined ? undefined : operation,
      "smithy-rpc-v2-cbor",
    );
  }

  function placeQuery(req: RequestHead): Placement {
    const params = new URLSearchParams(req.query);
    const type = (req.headers["content-type"] ?? "").toLowerCase();
    if (req.body !== undefined && type.startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(new TextDecoder().decode(req.body))) params.append(k, v);
    }
    const action = params.get("Action");
    const version = params.get("Version");
    const speaksQuery = (s: string) => {
      const m = table.services[s]!;
      return m.protocols.includes("query") || m.protocols.includes("ec2") || m.awsQueryCompatible === true;
    };
    let services = candidatesFor(req).filter(speaksQuery);
    if (services.length === 0 && version !== null) services = index.queryByVersion.get(version) ?? [];
    if (services.length === 0) return unknown("query");
    if (services.length > 1 && version !== null) {
      const sameVersion = services.filter((s) => table.services[s]!.apiVersion === version);
      if (sameVersion.length > 0) services = sameVersion;
    }
    if (services.length > 1 && action !== null) {
      const withOp = services.filter((s) => table.services[s]!.operations[action] !== undefined);
      if (withOp.length > 0) services = withOp;
    }
    const chosen = services.length === 1 ? services[0]! : pickByHost(services, hostOf(req), table, []);
    const model = table.services[chosen]!;
    const protocol: Protocol = model.protocols.includes("ec2") ? "ec2" : "query";
    const operation = action !== null && model.operations[action] !== undefined ? action : undefined;
    return placed(chosen, operation, protocol);
  }

  function placeRest(req: RequestHead): Placement {
    let services = candidatesFor(req).filter((s) => {
      const p = table.services[s]!.protocols;
      return p.includes("rest-json") || p.includes("rest-xml");
    });
    // Unsigned REST requests are S3's (anonymous reads of public objects, browser form uploads).
    if (services.length === 0 && req.signingName === undefined && req.path.length > 1 && table.services.s3) {
      services = ["s3"];
    }
    if (services.length === 0) return unknown(undefined);
    let path = req.path;
    let s3Style: "virtual" | "path" | undefined;
    if (services.includes("s3") || services.includes("s3control")) {
      if (path.startsWith("/v20180820/") || req.headers["x-amz-account-id"] !== undefined) {
        services = services.filter((s) => s !== "s3");
      } else {
        services = services.filter((s) => s !== "s3control");
        const bucket = virtualHostBucket(hostOf(req), req.region, s3Bases);
        if (bucket !== undefined) {
          path = `/${encodeURIComponent(bucket)}${path === "" ? "/" : path}`;
          if (path.endsWith("/") && path.indexOf("/", 1) === path.length - 1) path = path.slice(0, -1);
          s3Style = "virtual";
        } else {
          s3Style = "path";
        }
      }
    }
    const query = parseQuery(req.query);
    const segments = decodePath(path);
    const host = hostOf(req);
    const method = req.method.toUpperCase();
    let best: { t: CompiledTemplate; labels: Record<string, string>; rank: number[] } | undefined;
    const xId = query.get("x-id");
    for (const service of services) {
      for (const t of index.templates.get(`${service} ${method}`) ?? []) {
        const m = t.regex.exec(segments);
        if (m === null) continue;
        if (!t.queryLiterals.every(([k, v]) => query.has(k) && (v === "" || query.get(k) === v))) continue;
        if (!t.requiredQuery.every((k) => query.has(k))) continue;
        if (!t.requiredHeaders.every((k) => req.headers[k] !== undefined)) continue;
        const rank = [
          xId === t.operation ? 1 : 0,
          t.queryLiterals.length + t.requiredQuery.length + t.requiredHeaders.length,
          ...t.score,
          hostMatches(host, table.services[service]!.endpointPrefix) ? 1 : 0,
          service === table.services[service]!.signingName ? 1 : 0,
        ];
        if (best === undefined || compareRank(rank, best.rank) > 0) {
          const labels: Record<string, string> = {};
          t.labels.forEach((name, i) => {
            labels[name] = m[i + 1] ?? "";
          });
          best = { t, labels, rank };
        }
      }
    }
    if (best === undefined) {
      const service = services.length === 1 ? services[0]! : pickByHost(services, hostOf(req), table, []);
      const protocol = table.services[service]!.protocols[0]!;
      return { ...placed(service, undefined, protocol), ...(s3Style ? { s3Style } : {}) };
    }
    const protocol = table.services[best.t.service]!.protocols.find((p) => p.startsWith("rest-"))!;
    const result = placed(best.t.service, best.t.operation, protocol, best.labels);
    if (s3Style !== undefined) result.s3Style = s3Style;
    return result;
  }

  function place(req: RequestHead): Placement {
    try {
      switch (protocolOf(req)) {
        case "smithy-rpc-v2-cbor":
          return placeCbor(req);
        case "json":
          return placeJson(req);
        case "query": {
          const q = placeQuery(req);
          // A form POST that is not a query call (S3 browser upload) is a REST call.
          return q.service === "unknown" ? placeRest(req) : q;
        }
        default:
          return placeRest(req);
      }
    } catch {
      return unknown(undefined);
    }
  }

  return { place, protocolOf, table };
}

interface ModelIndex {
  bySigningName: Map<string, string[]>;
  byEndpointPrefix: Map<string, string[]>;
  byTargetPrefix: Map<string, string[]>;
  queryByVersion: Map<string, string[]>;
  /** REST templates by "<service> <METHOD>". */
  templates: Map<string, CompiledTemplate[]>;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

function buildIndex(table: ModelTable): ModelIndex {
  const index: ModelIndex = {
    bySigningName: new Map(),
    byEndpointPrefix: new Map(),
    byTargetPrefix: new Map(),
    queryByVersion: new Map(),
    templates: new Map(),
  };
  for (const name of Object.keys(table.services).sort()) {
    const svc = table.services[name]!;
    push(index.bySigningName, svc.signingName, name);
    push(index.byEndpointPrefix, svc.endpointPrefix, name);
    if (svc.targetPrefix !== undefined) push(index.byTargetPrefix, svc.targetPrefix, name);
    if (svc.protocols.includes("query") || svc.protocols.includes("ec2")) {
      push(index.queryByVersion, svc.apiVersion, name);
    }
    if (svc.protocols.includes("rest-json") || svc.protocols.includes("rest-xml")) {
      for (const [op, model] of Object.entries(svc.operations)) {
        const t = compileTemplate(name, op, model, svc);
        const key = `${name} ${t.method}`;
        const list = index.templates.get(key);
        if (list === undefined) index.templates.set(key, [t]);
        else list.push(t);
      }
    }
  }
  return index;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function compileTemplate(
  service: string,
  operation: string,
  op: OperationModel,
  svc: ServiceModel,
): CompiledTemplate {
  const [pathPart = "/", queryPart = ""] = op.u.split("?", 2) as [string, string?];
  const labels: string[] = [];
  let literalSegments = 0;
  let plainLabels = 0;
  let literalChars = 0;
  const parts = pathPart.split("/").map((segment) => {
    const label = /^\{([^}]+?)(\+?)\}$/.exec(segment);
    if (label === null) {
      if (segment !== "") literalSegments += 1;
      literalChars += segment.length;
      return escapeRegex(segment);
    }
    labels.push(label[1]!);
    if (label[2] === "+") return "(.+)";
    plainLabels += 1;
    return "([^/]+)";
  });
  let source = parts.join("/");
  // A trailing slash is optional on the wire ("/bucket/" is "/bucket"); "/" stays "/".
  if (source.length > 1 && source.endsWith("/")) source = source.slice(0, -1);
  const regex = new RegExp(source === "" || source === "/" ? "^/?$" : `^${source}/?$`);
  const queryLiterals: [string, string][] = [];
  for (const pair of queryPart.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    queryLiterals.push(eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  const requiredQuery: string[] = [];
  const requiredHeaders: string[] = [];
  if (op.i !== undefined) {
    const input = shapeOf(svc, op.i);
    const members = structureMembers(input);
    for (const name of input.r ?? []) {
      const ref: MemberRef | undefined = members[name];
      if (ref === undefined) continue;
      const member = memberOf(ref);
      if (member.l === "querystring") requiredQuery.push(member.n ?? name);
      else if (member.l === "header") requiredHeaders.push((member.n ?? name).toLowerCase());
    }
  }
  return {
    service,
    operation,
    method: op.m.toUpperCase(),
    regex,
    labels,
    queryLiterals,
    requiredQuery,
    requiredHeaders,
    score: [literalSegments, plainLabels, literalChars],
  };
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Each path segment percent-decoded once; a segment that is not valid escaping stays as sent. */
function decodePath(path: string): string {
  return path
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/");
}

/** Query parameters by name (first value), valueless keys as "". */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(query)) if (!out.has(k)) out.set(k, v);
  return out;
}

export function hostOf(req: { headers: Readonly<Record<string, string>> }): string {
  const host = (req.headers.host ?? req.headers[":authority"] ?? "").toLowerCase();
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1);
  const colon = host.lastIndexOf(":");
  return colon < 0 ? host : host.slice(0, colon);
}

function signingNameFromQuery(query: string): string | undefined {
  const credential = new URLSearchParams(query).get("X-Amz-Credential");
  return credential?.split("/")[3];
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
}

/**
 * The bucket a virtual-hosted S3 request names in its Host, or undefined for path-style
 * (AWS's `<bucket>.s3[.-]<region>.amazonaws.com` forms and `<bucket>.<base>` for local bases).
 */
export function virtualHostBucket(
  host: string,
  region: string,
  bases: readonly string[],
): string | undefined {
  if (host === "" || isIpAddress(host)) return undefined;
  const aws = /^(.+?)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/.exec(host);
  if (aws !== null) {
    const bucket = aws[1]!;
    // "s3.us-east-1.amazonaws.com" itself matched with bucket "s3"-less forms is path-style.
    return bucket === "s3" ? undefined : bucket;
  }
  if (/^s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/.test(host)) return undefined;
  for (const base of [...bases].sort((a, b) => b.length - a.length)) {
    if (host === base) return undefined;
    if (host.endsWith(`.${base}`)) {
      const bucket = host.slice(0, -base.length - 1);
      return bucket === "s3" || bucket === `s3.${region}` ? undefined : bucket;
    }
  }
  return undefined;
}

/** Whether a Host names a service's endpoint (`query.timestream.<region>…` for timestream-query). */
function hostMatches(host: string, endpointPrefix: string): boolean {
  return host === endpointPrefix || host.startsWith(`${endpointPrefix}.`);
}

/**
 * Tie-break (spec §1.2): the Host names the candidate's endpoint (the longest prefix wins), then
 * the candidate named as the signing name (rds over docdb and neptune), then a hinted candidate,
 * then alphabetical order.
 */
function pickByHost(services: string[], host: string, table: ModelTable, hinted: string[]): string {
  const byHost = services
    .filter((s) => hostMatches(host, table.services[s]!.endpointPrefix))
    .sort((a, b) => table.services[b]!.endpointPrefix.length - table.services[a]!.endpointPrefix.length);
  if (byHost.length === 1) return byHost[0]!;
  const pool = byHost.length > 1 ? byHost : services;
  const bySigningName = pool.find((s) => s === table.services[s]!.signingName);
  if (bySigningName !== undefined) return bySigningName;
  const byHint = pool.find((s) => hinted.includes(s));
  return byHint ?? [...pool].sort()[0]!;
}

function preferHost(services: string[], firstLabel: string, table: ModelTable): string[] {
  const i = services.findIndex((s) => table.services[s]!.endpointPrefix === firstLabel);
  if (i <= 0) return services;
  return [services[i]!, ...services.filter((_, j) => j !== i)];
}
