import { ConfigError } from "./values.ts";

/**
 * Where the recording proxy forwards what is not a CloudTrail call: a default upstream and one per
 * service (botocore's service name, e.g. `s3`). From the command line and the environment as
 * `URL` or `SERVICE=URL` items (repeated flags, or comma-separated), from the file as an object
 * `{"default": URL, "s3": URL}`.
 */
export interface UpstreamsConfig {
  default?: string;
  /** botocore service name → base URL. */
  services: Record<string, string>;
}

/** Keys that sign what the proxy forwards when the upstream checks signatures under its own keys. */
export interface UpstreamCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const SERVICE_NAME = /^[a-z0-9][a-z0-9-]*$/;
export const UPSTREAM_CREDENTIAL_KEYS = ["accessKeyId", "secretAccessKey", "sessionToken"] as const;

/** An http(s) base URL without query or fragment, as given (a trailing slash dropped). */
function upstreamUrl(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigError(`${what} must be a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${what} must be an http:// or https:// URL, not '${value}'`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.search !== "" || url.hash !== "") {
    throw new ConfigError(`${what} must be an http:// or https:// URL without query, not '${value}'`);
  }
  return value.replace(/\/+$/, "");
}

function serviceName(name: string, what: string): string {
  if (!SERVICE_NAME.test(name)) {
    throw new ConfigError(`${what}: '${name}' is not a service name (botocore's, such as s3 or dynamodb)`);
  }
  return name;
}

/** `URL` or `SERVICE=URL` items, comma-separated; repeats of one service: the last wins. */
export function upstreamsFromText(text: string | number, label: string): UpstreamsConfig | undefined {
  const items = String(text)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) return undefined;
  const out: UpstreamsConfig = { services: {} };
  for (const item of items) {
    const eq = item.indexOf("=");
    // a URL holds no '=' before its scheme: `s3=http://…` names a service, `http://…` does not
    const named = eq > 0 && !item.slice(0, eq).includes(":");
    if (!named) {
      out.default = upstreamUrl(item, label);
      continue;
    }
    const name = serviceName(item.slice(0, eq), label);
    const url = upstreamUrl(item.slice(eq + 1), `${label} ${name}`);
    if (name === "default") out.default = url;
    else out.services[name] = url;
  }
  return out;
}

/** The file's `upstreams` object. */
export function upstreamsFromFile(value: unknown, label: string): UpstreamsConfig | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(`${label} must be an object of service names to URLs`);
  }
  const out: UpstreamsConfig = { services: {} };
  for (const [name, url] of Object.entries(value)) {
    const checked = upstreamUrl(url, `${label}.${serviceName(name, label)}`);
    if (name === "default") out.default = checked;
    else out.services[name] = checked;
  }
  return out;
}

export function parseUpstreams(v: unknown): UpstreamsConfig {
  return (v as UpstreamsConfig | undefined) ?? { services: {} };
}

/** The file's `upstreamCredentials` object, or undefined. */
export function parseUpstreamCredentials(v: unknown): UpstreamCredentials | undefined {
  if (v === undefined || v === null) return undefined;
  const what = "upstreamCredentials";
  if (typeof v !== "object" || Array.isArray(v)) throw new ConfigError(`${what} must be an object`);
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !(UPSTREAM_CREDENTIAL_KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw new ConfigError(
      `unknown key "${what}.${unknown}"; the keys are ${UPSTREAM_CREDENTIAL_KEYS.join(", ")}`,
    );
  }
  for (const key of ["accessKeyId", "secretAccessKey"] as const) {
    if (typeof o[key] !== "string" || o[key] === "") {
      throw new ConfigError(`${what}.${key} must be a non-empty string`);
    }
  }
  if (o.sessionToken !== undefined && (typeof o.sessionToken !== "string" || o.sessionToken === "")) {
    throw new ConfigError(`${what}.sessionToken must be a non-empty string`);
  }
  return {
    accessKeyId: o.accessKeyId as string,
    secretAccessKey: o.secretAccessKey as string,
    ...(o.sessionToken ? { sessionToken: o.sessionToken as string } : {}),
  };
}

/** True when some request may be forwarded. */
export function hasUpstream(u: UpstreamsConfig): boolean {
  return u.default !== undefined || Object.keys(u.services).length > 0;
}
