/**
 * Which requests are S3's: one function, so that the proxy's upstream routing can be put in
 * front of it (with an S3 upstream configured, S3 requests go there instead).
 *
 * A signed request says so itself: the service of its credential scope (`…/20261203/us-east-1/s3/
 * aws4_request`, in the Authorization header or a presigned URL's X-Amz-Credential). An unsigned
 * one is S3's when it has S3's path-style shape and no route of this server: GET or HEAD of any
 * path but the server's own, or PUT of a bucket (`aws s3 mb`).
 */
export function isS3Request(
  method: string,
  url: string,
  headers: Readonly<Record<string, string | undefined>>,
  ownRoutes: ReadonlySet<string>,
): boolean {
  const [path = "/", query = ""] = url.split("?", 2);
  const scope =
    /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(headers.authorization ?? "")?.[1] ??
    /(?:^|&)X-Amz-Credential=[^/&]+(?:\/|%2F)\d{8}(?:\/|%2F)[^/&%]+(?:\/|%2F)([^/&%]+)/i.exec(query)?.[1];
  if (scope !== undefined) return scope === "s3";
  if (headers["x-amz-target"] !== undefined) return false;
  if (ownRoutes.has(`${method} ${path}`)) return false;
  if (method === "GET" || method === "HEAD") return true;
  return method === "PUT" && /^\/[^/]+\/?$/.test(path);
}
