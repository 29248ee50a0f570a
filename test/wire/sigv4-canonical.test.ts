import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { NodeSha256, verifyS3SigV4, verifySigV4 } from "../../src/wire/sigv4.ts";
import type { RawRequest } from "../../src/wire/types.ts";
import { credentialStore, HOST, KEYS, NOW } from "./sign.ts";

/**
 * The verifier builds the canonical request itself (no SDK signer per request): every request the
 * SDK's signer signs must verify, over paths, queries and header values of every awkward shape.
 */

const opts = { credentials: credentialStore, regions: ["us-east-1"], clock: { now: () => NOW } };

interface Shape {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
  service: "s3" | "cloudtrail";
  signable?: string[];
  contentSha?: boolean;
}

/** The request line as a client puts it on the wire: the path as given, the query escaped. */
function target(shape: Shape): string {
  const q = Object.entries(shape.query).flatMap(([k, v]) =>
    (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`),
  );
  return q.length === 0 ? shape.path : `${shape.path}?${q.join("&")}`;
}

async function signedShape(shape: Shape): Promise<RawRequest> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: KEYS.AKIDTEST!.secretAccessKey },
    region: "us-east-1",
    service: shape.service,
    sha256: NodeSha256,
    applyChecksum: shape.contentSha ?? false,
    uriEscapePath: shape.service !== "s3",
  });
  const url = new URL(target(shape), "http://placeholder");
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  const out = await signer.sign(
    {
      method: shape.method,
      protocol: "http:",
      hostname: "127.0.0.1",
      path: url.pathname,
      query,
      headers: { host: HOST, ...shape.headers },
      body: shape.body,
    },
    { signingDate: NOW, ...(shape.signable ? { signableHeaders: new Set(shape.signable) } : {}) },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = String(v);
  return {
    method: shape.method,
    url: target(shape),
    headers,
    body: Buffer.from(shape.body),
    remoteAddress: "127.0.0.1",
  };
}

const PATHS = [
  "/",
  "/bucket",
  "/bucket/key with spaces",
  "/bucket/a/./b/../c",
  "/b/ünïcödé/%2F",
  "/b/k~!*'()",
  "/b//double/",
  "/b/x+y",
];
const QUERIES: Record<string, string | string[]>[] = [
  {},
  { "list-type": "2", prefix: "AWSLogs/" },
  { a: ["3", "1", "2"], B: "x y", "": "empty-key" },
  { uploads: "" },
  { "weird key": "v=1&2", "x-amz-meta": "ü" },
];
const HEADER_VALUES = ["plain", "  padded  ", "a   b\tc", "multi\r\nline", "ü"];

describe("SigV4 canonical request: as the SDK's signer builds it", () => {
  it("verifies S3 requests over every path, query and header shape", async () => {
    let n = 0;
    for (const path of PATHS) {
      for (const query of QUERIES) {
        for (const value of HEADER_VALUES) {
          const shape: Shape = {
            method: n % 2 === 0 ? "GET" : "PUT",
            path,
            query,
            headers: { "x-amz-meta-note": value, "content-type": "text/plain" },
            body: n % 3 === 0 ? "" : "body ü",
            service: "s3",
            contentSha: n % 2 === 0,
          };
          n++;
          const req = await signedShape(shape);
          await expect(
            verifyS3SigV4(req, opts),
            `${shape.method} ${target(shape)} ${JSON.stringify(value)}`,
          ).resolves.toMatchObject({
            region: "us-east-1",
          });
          // and a changed query value is refused
          if (Object.keys(query).length > 0) {
            const tampered = { ...req, url: `${req.url}&extra=1` };
            await expect(verifyS3SigV4(tampered, opts)).rejects.toMatchObject({
              code: "InvalidSignatureException",
            });
          }
        }
      }
    }
  });

  it("verifies CloudTrail requests with extra signed headers of awkward values", async () => {
    for (const value of HEADER_VALUES) {
      const req = await signedShape({
        method: "POST",
        path: "/",
        query: {},
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amz-target": "CloudTrail_20131101.ListTrails",
          "user-agent": value,
          "x-custom": value,
        },
        body: "{}",
        service: "cloudtrail",
        signable: ["user-agent", "x-custom"],
        contentSha: true,
      });
      await expect(verifySigV4(req, opts)).resolves.toMatchObject({ region: "us-east-1" });
      req.headers["x-custom"] = `${value}!`;
      await expect(verifySigV4(req, opts)).rejects.toMatchObject({ code: "InvalidSignatureException" });
    }
  });
});
