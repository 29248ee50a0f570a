import type { JsonObject } from "../domain/records/text.ts";
import { type MemberRef, memberList, memberOf, type ServiceModel, shapeOf } from "./models.ts";
import { UNMODELLED, type WireObject, type WireValue } from "./wire-members.ts";

/**
 * Wire members in CloudTrail's record spelling (recording-other-services.md §2.6, §2.7): the
 * member name with its first letter lower-cased at every depth of a structure, map keys as sent,
 * timestamps in the service's style, sensitive members left out or replaced by the literal AWS
 * writes, and the EC2 form (XML element names, lists as `{"items": [...]}`).
 */

/** Any value of a record field. */
type JsonValue = unknown;

export type TimestampStyle = "iam" | "comma" | "iso";

/** A member-level rewrite CloudTrail applies (DynamoDB's attribute values, …). */
export type MemberTransform =
  | "omit"
  | "unwrapAttributes"
  | "unwrapAttributeList"
  | "attributeNames"
  | "emptyObject";

export interface RenderStyle {
  ec2: boolean;
  timestamps: TimestampStyle;
  /** Literal written for a sensitive member; undefined: the member is left out. */
  sensitiveAs: string | undefined;
  /** Per member name (model spelling), a literal replacing its value. */
  hidden: Readonly<Record<string, string>>;
  transforms: Readonly<Record<string, MemberTransform>>;
}

export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `Aug 1, 2024 1:33:28 PM` (IAM) or `Jul 30, 2024, 9:46:15 PM` (STS, SSM, most others), in UTC. */
export function formatTimestamp(date: Date, style: TimestampStyle): string {
  if (style === "iso") return date.toISOString();
  const h = date.getUTCHours();
  const hour12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(date.getUTCMinutes()).padStart(2, "0");
  const ss = String(date.getUTCSeconds()).padStart(2, "0");
  const day = `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}`;
  return `${day}${style === "comma" ? "," : ""} ${hour12}:${mm}:${ss} ${h < 12 ? "AM" : "PM"}`;
}

function unwrapAttribute(value: WireValue): JsonValue {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Date) {
    return value instanceof Date ? value.toISOString() : (value as JsonValue);
  }
  const [type, inner] = Object.entries(value)[0] ?? [];
  if (type === undefined) return null;
  if (type === "M" && inner !== null && typeof inner === "object" && !Array.isArray(inner)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(inner as WireObject)) out[k] = unwrapAttribute(v);
    return out;
  }
  if (type === "L" && Array.isArray(inner)) return inner.map(unwrapAttribute);
  if (type === "NULL") return null;
  if (type === "N" && typeof inner === "string") return inner;
  return inner instanceof Date ? inner.toISOString() : ((inner ?? null) as JsonValue);
}

function transformed(transform: MemberTransform, value: WireValue): JsonValue | undefined {
  switch (transform) {
    case "omit":
      return undefined;
    case "emptyObject":
      return {};
    case "attributeNames":
      return value !== null && typeof value === "object" && !Array.isArray(value)
        ? Object.keys(value)
        : undefined;
    case "unwrapAttributes":
      return unwrapAttributes(value);
    case "unwrapAttributeList":
      return Array.isArray(value) ? value.map((v) => unwrapAttributes(v) ?? null) : undefined;
  }
}

/** DynamoDB attribute values (`{"S": "x"}`) as CloudTrail writes keys: the bare values. */
export function unwrapAttributes(value: WireValue): JsonObject | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof Date)
    return undefined;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) out[k] = unwrapAttribute(v);
  return out;
}

/** A structure's members in record spelling; `{}` for a structure with no members sent. */
export function recordMembers(
  svc: ServiceModel,
  target: string,
  value: WireObject,
  style: RenderStyle,
): JsonObject {
  const out = render(svc, target, value, style, 0);
  if (out === null || typeof out !== "object" || Array.isArray(out)) return {};
  return out as JsonObject;
}

/** A structure's rendered members with the members the models do not know (wire-members.ts). */
function withUnmodelled(out: JsonObject, value: WireObject): JsonObject {
  const extra = (value as WireObject & { [UNMODELLED]?: WireObject })[UNMODELLED];
  if (extra === undefined) return out;
  const merged: JsonObject = { ...out };
  for (const [key, v] of Object.entries(extra)) merged[lowerFirst(key)] = v;
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function render(
  svc: ServiceModel,
  target: string,
  value: WireValue,
  style: RenderStyle,
  depth: number,
): JsonValue {
  if (value === null) return null;
  if (value instanceof Date) return formatTimestamp(value, style.timestamps);
  const shape = shapeOf(svc, target);
  if (shape.d === 1) return value as JsonValue;
  if (shape.T === "S" && typeof value === "object" && !Array.isArray(value)) {
    const out: JsonObject = {};
    // Members in the model's order (botocore lists them sorted), as CloudTrail's records show them.
    for (const [name, member] of memberList(shape)) {
      if (!(name in value)) continue;
      const memberShape = shapeOf(svc, member.s);
      const key = style.ec2 ? lowerFirst(member.n ?? name) : lowerFirst(name);
      const hidden = style.hidden[name];
      if (hidden !== undefined) {
        out[key] = hidden;
        continue;
      }
      // At any depth: BatchWriteItem's and TransactWriteItems' items are reduced as PutItem's.
      const transform = style.transforms[name];
      if (transform !== undefined) {
        const t = transformed(transform, value[name]!);
        if (t !== undefined) out[key] = t;
        continue;
      }
      if (memberShape.S === 1) {
        if (style.sensitiveAs !== undefined) out[key] = style.sensitiveAs;
        continue;
      }
      out[key] = render(svc, member.s, value[name]!, style, depth + 1);
    }
    return withUnmodelled(out, value);
  }
  if (shape.T === "L" && Array.isArray(value)) {
    const item = memberOf(shape.m as MemberRef).s;
    const items = value.map((v) => render(svc, item, v, style, depth + 1));
    if (!style.ec2) return items;
    return items.length === 0 ? {} : { items };
  }
  if (shape.T === "M" && typeof value === "object" && !Array.isArray(value)) {
    const item = memberOf(shape.v!).s;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(svc, item, v, style, depth + 1);
    return out;
  }
  return value as JsonValue;
}
