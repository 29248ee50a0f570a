import { cbor } from "@smithy/core/cbor";
import type { RecordResource } from "../domain/records/api-call.ts";
import type { JsonObject } from "../domain/records/text.ts";
import type {
  CallerAccount,
  CallRenderer,
  PlacedCall,
  ProxiedRequest,
  RenderedCall,
  UpstreamAnswer,
} from "./call.ts";

export type { CallerAccount } from "./call.ts";

import {
  loadModelTable,
  type ModelTable,
  memberOf,
  type ServiceModel,
  shapeOf,
  structureMembers,
} from "./models.ts";
import { createPlacer, type Placement, type PlacementOptions, type Placer } from "./place.ts";
import { type RenderStyle, recordMembers, unwrapAttributes } from "./record-members.ts";
import { type Ec2RequestForm, READ_ONLY_PREFIXES, SERVICE_RULES, type ServiceRules } from "./rules.ts";
import { s3AdditionalEventData, s3RequestParameters, s3Resources, s3ResponseElements } from "./s3.ts";
import {
  fromForm,
  fromJson,
  fromRestBindings,
  fromXml,
  parseJsonObject,
  parseXml,
  statusMember,
  type WireObject,
} from "./wire-members.ts";

/**
 * The rendering half of the recording proxy behind `CallRenderer` (call.ts): placement from the
 * model table (place.ts), then CloudTrail's rendering of each record field
 * (recording-other-services.md §2) from the models and the rules table (rules.ts).
 */

export interface RendererOptions extends PlacementOptions {}

/** Content types whose bodies say which call it is or what its members are (never object data). */
const DISCRIMINATING_BODY = /^application\/(x-www-form-urlencoded|x-amz-json-1\.[01]|cbor|json)/;

const NO_RULES: ServiceRules = {};

export interface ProxyCallRenderer extends CallRenderer {
  render(
    placed: PlacedCall,
    req: ProxiedRequest,
    answer: UpstreamAnswer,
    caller?: CallerAccount,
  ): RenderedCall | undefined;
}

/**
 * A placed call as the forwarding half sees it (service, operation, protocol); the models behind
 * it ride along in a private field for rendering, out of sight of logs and JSON.
 */
class PlacedByModels implements PlacedCall {
  readonly service: string;
  readonly operation: string | undefined;
  readonly protocol: Placement["protocol"];
  readonly #placement: Placement;
  constructor(placement: Placement) {
    this.service = placement.service;
    this.operation = placement.operation;
    this.protocol = placement.protocol;
    this.#placement = placement;
  }
  get placement(): Placement {
    return this.#placement;
  }
}

/**
 * The renderer over a model table; without one, the committed table is read on the first call
 * (it takes a moment, which a server that never proxies need not spend).
 */
export function createCallRenderer(models?: ModelTable, options: RendererOptions = {}): ProxyCallRenderer {
  let built: Placer | undefined = models === undefined ? undefined : createPlacer(models, options);
  const placerOf = (): Placer => {
    built ??= createPlacer(loadModelTable(), options);
    return built;
  };
  const placer = {
    place: (req: Parameters<Placer["place"]>[0]) => placerOf().place(req),
    protocolOf: (req: Parameters<Placer["protocolOf"]>[0]) => placerOf().protocolOf(req),
  };
  const tables = createTableKeys();
  function placementOf(placed: PlacedCall, req: ProxiedRequest): Placement {
    return placed instanceof PlacedByModels ? placed.placement : placer.place(req);
  }

  return {
    keepsRequestBody(req) {
      const type = (req.headers["content-type"] ?? "").toLowerCase();
      if (placer.protocolOf(req) !== undefined || DISCRIMINATING_BODY.test(type)) return true;
      const placed = placer.place(req);
      return placed.operation !== undefined && !hasStreamingPayload(placed, "input");
    },
    place(req) {
      return new PlacedByModels(placer.place(req));
    },
    keepsResponseBody(placed, answer) {
      if (answer.status >= 300) return true;
      const p = placed instanceof PlacedByModels ? placed.placement : undefined;
      if (p === undefined || p.op === undefined) return false;
      return !hasStreamingPayload(p, "output");
    },
    render(placed, req, answer, caller) {
      try {
        return renderCall(placementOf(placed, req), req, answer, caller, tables);
      } catch {
        return undefined;
      }
    },
  };
}

function renderCall(
  p: Placement,
  req: ProxiedRequest,
  answer: UpstreamAnswer,
  caller: CallerAccount | undefined,
  tables: TableKeys,
): RenderedCall | undefined {
  const svc = p.model;
  const operation = p.operation;
  if (svc === undefined || operation === undefined || p.op === undefined) return undefined;
  const rules = SERVICE_RULES[p.service] ?? NO_RULES;
  const readOnly = readOnlyOf(operation, p.op.ro === 1, rules);
  const error = answer.status >= 300 ? errorOf(p, answer) : undefined;
  const denied = error !== undefined && (answer.status === 401 || answer.status === 403);
  const dataResource = rules.dataEvents?.[operation];
  // Lambda logs data events only for authorized calls (spec §2.9).
  if (denied && dataResource === "lambdaFunction") return undefined;

  const style = styleOf(p, rules, operation);
  const requestWire = p.service === "s3" ? undefined : requestMembers(p, req);
  let requestParameters: JsonObject | null;
  if (p.service === "s3") requestParameters = s3RequestParameters(p, req);
  else if (requestWire === undefined || p.op.i === undefined) requestParameters = null;
  else requestParameters = recordMembers(svc, p.op.i, requestWire, style);
  const ec2Form = p.protocol === "ec2" ? rules.ec2Forms?.[operation] : undefined;
  if (ec2Form !== undefined) requestParameters = ec2Request(ec2Form, operation, requestParameters, req);
  if (p.service === "dynamodb" && requestWire !== undefined) {
    const table = `${caller?.accountId ?? ""}/${req.region}/${String(requestWire.TableName ?? "")}`;
    if (error === undefined) tables.learn(operation, table, parseJsonObject(answer.body), requestWire);
    // PutItem sends no Key; CloudTrail writes the item's key attributes as `key` (spec §3).
    const key = operation === "PutItem" ? tables.keyOf(table, requestWire.Item) : undefined;
    if (key !== undefined && requestParameters !== null) requestParameters = { ...requestParameters, key };
  }
  if (denied && rules.deniedKeepsParameters !== true) requestParameters = null;
  if (requestParameters !== null && Object.keys(requestParameters).length === 0) requestParameters = null;

  let responseElements: JsonObject | null = null;
  const keepsResponse = !readOnly || (rules.keepsResponse ?? []).includes(operation);
  if (error === undefined && keepsResponse && !(rules.nullResponse ?? []).includes(operation)) {
    if (p.service === "s3") responseElements = s3ResponseElements(p, answer);
    else if (ec2Form?.raw === true) responseElements = rawXmlAnswer(answer);
    else responseElements = responseMembers(p, answer, style);
    if (responseElements !== null && Object.keys(responseElements).length === 0) responseElements = null;
  }

  const account = caller?.accountId;
  const rendered: RenderedCall = {
    eventSource: rules.eventSource ?? `${svc.signingName}.amazonaws.com`,
    eventName: eventNameOf(operation, p, rules),
    readOnly,
    requestParameters,
    responseElements,
  };
  if (dataResource !== undefined) rendered.category = "Data";
  const region = rules.awsRegion ?? svc.globalRegion;
  if (region !== undefined) rendered.awsRegion = region;
  if (rules.apiVersion === true) rendered.apiVersion = svc.apiVersion;
  if (error !== undefined) rendered.error = error;
  const resources =
    p.service === "s3"
      ? s3Resources(p, operation, account, req.query)
      : resourcesOf(p, operation, requestWire, error === undefined, region ?? req.region, account);
  if (resources !== undefined && resources.length > 0) rendered.resources = resources;
  if (p.service === "s3") rendered.additionalEventData = s3AdditionalEventData(req, answer);
  return rendered;
}

// ---------------------------------------------------------------- DynamoDB key schemas

/**
 * The key attributes of the DynamoDB tables whose creation or description passed through this
 * renderer (by account, region and table), so that a PutItem's record can name its item's key as
 * AWS's does; a table never seen gets no `key`. Bounded: the oldest table is forgotten first.
 */
interface TableKeys {
  learn(operation: string, table: string, answer: Record<string, unknown> | undefined, req: WireObject): void;
  keyOf(table: string, item: unknown): JsonObject | undefined;
}

const MAX_TABLES = 10_000;

function createTableKeys(): TableKeys {
  const keys = new Map<string, string[]>();
  const namesOf = (schema: unknown): string[] | undefined => {
    if (!Array.isArray(schema)) return undefined;
    const names = schema
      .map((k) =>
        k !== null && typeof k === "object" ? (k as Record<string, unknown>).AttributeName : undefined,
      )
      .filter((n): n is string => typeof n === "string");
    return names.length > 0 ? names : undefined;
  };
  return {
    learn(operation, table, answer, req) {
      if (operation === "DeleteTable") {
        keys.delete(table);
        return;
      }
      if (!["CreateTable", "DescribeTable", "UpdateTable"].includes(operation)) return;
      const described = (answer?.TableDescription ?? answer?.Table) as Record<string, unknown> | undefined;
      const names =
        namesOf(described?.KeySchema) ?? (operation === "CreateTable" ? namesOf(req.KeySchema) : undefined);
      if (names === undefined) return;
      keys.delete(table);
      keys.set(table, names);
      if (keys.size > MAX_TABLES) keys.delete(keys.keys().next().value as string);
    },
    keyOf(table, item) {
      const names = keys.get(table);
      if (names === undefined || item === null || typeof item !== "object" || Array.isArray(item))
        return undefined;
      const attributes = item as WireObject;
      if (!names.every((n) => n in attributes)) return undefined;
      return unwrapAttributes(Object.fromEntries(names.map((n) => [n, attributes[n]!])));
    },
  };
}

function readOnlyOf(operation: string, modelSaysReadOnly: boolean, rules: ServiceRules): boolean {
  const listed = rules.readOnly?.[operation];
  if (listed !== undefined) return listed;
  if (modelSaysReadOnly) return true;
  return READ_ONLY_PREFIXES.some((prefix) => operation.startsWith(prefix));
}

function eventNameOf(operation: string, p: Placement, rules: ServiceRules): string {
  const renamed = rules.eventNames?.[operation];
  if (renamed !== undefined) return renamed;
  const suffix = rules.uriDateSuffix;
  if (suffix === undefined || suffix.except.includes(operation)) return operation;
  const date = /^\/(\d{4})-(\d{2})-(\d{2})\//.exec(p.op?.u ?? "");
  if (date === null) return operation;
  return `${operation}${date[1]}${date[2]}${date[3]}${suffix.v2.includes(operation) ? "v2" : ""}`;
}

function styleOf(p: Placement, rules: ServiceRules, operation: string): RenderStyle {
  return {
    ec2: p.protocol === "ec2",
    timestamps: rules.timestamps ?? "comma",
    sensitiveAs: rules.sensitiveAs,
    hidden: rules.hidden?.[operation] ?? {},
    transforms: rules.requestTransforms ?? {},
  };
}

// ---------------------------------------------------------------- request and answer members

function decodeCbor(bytes: Uint8Array | undefined): Record<string, unknown> | undefined {
  if (bytes === undefined || bytes.length === 0) return undefined;
  try {
    const value = cbor.deserialize(bytes) as unknown;
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function formParams(req: ProxiedRequest): URLSearchParams {
  const params = new URLSearchParams(req.query);
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (req.body !== undefined && type.startsWith("application/x-www-form-urlencoded")) {
    for (const [k, v] of new URLSearchParams(new TextDecoder().decode(req.body))) params.append(k, v);
  }
  return params;
}

/** The request's members by model name, or undefined when the operation takes no input. */
function requestMembers(p: Placement, req: ProxiedRequest): WireObject | undefined {
  const svc = p.model!;
  const input = p.op?.i;
  if (input === undefined) return undefined;
  switch (p.protocol) {
    case "json":
      return asObject(fromJson(svc, input, parseJsonObject(req.body) ?? {}));
    case "smithy-rpc-v2-cbor":
      return asObject(fromJson(svc, input, decodeCbor(req.body) ?? {}));
    case "query":
    case "ec2":
      return fromForm(svc, input, formParams(req), p.protocol === "ec2");
    case "rest-json":
    case "rest-xml": {
      const bindings = fromRestBindings(svc, input, {
        labels: p.labels,
        query: new URLSearchParams(req.query),
        headers: req.headers,
      });
      return { ...restBody(svc, input, req.body, p.protocol), ...bindings };
    }
    default:
      return undefined;
  }
}

function asObject(value: unknown): WireObject | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date)
    ? (value as WireObject)
    : undefined;
}

/** Body members of a REST request or answer: the payload member, or the unbound members. */
function restBody(
  svc: ServiceModel,
  target: string,
  body: Uint8Array | undefined,
  protocol: "rest-json" | "rest-xml",
): WireObject {
  if (body === undefined || body.length === 0) return {};
  const shape = shapeOf(svc, target);
  const read = (shapeName: string): unknown => {
    if (protocol === "rest-json") return fromJson(svc, shapeName, parseJsonObject(body));
    const doc = parseXml(new TextDecoder().decode(body));
    const top = Object.entries(doc).find(([k]) => !k.startsWith("?"));
    return fromXml(svc, shapeName, top?.[1]);
  };
  if (shape.p !== undefined) {
    const ref = structureMembers(shape)[shape.p];
    if (ref === undefined) return {};
    const member = memberOf(ref);
    const payload = shapeOf(svc, member.s);
    if (payload.T !== "S" && payload.T !== "L" && payload.T !== "M") return {};
    const value = read(member.s);
    return value === undefined ? {} : { [shape.p]: value as WireObject };
  }
  return asObject(read(target)) ?? {};
}

function responseMembers(p: Placement, answer: UpstreamAnswer, style: RenderStyle): JsonObject | null {
  const svc = p.model!;
  const output = p.op?.o;
  if (p.protocol === "ec2") return ec2Answer(p, answer, style);
  if (output === undefined) return null;
  let wire: WireObject | undefined;
  switch (p.protocol) {
    case "json":
      wire = asObject(fromJson(svc, output, parseJsonObject(answer.body) ?? {}));
      break;
    case "smithy-rpc-v2-cbor":
      wire = asObject(fromJson(svc, output, decodeCbor(answer.body) ?? {}));
      break;
    case "query": {
      const doc = parseXml(decode(answer.body));
      const op = p.operation!;
      const result = (doc[`${op}Response`] as Record<string, unknown> | undefined)?.[`${op}Result`];
      wire = asObject(fromXml(svc, output, result ?? {}));
      break;
    }
    case "rest-json":
    case "rest-xml":
      wire = {
        ...restBody(svc, output, answer.body, p.protocol),
        ...fromRestBindings(svc, output, {
          labels: {},
          query: new URLSearchParams(),
          headers: answer.headers,
        }),
        ...statusMember(svc, output, answer.status),
      };
      break;
    default:
      return null;
  }
  return wire === undefined ? null : recordMembers(svc, output, wire, style);
}

/**
 * An EC2 answer in EC2's record form: the output members under their XML names, `return` as
 * `_return`, and the answer's `requestId`; actions without a result shape still answer
 * `<return>true</return>` (ModifySnapshotAttribute), which the record keeps.
 */
function ec2Answer(p: Placement, answer: UpstreamAnswer, style: RenderStyle): JsonObject {
  const svc = p.model!;
  const output = p.op?.o;
  const doc = parseXml(decode(answer.body));
  const root = doc[`${p.operation!}Response`] as Record<string, unknown> | undefined;
  const wire = output === undefined ? undefined : asObject(fromXml(svc, output, root ?? {}));
  const out = wire === undefined ? {} : recordMembers(svc, output!, wire, style);
  if ("return" in out) {
    out._return = out.return;
    delete out.return;
  } else if (output === undefined && root !== undefined && "return" in root) {
    const text = stringOf(root.return) ?? String(root.return);
    out._return = text === "true" ? true : text === "false" ? false : text;
  }
  const requestId = root?.requestId;
  if (typeof requestId === "string") out.requestId = requestId;
  return sortKeys(out);
}

function sortKeys(obj: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function decode(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? "" : new TextDecoder().decode(bytes);
}

// ---------------------------------------------------------------- EC2's own forms

function ec2Request(
  form: Ec2RequestForm,
  operation: string,
  rendered: JsonObject | null,
  req: ProxiedRequest,
): JsonObject | null {
  if (form.raw === true) {
    const members: JsonObject = {};
    for (const [key, value] of formParams(req)) {
      if (key === "Action" || key === "Version") continue;
      const [name = key, index] = key.split(".");
      const item = { content: value, tag: Number(index ?? 1) };
      const known = members[name];
      members[name] = known === undefined ? item : Array.isArray(known) ? [...known, item] : [known, item];
    }
    return { [`${operation}Request`]: members };
  }
  const out: JsonObject = { ...(rendered ?? {}) };
  if (form.fold !== undefined) {
    const item: JsonObject = {};
    for (const key of form.fold.keys) {
      if (key in out) {
        item[key] = out[key];
        delete out[key];
      }
    }
    if (Object.keys(item).length > 0) out[form.fold.into] = { items: [item] };
  }
  for (const [from, set] of Object.entries(form.itemSets ?? {})) {
    const list = (out[from] as { items?: unknown[] } | undefined)?.items;
    if (list === undefined) continue;
    delete out[from];
    out[set.into] = { items: list.map((id) => ({ [set.key]: id })) };
  }
  for (const key of form.emptyWhenAbsent ?? []) if (!(key in out)) out[key] = {};
  for (const [from, to] of Object.entries(form.rename ?? {})) {
    if (from in out) {
      out[to] = out[from];
      delete out[from];
    }
  }
  return sortKeys(out);
}

/** An XML answer as EC2's raw records show it: the root element by name, its xmlns, texts as sent. */
function rawXmlAnswer(answer: UpstreamAnswer): JsonObject | null {
  const doc = parseXml(decode(answer.body));
  const entry = Object.entries(doc).find(([k]) => !k.startsWith("?"));
  if (entry === undefined) return null;
  const plain = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(plain);
    if (node === null || typeof node !== "object") return node;
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(node)) out[k.startsWith("@") ? k.slice(1) : k] = plain(v);
    return out;
  };
  return { [entry[0]]: plain(entry[1]) };
}

// ---------------------------------------------------------------- errors

/** errorCode / errorMessage from the upstream's error answer (spec §2.9). */
function errorOf(p: Placement, answer: UpstreamAnswer): { code: string; message: string } {
  let code: string | undefined;
  let message: string | undefined;
  const text = decode(answer.body);
  const json =
    parseJsonObject(answer.body) ??
    (p.protocol === "smithy-rpc-v2-cbor" ? decodeCbor(answer.body) : undefined);
  if (json !== undefined) {
    code = stringOf(json.__type) ?? stringOf(json.code) ?? stringOf(json.Code);
    message = stringOf(json.message) ?? stringOf(json.Message) ?? stringOf(json.errorMessage);
  } else if (text.trimStart().startsWith("<")) {
    const doc = parseXml(text);
    const node = xmlError(doc);
    code = stringOf(node?.Code);
    message = stringOf(node?.Message);
  }
  code ??= answer.headers["x-amzn-errortype"] ?? answer.headers["x-amz-error-code"];
  code = (code ?? httpCode(answer.status)).split(":")[0]!;
  code = code.slice(code.lastIndexOf("#") + 1);
  if (p.protocol === "ec2" && !code.includes("."))
    code = `${answer.status < 500 ? "Client" : "Server"}.${code}`;
  // Query services answer an exception's wire code (IAM `EntityAlreadyExists`); records name its shape.
  if (p.protocol === "query") code = exceptionShapeName(p.model, code) ?? code;
  if ((answer.status === 401 || answer.status === 403) && code === "AccessDeniedException")
    code = "AccessDenied";
  return { code, message: message ?? answer.headers["x-amz-error-message"] ?? "" };
}

const exceptionNames = new WeakMap<ServiceModel, Map<string, string>>();

function exceptionShapeName(svc: ServiceModel | undefined, code: string): string | undefined {
  if (svc === undefined) return undefined;
  let names = exceptionNames.get(svc);
  if (names === undefined) {
    names = new Map();
    for (const [name, shape] of Object.entries(svc.shapes)) {
      if (typeof shape.E === "string") names.set(shape.E, name);
    }
    exceptionNames.set(svc, names);
  }
  return names.get(code);
}

function xmlError(doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const candidates: unknown[] = [
    (doc.ErrorResponse as Record<string, unknown> | undefined)?.Error,
    ((doc.Response as Record<string, unknown> | undefined)?.Errors as Record<string, unknown> | undefined)
      ?.Error,
    doc.Error,
  ];
  for (const c of candidates) {
    const first = Array.isArray(c) ? c[0] : c;
    if (first !== null && typeof first === "object") return first as Record<string, unknown>;
  }
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && "#text" in value) return String(value["#text"]);
  return undefined;
}

function httpCode(status: number): string {
  if (status === 403) return "AccessDenied";
  if (status === 404) return "NotFound";
  if (status === 503) return "ServiceUnavailable";
  return status >= 500 ? "InternalFailure" : "BadRequest";
}

// ---------------------------------------------------------------- resources

function resourcesOf(
  p: Placement,
  operation: string,
  wire: WireObject | undefined,
  succeeded: boolean,
  region: string,
  account: string | undefined,
): RecordResource[] | undefined {
  const rules = SERVICE_RULES[p.service] ?? NO_RULES;
  const kind = rules.dataEvents?.[operation];
  const text = (name: string): string | undefined => {
    const v = wire?.[name];
    return typeof v === "string" ? v : undefined;
  };
  const owned = (arn: string, type?: string): RecordResource => {
    const r: RecordResource = {};
    const arnAccount = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? account;
    if (arnAccount !== undefined) r.accountId = arnAccount;
    if (type !== undefined) r.type = type;
    r.ARN = arn;
    return r;
  };
  const acct = account ?? "000000000000";
  switch (kind) {
    case "dynamodbTable": {
      const tables = new Set<string>();
      const table = text("TableName");
      if (table !== undefined) tables.add(table);
      for (const key of ["RequestItems"]) {
        const items = wire?.[key];
        if (items !== null && typeof items === "object" && !Array.isArray(items))
          for (const t of Object.keys(items)) tables.add(t);
      }
      return [...tables].map((t) =>
        owned(
          t.startsWith("arn:") ? t : `arn:aws:dynamodb:${region}:${acct}:table/${t}`,
          "AWS::DynamoDB::Table",
        ),
      );
    }
    case "lambdaFunction": {
      const fn = text("FunctionName");
      if (fn === undefined) return undefined;
      return [
        owned(
          fn.startsWith("arn:") ? fn : `arn:aws:lambda:${region}:${acct}:function:${fn}`,
          "AWS::Lambda::Function",
        ),
      ];
    }
    case "snsTopic": {
      const topic = text("TopicArn");
      return topic === undefined ? undefined : [owned(topic, "AWS::SNS::Topic")];
    }
    case "sqsQueue": {
      const url = text("QueueUrl");
      const m = url === undefined ? null : /\/(\d{12})\/([^/?]+)/.exec(url);
      return m === null ? undefined : [owned(`arn:aws:sqs:${region}:${m[1]}:${m[2]}`, "AWS::SQS::Queue")];
    }
    case "eventBus": {
      // each entry names its bus by name or ARN; without one it goes to the account's default bus
      const entries = Array.isArray(wire?.Entries) ? (wire.Entries as unknown[]) : [];
      const buses = new Set<string>();
      for (const entry of entries) {
        const bus = (entry as WireObject | null)?.EventBusName;
        const name = typeof bus === "string" && bus !== "" ? bus : "default";
        buses.add(name.startsWith("arn:") ? name : `arn:aws:events:${region}:${acct}:event-bus/${name}`);
      }
      return buses.size === 0 ? undefined : [...buses].map((arn) => owned(arn, "AWS::Events::EventBus"));
    }
    default:
      break;
  }
  if (p.service === "sts" && operation.startsWith("AssumeRole") && succeeded) {
    const role = text("RoleArn");
    return role === undefined
      ? undefined
      : [{ ARN: role, ...accountOf(role, account), type: "AWS::IAM::Role" }];
  }
  if (p.service === "ssm" && (operation === "GetParameters" || operation === "GetParameter")) {
    const names =
      operation === "GetParameter" ? [text("Name")] : ((wire?.Names as unknown[] | undefined) ?? []);
    return names
      .filter((n): n is string => typeof n === "string")
      .map((n) => ({
        ARN: n.startsWith("arn:")
          ? n
          : `arn:aws:ssm:${region}:${acct}:parameter${n.startsWith("/") ? "" : "/"}${n}`,
        accountId: acct,
      }));
  }
  return undefined;
}

function accountOf(arn: string, fallback: string | undefined): { accountId?: string } {
  const id = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn)?.[1] ?? fallback;
  return id === undefined ? {} : { accountId: id };
}

// ---------------------------------------------------------------- body keeping

/** Whether the operation's input or output payload is a blob or a stream (object data, not members). */
function hasStreamingPayload(p: Placement, side: "input" | "output"): boolean {
  const name = side === "input" ? p.op?.i : p.op?.o;
  if (name === undefined || p.model === undefined) return false;
  const shape = shapeOf(p.model, name);
  if (shape.p === undefined) return false;
  const ref = structureMembers(shape)[shape.p];
  if (ref === undefined) return false;
  const member = memberOf(ref);
  if (member.st === 1) return true;
  const payload = shapeOf(p.model, member.s);
  return payload.T === "B" || payload.T === "s" || payload.st === 1 || payload.es === 1;
}
