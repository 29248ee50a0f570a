import { XMLParser } from "fast-xml-parser";
import {
  type MemberRef,
  type MemberTraits,
  memberList,
  memberOf,
  type ServiceModel,
  type ShapeModel,
  shapeOf,
} from "./models.ts";

/**
 * Reading the members of a request or an answer off the wire, per protocol, into plain values
 * keyed by the model's member names (structures), the sent keys (maps), arrays (lists) and typed
 * scalars; timestamps become Dates. Rendering (record-members.ts) walks the result with the same
 * shapes. Nothing here throws on malformed input: what cannot be read is left out.
 */

export type WireValue = string | number | boolean | Date | null | WireValue[] | { [key: string]: WireValue };
export type WireObject = { [key: string]: WireValue };

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  textNodeName: "#text",
  processEntities: true,
});

export function parseXml(text: string): Record<string, unknown> {
  try {
    const parsed = xml.parse(text) as unknown;
    return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function parseJsonObject(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A timestamp in any of the wire forms: epoch seconds, ISO 8601, RFC 1123 (HTTP date). */
export function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  // CBOR epoch-seconds timestamps arrive as tag 1 around a number.
  if (value !== null && typeof value === "object" && (value as { tag?: unknown }).tag === 1) {
    return toDate((value as { value?: unknown }).value);
  }
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value !== "string" || value === "") return undefined;
  const n = Number(value);
  const date = Number.isFinite(n) ? new Date(n * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function scalarOf(shape: ShapeModel, raw: unknown): WireValue | undefined {
  if (raw === undefined) return undefined;
  if (raw === null) return null;
  switch (shape.T) {
    case "i":
    case "f": {
      if (typeof raw === "number") return raw;
      const n = Number(String(raw));
      return Number.isFinite(n) ? n : String(raw);
    }
    case "b":
      if (typeof raw === "boolean") return raw;
      return String(raw).toLowerCase() === "true";
    case "t":
      return toDate(raw) ?? String(raw);
    case "B":
      if (raw instanceof Uint8Array) return Buffer.from(raw).toString("base64");
      return typeof raw === "string" ? raw : JSON.stringify(raw);
    default:
      if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") return raw;
      return textOf(raw) ?? JSON.stringify(raw);
  }
}

function textOf(node: unknown): string | undefined {
  if (typeof node === "string") return node;
  if (typeof node === "number" || typeof node === "boolean") return String(node);
  if (node !== null && typeof node === "object" && "#text" in node)
    return String((node as { "#text": unknown })["#text"]);
  if (node !== null && typeof node === "object" && Object.keys(node).every((k) => k.startsWith("@")))
    return "";
  return undefined;
}

function asArray(node: unknown): unknown[] {
  if (node === undefined || node === null || node === "") return [];
  return Array.isArray(node) ? node : [node];
}

// ---------------------------------------------------------------- JSON (json, rest-json, cbor)

/** A JSON (or decoded CBOR) document read with a shape: member names as in the model. */
export function fromJson(svc: ServiceModel, target: string, raw: unknown, depth = 0): WireValue | undefined {
  if (raw === undefined || depth > 64) return undefined;
  const shape = shapeOf(svc, target);
  if (shape.d === 1) return raw as WireValue;
  switch (shape.T) {
    case "S": {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return undefined;
      const out: WireObject = {};
      const obj = raw as Record<string, unknown>;
      for (const [name, member] of memberList(shape)) {
        if (member.l !== undefined) continue;
        const value = fromJson(svc, member.s, obj[member.n ?? name], depth + 1);
        if (value !== undefined) out[name] = value;
      }
      keepUnmodelled(shape, obj, out);
      return out;
    }
    case "L": {
      if (!Array.isArray(raw)) return undefined;
      const item = memberOf(shape.m as MemberRef).s;
      return raw.map((v) => fromJson(svc, item, v, depth + 1) ?? null);
    }
    case "M": {
      if (raw === null || typeof raw !== "object") return undefined;
      const value = memberOf(shape.v!).s;
      const out: WireObject = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        out[k] = fromJson(svc, value, v, depth + 1) ?? null;
      }
      return out;
    }
    default:
      return scalarOf(shape, raw);
  }
}

/** Member names of a structure that the models do not know, with their values. */
export const UNMODELLED = Symbol("unmodelled");

/**
 * A client newer than the table sends members the models do not know (`interactive` of SSM
 * SendCommand, `originSequenceNumber` of Route 53 Resolver), and services answer some
 * (`command.hasSendCommandSignature` of SSM SendCommand, `layers[].uncompressedCodeSize` of Lambda);
 * CloudTrail logs them, at any depth. Only numbers and
 * booleans are kept: an unknown string could be a secret the models would have marked sensitive.
 */
function keepUnmodelled(shape: ShapeModel, obj: Record<string, unknown>, out: WireObject): void {
  const known = new Set(memberList(shape).map(([name, member]) => member.n ?? name));
  const extra: WireObject = {};
  for (const [key, value] of Object.entries(obj)) {
    if (!known.has(key) && (typeof value === "number" || typeof value === "boolean")) extra[key] = value;
  }
  if (Object.keys(extra).length > 0) (out as WireObject & { [UNMODELLED]?: WireObject })[UNMODELLED] = extra;
}

// ---------------------------------------------------------------- XML (rest-xml, query and ec2 answers)

/** Name of a member's XML element: locationName, else the member name. */
function xmlName(name: string, member: MemberTraits): string {
  return member.n ?? name;
}

export function fromXml(
  svc: ServiceModel,
  target: string,
  node: unknown,
  flattenedMember = false,
  depth = 0,
): WireValue | undefined {
  if (node === undefined || depth > 64) return undefined;
  const shape = shapeOf(svc, target);
  switch (shape.T) {
    case "S": {
      if (node === null || typeof node !== "object" || Array.isArray(node))
        return typeof node === "string" ? {} : undefined;
      const obj = node as Record<string, unknown>;
      const out: WireObject = {};
      for (const [name, member] of memberList(shape)) {
        if (member.l !== undefined) continue;
        const key = member.x === 1 ? `@${xmlName(name, member)}` : xmlName(name, member);
        const memberShape = shapeOf(svc, member.s);
        const flat = member.f === 1 || memberShape.f === 1;
        const child = flat && memberShape.T === "L" ? flatListNode(memberShape, obj, key) : obj[key];
        const value = fromXml(svc, member.s, child, flat, depth + 1);
        if (value !== undefined) out[name] = value;
      }
      return out;
    }
    case "L": {
      const item = memberOf(shape.m as MemberRef);
      const items =
        flattenedMember || shape.f === 1 ? asArray(node) : asArray(listItems(node, item.n ?? "member"));
      return items.map((v) => fromXml(svc, item.s, v, false, depth + 1) ?? null);
    }
    case "M": {
      const key = memberOf(shape.k!);
      const value = memberOf(shape.v!);
      const entries = flattenedMember || shape.f === 1 ? asArray(node) : asArray(listItems(node, "entry"));
      const out: WireObject = {};
      for (const entry of entries) {
        if (entry === null || typeof entry !== "object") continue;
        const e = entry as Record<string, unknown>;
        const k = textOf(e[key.n ?? "key"]);
        if (k !== undefined) out[k] = fromXml(svc, value.s, e[value.n ?? "value"], false, depth + 1) ?? null;
      }
      return out;
    }
    default:
      return scalarOf(shape, textOf(node));
  }
}

function listItems(node: unknown, itemName: string): unknown {
  if (node === null || typeof node !== "object") return undefined;
  return (node as Record<string, unknown>)[itemName];
}

function flatListNode(list: ShapeModel, obj: Record<string, unknown>, key: string): unknown {
  const item = memberOf(list.m as MemberRef);
  return obj[key] ?? (item.n === undefined ? undefined : obj[item.n]);
}

// ---------------------------------------------------------------- query and ec2 requests (form parameters)

type FormTree = { value?: string; children: Map<string, FormTree> };

function formTree(params: URLSearchParams): FormTree {
  const root: FormTree = { children: new Map() };
  for (const [key, value] of params) {
    let node = root;
    for (const part of key.split(".")) {
      let next = node.children.get(part);
      if (next === undefined) {
        next = { children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.value = value;
  }
  return root;
}

function numbered(node: FormTree): FormTree[] {
  return [...node.children.entries()]
    .filter(([k]) => /^\d+$/.test(k))
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, v]) => v);
}

/** The members of a query-protocol (or ec2) request, from its form parameters. */
export function fromForm(
  svc: ServiceModel,
  target: string,
  params: URLSearchParams,
  ec2: boolean,
): WireObject | undefined {
  const value = fromFormNode(svc, target, formTree(params), ec2, false, 0);
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date)
    ? (value as WireObject)
    : undefined;
}

function formName(name: string, member: MemberTraits, ec2: boolean): string {
  if (!ec2) return member.n ?? name;
  if (member.q !== undefined) return member.q;
  if (member.n !== undefined) return member.n.charAt(0).toUpperCase() + member.n.slice(1);
  return name;
}

function fromFormNode(
  svc: ServiceModel,
  target: string,
  node: FormTree | undefined,
  ec2: boolean,
  flattened: boolean,
  depth: number,
): WireValue | undefined {
  if (node === undefined || depth > 64) return undefined;
  const shape = shapeOf(svc, target);
  switch (shape.T) {
    case "S": {
      const out: WireObject = {};
      for (const [name, member] of memberList(shape)) {
        const child = node.children.get(formName(name, member, ec2));
        const flat = ec2 || member.f === 1 || shapeOf(svc, member.s).f === 1;
        const value = fromFormNode(svc, member.s, child, ec2, flat, depth + 1);
        if (value !== undefined) out[name] = value;
      }
      return out;
    }
    case "L": {
      const item = memberOf(shape.m as MemberRef);
      if (node.value === "" && node.children.size === 0) return [];
      const holder = flattened || shape.f === 1 ? node : node.children.get(item.n ?? "member");
      if (holder === undefined) return [];
      return numbered(holder).map((v) => fromFormNode(svc, item.s, v, ec2, false, depth + 1) ?? null);
    }
    case "M": {
      const key = memberOf(shape.k!);
      const value = memberOf(shape.v!);
      const holder = flattened || shape.f === 1 ? node : node.children.get("entry");
      const out: WireObject = {};
      for (const entry of holder === undefined ? [] : numbered(holder)) {
        const k = entry.children.get(key.n ?? "key")?.value;
        if (k !== undefined) {
          out[k] =
            fromFormNode(svc, value.s, entry.children.get(value.n ?? "value"), ec2, false, depth + 1) ?? null;
        }
      }
      return out;
    }
    default:
      return node.value === undefined ? undefined : scalarOf(shape, node.value);
  }
}

// ---------------------------------------------------------------- REST bindings

export interface RestParts {
  labels: Record<string, string>;
  query: URLSearchParams;
  headers: Readonly<Record<string, string>>;
}

/** Members bound to the URI, the query string and headers (not the body). */
export function fromRestBindings(svc: ServiceModel, target: string, parts: RestParts): WireObject {
  const out: WireObject = {};
  const shape = shapeOf(svc, target);
  for (const [name, member] of memberList(shape)) {
    const wireName = member.n ?? name;
    const memberShape = shapeOf(svc, member.s);
    let value: WireValue | undefined;
    switch (member.l) {
      case "uri": {
        const raw = parts.labels[wireName];
        if (raw !== undefined) value = scalarOf(memberShape, raw);
        break;
      }
      case "querystring": {
        if (memberShape.T === "L") {
          const all = parts.query.getAll(wireName);
          if (all.length > 0) {
            const item = shapeOf(svc, memberOf(memberShape.m as MemberRef).s);
            value = all.flatMap((v) => v.split(",")).map((v) => scalarOf(item, v) ?? null);
          }
        } else if (memberShape.T === "M") {
          const map: WireObject = {};
          for (const [k, v] of parts.query) map[k] = v;
          if (Object.keys(map).length > 0) value = map;
        } else {
          const raw = parts.query.get(wireName);
          if (raw !== null) value = scalarOf(memberShape, raw);
        }
        break;
      }
      case "header": {
        const raw = parts.headers[wireName.toLowerCase()];
        if (raw === undefined) break;
        if (memberShape.T === "L") {
          const item = shapeOf(svc, memberOf(memberShape.m as MemberRef).s);
          value = raw.split(",").map((v) => scalarOf(item, v.trim()) ?? null);
        } else if (member.jv === 1) {
          try {
            value = JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as WireValue;
          } catch {
            value = raw;
          }
        } else {
          value = scalarOf(memberShape, raw);
        }
        break;
      }
      case "headers": {
        const prefix = wireName.toLowerCase();
        const map: WireObject = {};
        for (const [k, v] of Object.entries(parts.headers)) {
          if (k.startsWith(prefix)) map[k.slice(prefix.length)] = v;
        }
        if (Object.keys(map).length > 0) value = map;
        break;
      }
      default:
        break;
    }
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** The status-code member of an answer (Lambda Invoke's StatusCode). */
export function statusMember(svc: ServiceModel, target: string, status: number): WireObject {
  const out: WireObject = {};
  for (const [name, member] of memberList(shapeOf(svc, target))) {
    if (member.l === "statusCode") out[name] = status;
  }
  return out;
}
