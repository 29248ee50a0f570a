import type { CallRenderer } from "../../src/proxy/call.ts";
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
