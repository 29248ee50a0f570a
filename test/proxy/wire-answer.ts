import {
  type MemberRef,
  type MemberTraits,
  memberList,
  memberOf,
  type ServiceModel,
  shapeOf,
} from "../../src/proxy/models.ts";
import type { CannedAnswer } from "./tap.ts";

/**
 * A test-side serializer of service answers, for the golden test: an operation's output, given
 * as member values keyed by model member name, written in the service's wire protocol the way
 * botocore reads it (json and rest-json bodies with the members' wire names, header- and
 * status-bound members of rest outputs, query `<OpResponse><OpResult>` and ec2 `<OpResponse>`
 * XML with `member`/`item` list elements and `entry` maps). Written independently of the
 * proxy's parsers (wire-members.ts) so that the renderer's reading of answers is what is tested.
 */

export type Protocol = "json" | "rest-json" | "query" | "ec2" | "rest-xml";

/** Output member values by model member name (structures), keys (maps), arrays (lists). */
export type OutputValue = unknown;

function xmlText(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

function epochSeconds(d: Date): number {
  return d.getTime() / 1000;
}

function scalarText(svc: ServiceModel, target: string, value: unknown, where: "xml" | "header"): string {
  const shape = shapeOf(svc, target);
  if (shape.T === "t") {
    const d = value instanceof Date ? value : new Date(String(value));
    const format = shape.tf ?? (where === "header" ? "rfc822" : "iso8601");
    if (format === "unixTimestamp") return String(epochSeconds(d));
    if (format === "rfc822") return d.toUTCString();
    return d.toISOString();
  }
  if (shape.T === "B") return Buffer.from(String(value)).toString("base64");
  return String(value);
}

/** A JSON body value: timestamps as epoch seconds (or the shape's format), blobs base64. */
function toJson(svc: ServiceModel, target: string, value: unknown): unknown {
  const shape = shapeOf(svc, target);
  if (value === null || value === undefined) return value;
  if (shape.d === 1) return value;
  switch (shape.T) {
    case "S": {
      if (!isObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [name, member] of memberList(shape)) {
        if (!(name in value) || member.l !== undefined) continue;
        out[member.n ?? name] = toJson(svc, member.s, value[name]);
      }
      // Members the model does not know go out as given (a service newer than its public model).
      const known = new Set(memberList(shape).map(([name]) => name));
      for (const [k, v] of Object.entries(value)) if (!known.has(k)) out[k] = v;
      return out;
    }
    case "L": {
      const item = memberOf(shape.m as MemberRef).s;
      return Array.isArray(value) ? value.map((v) => toJson(svc, item, v)) : value;
    }
    case "M": {
      if (!isObject(value)) return value;
      const item = memberOf(shape.v!).s;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(svc, item, v)]));
    }
    case "t": {
      const d = value instanceof Date ? value : new Date(String(value));
      if (shape.tf === "iso8601") return d.toISOString();
      if (shape.tf === "rfc822") return d.toUTCString();
      return epochSeconds(d);
    }
    case "B":
      return Buffer.from(String(value)).toString("base64");
    default:
      return value;
  }
}

/** XML children of a value of the given shape (the element itself is written by the caller). */
function xmlInner(svc: ServiceModel, target: string, value: unknown, ec2: boolean): string {
  const shape = shapeOf(svc, target);
  if (shape.T === "S") {
    if (!isObject(value)) return "";
    let out = "";
    for (const [name, member] of memberList(shape)) {
      if (!(name in value) || member.l !== undefined || member.x === 1) continue;
      out += xmlMember(
        svc,
        ec2 ? (member.n ?? lowerFirst(name)) : (member.n ?? name),
        member,
        value[name],
        ec2,
      );
    }
    return out;
  }
  if (shape.T === "L" || shape.T === "M") return "";
  return xmlText(scalarText(svc, target, value, "xml"));
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function xmlMember(
  svc: ServiceModel,
  element: string,
  member: MemberTraits,
  value: unknown,
  ec2: boolean,
): string {
  if (value === undefined || value === null) return "";
  const shape = shapeOf(svc, member.s);
  const flat = member.f === 1 || shape.f === 1;
  if (shape.T === "L") {
    const item = memberOf(shape.m as MemberRef);
    const items = (Array.isArray(value) ? value : []).map((v) =>
      xmlMember(svc, flat ? element : (item.n ?? (ec2 ? "item" : "member")), item, v, ec2),
    );
    return flat ? items.join("") : `<${element}>${items.join("")}</${element}>`;
  }
  if (shape.T === "M") {
    const key = memberOf(shape.k!);
    const val = memberOf(shape.v!);
    const entries = Object.entries(isObject(value) ? value : {}).map(
      ([k, v]) =>
        `${flat ? `<${element}>` : "<entry>"}<${key.n ?? "key"}>${xmlText(k)}</${key.n ?? "key"}>${xmlMember(svc, val.n ?? "value", val, v, ec2)}${flat ? `</${element}>` : "</entry>"}`,
    );
    return flat ? entries.join("") : `<${element}>${entries.join("")}</${element}>`;
  }
  return `<${element}>${xmlInner(svc, member.s, value, ec2)}</${element}>`;
}

/**
 * The success answer of `operation` carrying `output` (undefined: an empty output), in the
 * service's protocol. EC2 answers carry `requestId`; `ec2Raw` is an EC2 record's raw form
 * (`{"<Op>Response": {...}}`), written back element by element.
 */
export function serializeAnswer(
  svc: ServiceModel,
  protocol: Protocol,
  operation: string,
  output: Record<string, unknown> | undefined,
  extra: { requestId?: string; ec2Raw?: Record<string, unknown> } = {},
): CannedAnswer {
  const target = svc.operations[operation]?.o;
  const value = output ?? {};
  const requestId = extra.requestId ?? "11111111-2222-3333-4444-555555555555";
  switch (protocol) {
    case "json":
      return {
        status: 200,
        headers: {
          "content-type": `application/x-amz-json-${svc.jsonVersion ?? "1.0"}`,
          "x-amzn-requestid": requestId,
        },
        body: JSON.stringify(target === undefined ? {} : toJson(svc, target, value)),
      };
    case "query": {
      const inner =
        target === undefined
          ? ""
          : `<${operation}Result>${xmlInner(svc, target, value, false)}</${operation}Result>`;
      return {
        status: 200,
        headers: { "content-type": "text/xml" },
        body: `<${operation}Response xmlns="https://${svc.endpointPrefix}.amazonaws.com/doc/${svc.apiVersion}/">${inner}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
      };
    }
    case "ec2": {
      const xmlns = `http://ec2.amazonaws.com/doc/${svc.apiVersion}/`;
      if (extra.ec2Raw !== undefined) {
        const [root, body] = Object.entries(extra.ec2Raw)[0]!;
        const fields = Object.entries(isObject(body) ? body : {})
          .filter(([k]) => k !== "xmlns")
          .map(([k, v]) => `<${k}>${xmlText(typeof v === "string" ? v : JSON.stringify(v))}</${k}>`)
          .join("");
        return {
          status: 200,
          headers: { "content-type": "text/xml" },
          body: `<${root} xmlns="${xmlns}">${fields}</${root}>`,
        };
      }
      // An action without a result shape answers `<return>true</return>` (ModifySnapshotAttribute).
      const inner = target === undefined ? "<return>true</return>" : xmlInner(svc, target, value, true);
      return {
        status: 200,
        headers: { "content-type": "text/xml" },
        body: `<${operation}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${inner}</${operation}Response>`,
      };
    }
    case "rest-json":
    case "rest-xml": {
      const headers: Record<string, string> = { "x-amzn-requestid": requestId };
      let status = svc.operations[operation]?.rc ?? 200;
      if (target === undefined) return { status, headers, body: "" };
      const shape = shapeOf(svc, target);
      const body: Record<string, unknown> = {};
      let raw: string | undefined;
      for (const [name, member] of memberList(shape)) {
        if (!(name in value)) continue;
        const v = value[name];
        if (member.l === "header")
          headers[(member.n ?? name).toLowerCase()] = scalarText(svc, member.s, v, "header");
        else if (member.l === "headers" && isObject(v))
          for (const [k, hv] of Object.entries(v))
            headers[`${member.n ?? ""}${k}`.toLowerCase()] = String(hv);
        else if (member.l === "statusCode") status = Number(v);
        else if (shape.p === name) {
          const payload = shapeOf(svc, member.s);
          if (payload.T === "S" || payload.T === "L" || payload.T === "M")
            raw =
              protocol === "rest-json"
                ? JSON.stringify(toJson(svc, member.s, v))
                : `<${member.n ?? name}>${xmlInner(svc, member.s, v, false)}</${member.n ?? name}>`;
          else raw = String(v);
        } else if (member.l === undefined) body[name] = v;
      }
      if (raw === undefined) {
        raw =
          protocol === "rest-json"
            ? JSON.stringify(toJson(svc, target, body))
            : `<${shape.n ?? `${operation}Result`}>${xmlInner(svc, target, body, false)}</${shape.n ?? `${operation}Result`}>`;
      }
      headers["content-type"] = protocol === "rest-json" ? "application/json" : "application/xml";
      return { status, headers, body: raw };
    }
  }
}

/**
 * A full value of an output shape: every member present, one item per list and map, nested to
 * a few levels (recursive shapes stop there). Given where AWS wrote no responseElements, so a
 * renderer that writes them for such a call is seen.
 */
export function fullValue(svc: ServiceModel, target: string, depth = 0): unknown {
  const shape = shapeOf(svc, target);
  if (shape.d === 1) return { doc: "x" };
  switch (shape.T) {
    case "S": {
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const [name, member] of memberList(shape)) {
        if (member.l === "statusCode") continue;
        const memberShape = shapeOf(svc, member.s);
        if (member.st === 1 || memberShape.st === 1 || memberShape.es === 1) continue;
        out[name] = fullValue(svc, member.s, depth + 1);
      }
      if (shape.u === 1) {
        const first = Object.keys(out)[0];
        return first === undefined ? {} : { [first]: out[first] };
      }
      return out;
    }
    case "L":
      return depth > 4 ? [] : [fullValue(svc, memberOf(shape.m as MemberRef).s, depth + 1)];
    case "M":
      return depth > 4 ? {} : { k1: fullValue(svc, memberOf(shape.v!).s, depth + 1) };
    case "i":
      return 1;
    case "f":
      return 1.5;
    case "b":
      return true;
    case "t":
      return new Date("2024-08-01T13:33:28Z");
    default:
      return "x";
  }
}

/** The shape of a record field: keys recursively and value types, not values. */
export function shapeOfValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(shapeOfValue);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shapeOfValue((value as Record<string, unknown>)[k])]),
    );
  }
  return typeof value;
}
