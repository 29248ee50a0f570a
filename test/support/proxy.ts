import { SignatureV4 } from "@smithy/signature-v4";
import type { CallRenderer } from "../../src/proxy/call.ts";
import { NodeSha256 } from "../../src/wire/sigv4.ts";
import { type S3TestServer, startMoto } from "./s3-servers.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** The development key: the proxy authenticates with it, moto ignores it. */
export const DEV_KEY = { accessKeyId: "test", secretAccessKey: "test" };
export const REGION = "us-east-1";

export interface ProxyRig {
  moto: S3TestServer;
  server: TestServer;
  /** opentrail's URL: the one endpoint the clients are given. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startProxyRig(renderer?: CallRenderer): Promise<ProxyRig> {
  const moto = await startMoto();
  let server: TestServer;
  try {
    server = await startTestServer(
      { upstreams: { default: moto.endpoint, services: {} } },
      renderer ? { renderer } : {},
    );
  } catch (e) {
    await moto.stop();
    throw e;
  }
  return {
    moto,
    server,
    endpoint: server.url,
    async close() {
      await server.close();
      await moto.stop();
    },
  };
}

function s3Signer(): SignatureV4 {
  return new SignatureV4({
    credentials: DEV_KEY,
    region: REGION,
    service: "s3",
    sha256: NodeSha256,
    uriEscapePath: false,
  });
}

/** The headers of an S3 request signed by hand with the development key (host added). */
export async function signS3(
  url: URL,
  method: string,
  headers: Record<string, string>,
  query: Record<string, string> = {},
): Promise<Record<string, string>> {
  const signed = await s3Signer().sign({
    method,
    protocol: "http:",
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query,
    headers: { host: url.host, ...headers },
  });
  return signed.headers as Record<string, string>;
}

/** A presigned GET URL, as @aws-sdk/s3-request-presigner makes it (the payload unsigned, no header sent). */
export async function presignS3Get(url: URL, expiresIn = 300): Promise<string> {
  const presigned = await s3Signer().presign(
    {
      method: "GET",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    },
    {
      expiresIn,
      unhoistableHeaders: new Set(["x-amz-content-sha256"]),
      unsignableHeaders: new Set(["x-amz-content-sha256"]),
    },
  );
  return `${url.href}?${new URLSearchParams(presigned.query as Record<string, string>).toString()}`;
}
