import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { SignatureV4 } from "@smithy/signature-v4";
import { type ObjectReader, ObjectStoreError, type StoredObject } from "../../ports/index.ts";
import { NodeSha256 } from "../../ports/sha256.ts";
import { isNetworkError } from "./network-errors.ts";

/**
 * validate-logs' S3 reads over plain node:http: one signed GET per object on a pool of kept-alive
 * connections, and ListObjectsV2 read with a few regular expressions. It does the SDK's job for
 * these two calls only, for a small part of the SDK's CPU per request, which is most of what a
 * validation of many small log files costs.
 */

export interface S3ReaderOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** As the SDK's option: false puts a DNS-compatible bucket into the host name. */
  forcePathStyle: boolean;
  /** Connections kept open at most: the number of objects read at once. */
  concurrency: number;
  /** How long a request may stay silent; default 60 seconds. */
  timeoutMs?: number;
  /** Keys per listing page; the server's default (1,000 on S3) when undefined. */
  maxKeys?: number;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ATTEMPTS = 3;
const TIMEOUT_MS = 60_000;
const RETRIED_STATUS = new Set([500, 502, 503, 504]);

/** S3's escaping of a key in a path: every byte but unreserved characters and "/". */
export function escapeKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/");
}

function escapeQuery(v: string): string {
  return encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Whether the SDK addresses a bucket on a custom endpoint by host name when path style is off: a
 * single DNS label (a dotted name stays in the path, as it would not match a wildcard certificate).
 */
export function virtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith("#x")) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

function element(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? xmlText(m[1]!) : undefined;
}

export interface ListPage {
  keys: string[];
  truncated: boolean;
  token?: string;
}

/** The part of a ListObjectsV2 answer the walk needs; only keys inside <Contents> count. */
export function parseListPage(xml: string): ListPage {
  const keys: string[] = [];
  for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
    const key = element(m[1]!, "Key");
    if (key !== undefined) keys.push(key);
  }
  const token = element(xml, "NextContinuationToken");
  return {
    keys,
    truncated: element(xml, "IsTruncated") === "true",
    ...(token === undefined || token === "" ? {} : { token }),
  };
}

interface Answer {
  status: number;
  headers: IncomingMessage["headers"];
  body: IncomingMessage;
}

async function readAll(body: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks, size);
}

/** The error an S3 answer that is no success names: its XML <Code>, else one by status. */
async function answerError(answer: Answer, what: string, notFound: string): Promise<ObjectStoreError> {
  const text = (await readAll(answer.body).catch(() => Buffer.alloc(0))).toString("utf8");
  const code = element(text, "Code");
  const message = element(text, "Message");
  const byStatus =
    answer.status === 404
      ? notFound
      : answer.status === 403
        ? "AccessDenied"
        : answer.status >= 500
          ? "ServiceUnavailable"
          : "InvalidRequest";
  const name = code && /^[A-Za-z][A-Za-z0-9]*$/.test(code) ? code : byStatus;
  return new ObjectStoreError(name, `${what}: HTTP ${answer.status} ${name}${message ? `: ${message}` : ""}`);
}

/** What every request to one endpoint shares: its address, connection pool and signer. */
interface Endpoint {
  base: URL;
  basePath: string;
  agent: HttpAgent | HttpsAgent;
  send: typeof httpRequest;
  signer: SignatureV4;
  timeoutMs: number;
  opts: S3ReaderOptions;
}

function connect(opts: S3ReaderOptions): Endpoint {
  const base = new URL(opts.endpoint);
  const https = base.protocol === "https:";
  const agentOptions = { keepAlive: true, maxSockets: opts.concurrency, maxFreeSockets: opts.concurrency };
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: "s3",
    sha256: NodeSha256,
    // S3 signs the path as sent, not escaped a second time
    uriEscapePath: false,
    applyChecksum: false,
  });
  return {
    base,
    basePath: base.pathname.replace(/\/+$/, ""),
    agent: https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions),
    send: https ? httpsRequest : httpRequest,
    signer,
    timeoutMs: opts.timeoutMs ?? TIMEOUT_MS,
    opts,
  };
}

/** Host and path of a bucket's key (or of the bucket with key ""), addressed as the SDK addresses them. */
function locate(e: Endpoint, bucket: string, key: string): { hostname: string; path: string } {
  const { base, basePath } = e;
  // the SDK's endpoint rules keep an IP address endpoint path-style whatever the option says
  if (
    !e.opts.forcePathStyle &&
    isIP(base.hostname.replace(/^\[|\]$/g, "")) === 0 &&
    virtualHostable(bucket)
  ) {
    return { hostname: `${bucket}.${base.hostname}`, path: `${basePath}/${escapeKey(key)}` };
  }
  return { hostname: base.hostname, path: `${basePath}/${escapeKey(bucket)}/${escapeKey(key)}` };
}

async function attempt(
  e: Endpoint,
  hostname: string,
  path: string,
  query: Record<string, string>,
): Promise<Answer> {
  const { base, opts, timeoutMs } = e;
  const host = base.port === "" ? hostname : `${hostname}:${base.port}`;
  const headers: Record<string, string> = { host, "x-amz-content-sha256": EMPTY_SHA256 };
  if (opts.credentials.sessionToken) headers["x-amz-security-token"] = opts.credentials.sessionToken;
  const signed = await e.signer.sign({
    method: "GET",
    protocol: base.protocol,
    hostname,
    path,
    query,
    headers,
  });
  const search = Object.entries(query)
    .map(([k, v]) => `${escapeQuery(k)}=${escapeQuery(v)}`)
    .join("&");
  return new Promise<Answer>((resolve, reject) => {
    const req = e.send({
      agent: e.agent,
      protocol: base.protocol,
      // the bucket's host name may not resolve; the connection goes to the endpoint's host
      host: base.hostname.replace(/^\[|\]$/g, ""),
      port: base.port === "" ? undefined : Number(base.port),
      method: "GET",
      path: search === "" ? path : `${path}?${search}`,
      headers: signed.headers,
      timeout: timeoutMs,
    });
    req.once("response", (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    req.once("timeout", () => {
      const error = new Error(`no answer within ${timeoutMs} ms`) as Error & { code: string };
      error.code = "ETIMEDOUT";
      req.destroy(error);
    });
    req.once("error", reject);
    req.end();
  });
}

/** One GET with retries on dropped connections and 5xx, as the SDK's standard mode retries. */
async function get(
  e: Endpoint,
  bucket: string,
  key: string,
  query: Record<string, string> = {},
): Promise<Answer> {
  const { hostname, path } = locate(e, bucket, key);
  const what = `get ${bucket}/${key}`;
  for (let n = 1; ; n++) {
    let answer: Answer;
    try {
      answer = await attempt(e, hostname, path, query);
    } catch (err) {
      if (n < ATTEMPTS && isNetworkError(err)) {
        await delay(20 * 2 ** n);
        continue;
      }
      const reason = err instanceof Error ? err.message : String(err);
      const code = isNetworkError(err) ? "ServiceUnavailable" : "InternalError";
      throw new ObjectStoreError(code, `${what}: no answer from the endpoint: ${reason}`, { cause: err });
    }
    if (n < ATTEMPTS && RETRIED_STATUS.has(answer.status)) {
      answer.body.resume();
      await delay(20 * 2 ** n);
      continue;
    }
    return answer;
  }
}

async function* listKeys(
  e: Endpoint,
  bucket: string,
  prefix: string,
  startAfter?: string,
): AsyncGenerator<string> {
  let token: string | undefined;
  let after = startAfter;
  for (;;) {
    const query: Record<string, string> = { "list-type": "2" };
    if (prefix !== "") query.prefix = prefix;
    if (e.opts.maxKeys !== undefined) query["max-keys"] = String(e.opts.maxKeys);
    // the token already says where to go on; S3 would ignore start-after beside it
    if (token !== undefined) query["continuation-token"] = token;
    else if (after !== undefined) query["start-after"] = after;
    const answer = await get(e, bucket, "", query);
    if (answer.status !== 200) throw await answerError(answer, `list ${bucket}/${prefix}`, "NoSuchBucket");
    const page = parseListPage((await readAll(answer.body)).toString("utf8"));
    yield* page.keys;
    const last = page.keys.at(-1);
    if (!page.truncated || last === undefined) return;
    // a server that truncates without a continuation token can still be paged by the last key
    token = page.token;
    if (token === undefined) after = last;
  }
}

/** The answer to a GET of a key: undefined for NoSuchKey, an ObjectStoreError for any other failure. */
async function open(e: Endpoint, bucket: string, key: string): Promise<Answer | undefined> {
  const answer = await get(e, bucket, key);
  if (answer.status === 200) return answer;
  const error = await answerError(answer, `get ${bucket}/${key}`, "NoSuchKey");
  if (error.code === "NoSuchKey") return undefined;
  throw error;
}

async function storedObject(answer: Answer): Promise<StoredObject> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name.startsWith("x-amz-meta-") && typeof value === "string") metadata[name.slice(11)] = value;
  }
  const body = await readAll(answer.body);
  const type = answer.headers["content-type"];
  const encoding = answer.headers["content-encoding"];
  return {
    body,
    metadata,
    ...(type === undefined ? {} : { contentType: type }),
    ...(encoding === undefined ? {} : { contentEncoding: encoding }),
  };
}

/** An ObjectReader of any S3-compatible endpoint, without the SDK. */
export function s3Reader(opts: S3ReaderOptions): ObjectReader {
  const e = connect(opts);
  return {
    listKeys: (bucket, prefix, startAfter) => listKeys(e, bucket, prefix, startAfter),
    async getObject(bucket, key) {
      const answer = await open(e, bucket, key);
      return answer === undefined ? undefined : storedObject(answer);
    },
    async openObject(bucket, key) {
      return (await open(e, bucket, key))?.body;
    },
    async close() {
      e.agent.destroy();
    },
  };
}
