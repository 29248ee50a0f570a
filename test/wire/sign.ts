import { SignatureV4 } from "@smithy/signature-v4";
import pino from "pino";
import type { OperationName } from "../../src/api/index.ts";
import type { Service } from "../../src/api/service.ts";
import type { Credential, CredentialStore, Ids } from "../../src/ports/index.ts";
import { createWireHandler, type RecordedCall, type WireOptions } from "../../src/wire/handler.ts";
import { NodeSha256 } from "../../src/wire/sigv4.ts";
import type { RawRequest, RawResponse } from "../../src/wire/types.ts";

/** Test helpers: requests signed the way the official clients sign them, and a stub service. */

export const NOW = new Date("2024-03-01T12:00:00.000Z");
export const ACCOUNT = "111122223333";
export const HOST = "127.0.0.1:4566";
export const JS_PREFIX = "CloudTrail_20131101";
export const BOTO_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

export function credential(accessKeyId: string, secretAccessKey: string, sessionToken?: string): Credential {
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    principal: {
      accountId: ACCOUNT,
      accessKeyId,
      identity: { type: "IAMUser", accountId: ACCOUNT, userName: "tester" },
    },
  };
}

export const KEYS: Record<string, Credential> = {
  AKIDTEST: credential("AKIDTEST", "secret-key"),
  ASIATEMP: credential("ASIATEMP", "temp-secret", "the-session-token"),
};

export const credentialStore: CredentialStore = { lookup: (id) => KEYS[id] };

export interface SignOptions {
  operation?: OperationName | string;
  /** Full X-Amz-Target; overrides `operation`. `null` leaves the header out. */
  target?: string | null;
  body?: string | Buffer;
  contentType?: string | null;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  region?: string;
  service?: string;
  date?: Date;
  /** botocore does not send x-amz-content-sha256; the JS SDK does. */
  style?: "sdk" | "botocore";
  extraHeaders?: Record<string, string>;
  /** Headers to sign even if smithy would not (e.g. user-agent). */
  signableHeaders?: string[];
}

/** A RawRequest signed with @smithy/signature-v4, as the official clients would send it. */
export async function signed(opts: SignOptions = {}): Promise<RawRequest> {
  const body = Buffer.from(opts.body ?? "{}");
  const headers: Record<string, string> = { host: HOST, ...opts.extraHeaders };
  if (opts.contentType !== null) headers["content-type"] = opts.contentType ?? "application/x-amz-json-1.1";
  const target = opts.target === undefined ? `${JS_PREFIX}.${opts.operation ?? "ListTrails"}` : opts.target;
  if (target !== null) headers["x-amz-target"] = target;
  const accessKeyId = opts.accessKeyId ?? "AKIDTEST";
  const signer = new SignatureV4({
    credentials: {
      accessKeyId,
      secretAccessKey: opts.secretAccessKey ?? KEYS[accessKeyId]?.secretAccessKey ?? "unknown",
      ...(opts.sessionToken === undefined ? {} : { sessionToken: opts.sessionToken }),
    },
    region: opts.region ?? "us-east-1",
    service: opts.service ?? "cloudtrail",
    sha256: NodeSha256,
    applyChecksum: (opts.style ?? "sdk") === "sdk",
  });
  const out = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4566,
      path: "/",
      query: {},
      headers,
      body,
    },
    {
      signingDate: opts.date ?? NOW,
      ...(opts.signableHeaders ? { signableHeaders: new Set(opts.signableHeaders) } : {}),
    },
  );
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) lower[k.toLowerCase()] = String(v);
  return { method: "POST", url: "/", headers: lower, body, remoteAddress: "127.0.0.1" };
}

/** A request with hand-written headers (for the malformed cases). */
export function raw(headers: Record<string, string>, body: string | Buffer = "{}"): RawRequest {
  return { method: "POST", url: "/", headers, body: Buffer.from(body), remoteAddress: "127.0.0.1" };
}

export function sequentialIds(prefix = "req"): Ids & { issued: string[] } {
  const issued: string[] = [];
  return {
    issued,
    uuid() {
      const id = `${prefix}-${String(issued.length + 1).padStart(4, "0")}`;
      issued.push(id);
      return id;
    },
  };
}

export type StubImpl = (operation: OperationName, input: Record<string, unknown>) => Promise<unknown>;

/** Every operation goes to one function; by default it answers `{}`. */
export function stubService(impl: StubImpl = async () => ({})): Service & { calls: RecordedStub[] } {
  const calls: RecordedStub[] = [];
  const target = { calls } as Record<string, unknown>;
  return new Proxy(target, {
    get(t, prop) {
      if (prop === "calls") return calls;
      if (typeof prop !== "string") return t[prop as never];
      return async (ctx: RecordedStub["ctx"], input: Record<string, unknown>) => {
        calls.push({ operation: prop as OperationName, input, ctx });
        return impl(prop as OperationName, input);
      };
    },
  }) as unknown as Service & { calls: RecordedStub[] };
}

export interface RecordedStub {
  operation: OperationName;
  input: Record<string, unknown>;
  ctx: RecordedCall["ctx"];
}

/** Log lines written by the handler, parsed. */
export function memoryLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "debug" },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { log, lines };
}

export function wireWith(
  service: Service,
  extra: Partial<WireOptions> = {},
): { handle: (req: RawRequest) => Promise<RawResponse>; ids: ReturnType<typeof sequentialIds> } {
  const ids = sequentialIds();
  const handle = createWireHandler({
    service,
    credentials: credentialStore,
    regions: ["us-east-1", "us-west-2"],
    clock: { now: () => NOW },
    ids,
    log: pino({ level: "silent" }),
    ...extra,
  });
  return { handle, ids };
}

export function json(res: RawResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}
