import type { CallRenderer, PlacedCall } from "../../src/proxy/call.ts";
import { type S3TestServer, startMoto } from "./s3-servers.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** The development key: the proxy authenticates with it, moto ignores it. */
export const DEV_KEY = { accessKeyId: "test", secretAccessKey: "test" };
export const REGION = "us-east-1";

/**
 * Stand-in placement until the generated models are merged: json by X-Amz-Target, query by
 * Action, S3 by SDK v3's `x-id` hint or the method; records nothing it cannot name.
 */
export const interimRenderer: CallRenderer = {
  keepsRequestBody: (req) =>
    (req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded"),
  place(req): PlacedCall {
    const target = req.headers["x-amz-target"];
    if (target !== undefined) {
      return { service: req.signingName ?? "unknown", operation: target.split(".").pop(), protocol: "json" };
    }
    const action = /(?:^|&)Action=([A-Za-z]+)/.exec(
      `${req.query}&${Buffer.from(req.body ?? []).toString()}`,
    )?.[1];
    if (action !== undefined)
      return { service: req.signingName ?? "unknown", operation: action, protocol: "query" };
    if (req.signingName === "s3" || req.signingName === undefined) {
      const hint = /(?:^|&)x-id=([A-Za-z]+)/.exec(req.query)?.[1];
      return { service: "s3", operation: hint ?? `${req.method}`, protocol: "rest-xml" };
    }
    return { service: "unknown", operation: undefined, protocol: undefined };
  },
  keepsResponseBody: () => false,
  render(placed, req, answer) {
    const failed = answer.status >= 400;
    return {
      eventSource: `${placed.service}.amazonaws.com`,
      eventName: placed.operation ?? "",
      readOnly: req.method === "GET",
      requestParameters: null,
      responseElements: null,
      ...(failed ? { error: { code: `Http${answer.status}`, message: "" } } : {}),
    };
  },
};

export interface ProxyRig {
  moto: S3TestServer;
  server: TestServer;
  /** opentrail's URL: the one endpoint the clients are given. */
  endpoint: string;
  close(): Promise<void>;
}

export async function startProxyRig(renderer: CallRenderer = interimRenderer): Promise<ProxyRig> {
  const moto = await startMoto();
  let server: TestServer;
  try {
    server = await startTestServer({ upstreams: { default: moto.endpoint, services: {} } }, { renderer });
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
