import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import type { Protocol } from "./call.ts";

/**
 * The table of AWS service models the proxy places and renders calls with, as
 * `scripts/gen-aws-models.py` writes it from botocore's published models (see models/NOTICE).
 * Scalar shapes without traits are inlined as one letter (ScalarLetter); every other shape is
 * named and kept in its service's `shapes`.
 */

/** s string, i integer/long, f float/double, b boolean, t timestamp, B blob. */
export type ScalarLetter = "s" | "i" | "f" | "b" | "t" | "B";

/** A member: a shape reference, alone or with the member's own traits. */
export type MemberRef = string | MemberTraits;

export interface MemberTraits {
  /** The target shape: a scalar letter or a shape name. */
  s: string;
  /** location: uri, querystring, header, headers, statusCode. */
  l?: string;
  /** locationName. */
  n?: string;
  /** queryName (ec2). */
  q?: string;
  f?: 1;
  x?: 1;
  st?: 1;
  h?: 1;
  ep?: 1;
  jv?: 1;
}

export interface ShapeModel {
  /** S structure, L list, M map, or a scalar letter. */
  T: "S" | "L" | "M" | ScalarLetter;
  /** Structure members by name, or the list's member. */
  m?: Record<string, MemberRef> | MemberRef;
  k?: MemberRef;
  v?: MemberRef;
  /** Required members of a structure. */
  r?: string[];
  /** Payload member of a structure. */
  p?: string;
  /** sensitive. */
  S?: 1;
  /** timestampFormat. */
  tf?: string;
  st?: 1;
  es?: 1;
  d?: 1;
  u?: 1;
  f?: 1;
  n?: string;
  /** Exception shape: its error code, or 1. */
  E?: string | 1;
}

export interface OperationModel {
  /** HTTP method. */
  m: string;
  /** requestUri template. */
  u: string;
  rc?: number;
  i?: string;
  o?: string;
  hp?: string;
  ro?: 1;
}

export interface ServiceModel {
  protocols: Protocol[];
  endpointPrefix: string;
  signingName: string;
  apiVersion: string;
  serviceId: string;
  targetPrefix?: string;
  jsonVersion?: string;
  globalEndpoint?: string;
  /** Credential-scope region of a partition-global endpoint (IAM, Organizations, Route 53, ...). */
  globalRegion?: string;
  awsQueryCompatible?: boolean;
  operations: Record<string, OperationModel>;
  shapes: Record<string, ShapeModel>;
}

export interface ModelTable {
  source: string;
  botocoreVersion: string;
  services: Record<string, ServiceModel>;
}

/** The committed table, next to this file. */
export const DEFAULT_MODEL_TABLE = new URL("./models/aws-models.json.gz", import.meta.url);

/** Reads a table written by the generator (gzipped JSON, or plain JSON when not gzipped). */
export function loadModelTable(file: URL | string = DEFAULT_MODEL_TABLE): ModelTable {
  const bytes = readFileSync(file);
  const text =
    bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
  const table = JSON.parse(text) as ModelTable;
  if (table === null || typeof table !== "object" || typeof table.services !== "object") {
    throw new Error("not a model table: no services");
  }
  return table;
}

/** A member reference as target + traits. */
export function memberOf(ref: MemberRef): MemberTraits {
  return typeof ref === "string" ? { s: ref } : ref;
}

/** The shape a member targets; scalar letters give a synthetic scalar shape. */
export function shapeOf(service: ServiceModel, target: string): ShapeModel {
  if (target.length === 1) return { T: target as ScalarLetter };
  return service.shapes[target] ?? { T: "s" };
}

/** The members of a structure shape (empty for anything else). */
export function structureMembers(shape: ShapeModel): Record<string, MemberRef> {
  if (shape.T !== "S" || shape.m === undefined) return {};
  return shape.m as Record<string, MemberRef>;
}

const memberLists = new WeakMap<ShapeModel, ReadonlyArray<readonly [string, MemberTraits]>>();

/** A structure's members as [name, traits] pairs, computed once per shape (placement and rendering walk them per call). */
export function memberList(shape: ShapeModel): ReadonlyArray<readonly [string, MemberTraits]> {
  let list = memberLists.get(shape);
  if (list === undefined) {
    list = Object.entries(structureMembers(shape)).map(([name, ref]) => [name, memberOf(ref)] as const);
    memberLists.set(shape, list);
  }
  return list;
}
