import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { isCloudTrailError } from "../api/index.ts";
import {
  type BucketHost,
  type Clock,
  type CredentialStore,
  type Ids,
  ObjectStoreError,
} from "../ports/index.ts";
import { verifyS3SigV4 } from "./sigv4.ts";
import type { RawRequest, RawResponse } from "./types.ts";

/**
 * The S3 read API over the local buckets, on the API's own endpoint, so that `aws s3 ls`,
 * `aws s3 cp` and `aws cloudtrail validate-logs` need the one --endpoint-url: ListBuckets,
 * ListObjectsV2 (and V1, which validate-logs uses), GetObject (with Range), HeadObject,
 * HeadBucket, GetBucketLocation and CreateBucket, path-style, SigV4 with signing name s3.
 */

export interface S3Options {
  buckets: BucketHost;
  credentials: CredentialStore;
  regions: readonly string[];
  clock: Clock;
  ids: Ids;
  log: Logger;
}

const XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
const MAX_KEYS = 1000;

/** An S3 error: its code, HTTP status and message, and the element AWS adds (BucketName, Key…). */
class S3Error extends Error {
  readonly code: string;
  readonly status: number;
  readonly extra: Record<string, string>;

  constructor(code: string, status: number, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.status = status;
    this.extra = extra;
  }
}

const noSuchBucket = (bucket: string) =>
  new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: bucket });
const noSuchKey = (key: string) =>
  new S3Error("NoSuchKey", 404, "The specified key does not exist.", { Key: key });

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function element(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`;
}

function xml(root: string, inner: string, namespaced = true): string {
  const ns = namespaced ? ` xmlns="${XMLNS}"` : "";
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${inner}</${root}>`;
}

/** S3's time format in listings: ISO 8601 with milliseconds. */
const isoTime = (d: Date) => d.toISOString();

/** The caller's own account as S3's Owner element. */
function owner(accountId: string): string {
  return `<Owner>${element("ID", accountId)}${element("DisplayName", accountId)}</Owner>`;
}

/** What an S3 signature failure is called by S3, from the CloudTrail-worded failure of the verifier. */
function signatureFailure(code: string, message: string): S3Error {
  switch (code) {
    case "MissingAuthenticationTokenException":
      return new S3Error("AccessDenied", 403, "Access Denied");
    case "UnrecognizedClientException":
      return new S3Error(
        "InvalidAccessKeyId",
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
      );
    case "IncompleteSignatureException":
      return new S3Error("AuthorizationHeaderMalformed", 400, message);
    default:
      return new S3Error("SignatureDoesNotMatch", 403, message);
  }
}

function store(e: unknown, bucket: string): never {
  if (e instanceof ObjectStoreError) {
    if (e.code === "NoSuchBucket") throw noSuchBucket(bucket);
    if (e.code === "InvalidBucketName")
      throw new S3Error("InvalidBucketName", 400, e.message, { BucketName: bucket });
    if (e.code === "AccessDenied") throw new S3Error("AccessDenied", 403, "Access Denied");
  }
  throw e;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` within `size`; undefined for no (or an ignored) Range. */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new S3Error("InvalidRange", 416, "The requested range is not satisfiable", {
      RangeRequested: header,
      ActualObjectSize: String(size),
    });
  }
  return { start, end };
}

/** One page of a listing: keys and common prefixes in S3 order, at most maxKeys of both. */
async function listPage(
  buckets: BucketHost,
  bucket: string,
  q: { prefix: string; delimiter: string; after: string | undefined; maxKeys: number },
): Promise<{ keys: string[]; prefixes: string[]; truncated: boolean; last?: string }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  if (q.maxKeys === 0) return { keys, prefixes, truncated: false };
  for await (const key of buckets.listKeys(bucket, q.prefix, q.after)) {
    let prefix: string | undefined;
    if (q.delimiter !== "") {
      const at = key.indexOf(q.delimiter, q.prefix.length);
      if (at >= 0) prefix = key.slice(0, at + q.delimiter.length);
    }
    // a page that ended on a common prefix resumes after every key below it
    if (prefix !== undefined && (prefix === last || prefix === q.after)) continue;
    if (keys.length + prefixes.length === q.maxKeys) return { keys, prefixes, truncated: true, last };
    if (prefix !== undefined) prefixes.push(prefix);
    else keys.push(key);
    last = prefix ?? key;
  }
  return { keys, prefixes, truncated: false, last };
}

function etagOf(body: Uint8Array): string {
  return `"${createHash("md5").update(body).digest("hex")}"`;
}

export function createS3Handler(opts: S3Options): (req: RawRequest) => Promise<RawResponse> {
  const { buckets } = opts;

  function answer(
    requestId: string,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): RawResponse {
    return {
      status,
      headers: { "x-amz-request-id": requestId, "x-amz-id-2": requestId, ...headers },
      body,
    };
  }

  function failure(requestId: string, e: S3Error, method: string): RawResponse {
    const inner =
      element("Code", e.code) +
      element("Message", e.message) +
      Object.entries(e.extra)
        .map(([k, v]) => element(k, v))
        .join("") +
      element("RequestId", requestId);
    // HEAD answers carry no body: the status says it
    const body = method === "HEAD" ? "" : xml("Error", inner, false);
    return answer(requestId, e.status, body, { "content-type": "application/xml" });
  }

  async function listBuckets(requestId: string, accountId: string): Promise<RawResponse> {
    const list = (await buckets.listBuckets())
      .map((b) => `<Bucket>${element("Name", b.name)}${element("CreationDate", isoTime(b.created))}</Bucket>`)
      .join("");
    return answer(
      requestId,
      200,
      xml("ListAllMyBucketsResult", `${owner(accountId)}<Buckets>${list}</Buckets>`),
      {
        "content-type": "application/xml",
      },
    );
  }

  async function listObjects(
    requestId: string,
    bucket: string,
    query: URLSearchParams,
  ): Promise<RawResponse> {
    if (!(await buckets.bucketExists(bucket))) throw noSuchBucket(bucket);
    const v2 = query.get("list-type") === "2";
    const prefix = query.get("prefix") ?? "";
    const delimiter = query.get("delimiter") ?? "";
    const url = query.get("encoding-type") === "url";
    const maxText = query.get("max-keys");
    const maxKeys = maxText === null ? MAX_KEYS : Number(maxText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) {
      throw new S3Error("InvalidArgument", 400, "Provided max-keys not an integer or within integer range", {
        ArgumentName: "max-keys",
        ArgumentValue: maxText ?? "",
      });
    }
    const token = query.get("continuation-token") ?? undefined;
    let after: string | undefined;
    if (v2 && token !== undefined) {
      after = Buffer.from(token, "base64url").toString("utf8");
      if (token === "" || Buffer.from(after, "utf8").toString("base64url") !== token) {
        throw new S3Error("InvalidArgument", 400, "The continuation token provided is incorrect", {
          ArgumentName: "continuation-token",
        });
      }
    } else after = (v2 ? query.get("start-after") : query.get("marker")) ?? undefined;
    if (after === "") after = undefined;
    const page = await listPage(buckets, bucket, {
      prefix,
      delimiter,
      after,
      maxKeys: Math.min(maxKeys, MAX_KEYS),
    });
    // keys with the delimiter, "%" and the like go back percent-encoded when the client asked
    const enc = (text: string) => (url ? encodeURIComponent(text).replaceAll("%2F", "/") : text);
    const contents: string[] = [];
    for (const key of page.keys) {
      const facts = await buckets.objectFacts(bucket, key);
      const object = await buckets.getObject(bucket, key);
      if (facts === undefined || object === undefined) continue;
      contents.push(
        `<Contents>${element("Key", enc(key))}${element("LastModified", isoTime(facts.lastModified))}${element("ETag", etagOf(object.body))}${element("Size", facts.size)}${element("StorageClass", "STANDARD")}</Contents>`,
      );
    }
    const common = page.prefixes
      .map((p) => `<CommonPrefixes>${element("Prefix", enc(p))}</CommonPrefixes>`)
      .join("");
    const next = page.truncated && page.last !== undefined ? page.last : undefined;
    const paging = v2
      ? element("KeyCount", page.keys.length + page.prefixes.length) +
        element("ContinuationToken", token) +
        element(
          "NextContinuationToken",
          next === undefined ? undefined : Buffer.from(next, "utf8").toString("base64url"),
        ) +
        element("StartAfter", query.get("start-after") === null ? undefined : enc(query.get("start-after")!))
      : element("Marker", enc(query.get("marker") ?? "")) +
        element("NextMarker", next !== undefined && delimiter !== "" ? enc(next) : undefined);
    const inner =
      element("Name", bucket) +
      element("Prefix", enc(prefix)) +
      paging +
      element("MaxKeys", maxKeys) +
      element("Delimiter", delimiter === "" ? undefined : enc(delimiter)) +
      element("EncodingType", url ? "url" : undefined) +
      element("IsTruncated", page.truncated) +
      contents.join("") +
      common;
    return answer(requestId, 200, xml("ListBucketResult", inner), { "content-type": "application/xml" });
  }

  async function getObject(
    requestId: string,
    req: RawRequest,
    bucket: string,
    key: string,
  ): Promise<RawResponse> {
    const object = await buckets.getObject(bucket, key);
    const facts = object && (await buckets.objectFacts(bucket, key));
    if (object === undefined || facts === undefined) {
      if (!(await buckets.bucketExists(bucket))) throw noSuchBucket(bucket);
      throw noSuchKey(key);
    }
    const headers: Record<string, string> = {
      "last-modified": facts.lastModified.toUTCString(),
      etag: etagOf(object.body),
      "accept-ranges": "bytes",
      "content-type": object.contentType ?? "binary/octet-stream",
    };
    if (object.contentEncoding !== undefined) headers["content-encoding"] = object.contentEncoding;
    for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
    const range = byteRange(req.headers.range, object.body.length);
    const bytes = range ? object.body.subarray(range.start, range.end + 1) : object.body;
    if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${object.body.length}`;
    headers["content-length"] = String(bytes.length);
    return { ...answer(requestId, range ? 206 : 200, "", headers), bytes };
  }

  async function createBucket(requestId: string, bucket: string): Promise<RawResponse> {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes("..")) {
      throw new S3Error("InvalidBucketName", 400, "The specified bucket is not valid.", {
        BucketName: bucket,
      });
    }
    const made = await buckets.createBucket(bucket);
    if (made === "exists") {
      throw new S3Error(
        "BucketAlreadyOwnedByYou",
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
        { BucketName: bucket },
      );
    }
    return answer(requestId, 200, "", { location: `/${bucket}` });
  }

  /** The operation a request is, from its method, path and query: S3's REST shapes. */
  function operationOf(method: string, bucket: string, key: string, query: URLSearchParams): string {
    if (bucket === "") return method === "GET" ? "ListBuckets" : "";
    if (key === "") {
      if (method === "GET" && query.has("location")) return "GetBucketLocation";
      if (method === "GET") return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
      if (method === "HEAD") return "HeadBucket";
      if (method === "PUT") return "CreateBucket";
      return "";
    }
    if (method === "GET") return "GetObject";
    if (method === "HEAD") return "HeadObject";
    return "";
  }

  return async (req) => {
    const requestId = opts.ids.uuid().replaceAll("-", "").slice(0, 16).toUpperCase();
    const url = new URL(req.url, "http://localhost");
    const [, rawBucket = "", ...rest] = url.pathname.split("/");
    const bucket = decodeURIComponent(rawBucket);
    const key = decodeURIComponent(rest.join("/"));
    const operation = operationOf(req.method, bucket, key, url.searchParams);
    try {
      if (operation === "") {
        throw new S3Error(
          "NotImplemented",
          501,
          "A header you provided implies functionality that is not implemented",
        );
      }
      let principalAccount: string;
      try {
        principalAccount = (await verifyS3SigV4(req, opts)).credential.principal.accountId;
      } catch (e) {
        if (isCloudTrailError(e)) throw signatureFailure(e.code, e.message);
        throw e;
      }
      const response = await (async () => {
        try {
          switch (operation) {
            case "ListBuckets":
              return await listBuckets(requestId, principalAccount);
            case "GetBucketLocation":
              if (!(await buckets.bucketExists(bucket))) throw noSuchBucket(bucket);
              // no LocationConstraint: us-east-1, where the local buckets are said to be
              return answer(requestId, 200, xml("LocationConstraint", ""), {
                "content-type": "application/xml",
              });
            case "ListObjects":
            case "ListObjectsV2":
              return await listObjects(requestId, bucket, url.searchParams);
            case "HeadBucket":
              if (!(await buckets.bucketExists(bucket))) throw noSuchBucket(bucket);
              return answer(requestId, 200, "", { "x-amz-bucket-region": "us-east-1" });
            case "CreateBucket":
              return await createBucket(requestId, bucket);
            default:
              return await getObject(requestId, req, bucket, key);
          }
        } catch (e) {
          if (e instanceof S3Error) throw e;
          return store(e, bucket);
        }
      })();
      return { ...response, operation };
    } catch (e) {
      if (e instanceof S3Error) return { ...failure(requestId, e, req.method), operation: operation || "S3" };
      opts.log.error({ err: e, requestId, operation }, "S3 request failed");
      return {
        ...failure(
          requestId,
          new S3Error("InternalError", 500, "We encountered an internal error. Please try again."),
          req.method,
        ),
        operation: operation || "S3",
      };
    }
  };
}
