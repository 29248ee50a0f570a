import { fail, OPERATIONS, type OperationName, UNSERVED_OPERATIONS } from "../api/index.ts";

/** botocore (AWS CLI v1/v2) and the JS SDK v3 use different target prefixes; both are accepted. */
export const TARGET_PREFIXES = [
  "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
  "CloudTrail_20131101",
] as const;

export const ACCEPTED_CONTENT_TYPES = ["application/x-amz-json-1.1", "application/json"] as const;

const OPERATION_SET: ReadonlySet<string> = new Set(OPERATIONS);
const UNSERVED_SET: ReadonlySet<string> = new Set(UNSERVED_OPERATIONS);

/** An operation of the CloudTrail model that opentrail does not serve. */
export interface UnservedTarget {
  unserved: (typeof UNSERVED_OPERATIONS)[number];
}

/**
 * Is the body in a media type this protocol reads? Parameters such as `; charset=utf-8` are
 * ignored. Like AWS, the type only matters when there is a body to read.
 */
export function acceptsContentType(contentType: string | undefined, bodyLength: number): boolean {
  if (bodyLength === 0) return true;
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return (ACCEPTED_CONTENT_TYPES as readonly string[]).includes(mediaType);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The body as a JSON object; an empty body is `{}`. */
export function parseBody(body: Uint8Array): Record<string, unknown> {
  if (body.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw fail("SerializationException", "Request body is not valid UTF-8");
  }
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail("SerializationException", "Request body is not valid JSON");
  }
  if (Array.isArray(value)) throw fail("SerializationException", "Start of list found where not expected");
  if (typeof value !== "object" || value === null) {
    throw fail("SerializationException", "Request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/**
 * `X-Amz-Target: <prefix>.<Operation>` → the operation; an operation of the model that is not
 * served is told apart from one AWS does not know, to be answered once the caller is known.
 */
export function parseTarget(target: string | undefined): OperationName | UnservedTarget {
  if (target === undefined || target.trim() === "") {
    throw fail("UnknownOperationException", "Missing X-Amz-Target header");
  }
  const value = target.trim();
  const dot = value.lastIndexOf(".");
  const prefix = dot < 0 ? "" : value.slice(0, dot);
  const operation = value.slice(dot + 1);
  const known = (TARGET_PREFIXES as readonly string[]).includes(prefix);
  if (known && UNSERVED_SET.has(operation)) return { unserved: operation as UnservedTarget["unserved"] };
  if (!known || !OPERATION_SET.has(operation)) {
    throw fail("UnknownOperationException", `Unknown operation ${value}`);
  }
  return operation as OperationName;
}
