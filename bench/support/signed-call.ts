import { type Agent, request } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import { NodeSha256 } from "../../src/wire/sigv4.ts";

/**
 * Signed requests made ready before they are sent (a signature holds for 15 minutes), so that a
 * load generator sharing the cores with the server spends its time on HTTP, and the time a call
 * takes is the server's and the connection's alone.
 */

const TARGET_PREFIX = "CloudTrail_20131101.";

/** A request ready to send: its signed headers and body. */
export interface Prepared {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Who signs: an access key (the secret is `test`, as development mode's keys take) and a region. */
export interface Signer {
  accessKeyId: string;
  region: string;
}

export async function signRequest(
  target: URL,
  as: Signer,
  service: string,
  req: { method: string; path: string; headers: Record<string, string>; body: Buffer },
): Promise<Prepared> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: as.accessKeyId, secretAccessKey: "test" },
    region: as.region,
    service,
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method: req.method,
    protocol: "http:",
    hostname: target.hostname,
    port: Number(target.port),
    path: req.path,
    headers: { host: target.host, "content-length": String(req.body.length), ...req.headers },
    body: req.body,
  });
  return {
    path: req.path,
    method: req.method,
    headers: signed.headers as Record<string, string>,
    body: req.body,
  };
}

/** A CloudTrail API call in the JSON 1.1 protocol. */
export function cloudTrailCall(target: URL, as: Signer, operation: string, input: object): Promise<Prepared> {
  return signRequest(target, as, "cloudtrail", {
    method: "POST",
    path: "/",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `${TARGET_PREFIX}${operation}`,
    },
    body: Buffer.from(JSON.stringify(input)),
  });
}

export function sendPrepared(
  url: URL,
  agent: Agent,
  call: Prepared,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: call.method, path: call.path, agent, headers: call.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(call.body);
  });
}
