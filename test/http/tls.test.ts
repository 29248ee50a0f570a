import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudTrailClient, CreateTrailCommand, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/index.ts";
import { type OpenTrail, startOpenTrail } from "../../src/main.ts";

/** HTTPS with a generated certificate: the official client trusts it and records carry tlsDetails. */

const REGION = "us-east-1";
let dataDir: string;
let app: OpenTrail;
let certFile: string;

function clientOver(agent: Agent): CloudTrailClient {
  return new CloudTrailClient({
    endpoint: app.url,
    region: REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    requestHandler: { httpsAgent: agent },
  });
}

async function tlsDetailsOf(client: CloudTrailClient, trailName: string): Promise<unknown> {
  await client.send(new CreateTrailCommand({ Name: trailName, S3BucketName: "tls-bucket" })).catch(() => {});
  const found = await client.send(
    new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: trailName }],
    }),
  );
  const record = JSON.parse(found.Events![0]!.CloudTrailEvent!) as Record<string, unknown>;
  return record.tlsDetails;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "opentrail-tls-"));
  const config = loadConfig({ flags: { port: 0, dataDir, ingestWorkers: 0, tlsSelfSigned: "" } });
  const lines: Record<string, unknown>[] = [];
  app = await startOpenTrail(config, {
    log: pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l)) }),
  });
  certFile = lines.find((l) => typeof l.certificate === "string")!.certificate as string;
});

afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("HTTPS", () => {
  it("listens on https with the self-signed certificate kept in <data-dir>/tls", () => {
    expect(app.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(certFile).toBe(join(dataDir, "tls", "self-signed-cert.pem"));
  });

  it("records a TLS 1.3 call with AWS's tlsDetails", async () => {
    const client = clientOver(new Agent({ ca: readFileSync(certFile) }));
    const details = await tlsDetailsOf(client, "over-tls13");
    client.destroy();
    expect(details).toEqual({
      tlsVersion: "TLSv1.3",
      cipherSuite: expect.stringMatching(/^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/),
      clientProvidedHostHeader: new URL(app.url).host,
    });
  });

  it("names a TLS 1.2 cipher suite as OpenSSL (and AWS) writes it", async () => {
    const client = clientOver(
      new Agent({
        ca: readFileSync(certFile),
        maxVersion: "TLSv1.2",
        ciphers: "ECDHE-RSA-AES128-GCM-SHA256",
      }),
    );
    const details = await tlsDetailsOf(client, "over-tls12");
    client.destroy();
    expect(details).toEqual({
      tlsVersion: "TLSv1.2",
      cipherSuite: "ECDHE-RSA-AES128-GCM-SHA256",
      clientProvidedHostHeader: new URL(app.url).host,
    });
  });

  it("keeps the certificate across restarts and serves --tls-cert / --tls-key files", async () => {
    const keyFile = join(dataDir, "tls", "self-signed-key.pem");
    const before = readFileSync(certFile, "utf8");
    const second = await startOpenTrail(
      loadConfig({ flags: { port: 0, dataDir, ingestWorkers: 0, tlsCert: certFile, tlsKey: keyFile } }),
      { log: pino({ level: "silent" }) },
    );
    try {
      const res = await new Promise<number>((resolve, reject) => {
        get(`${second.url}/health`, { agent: new Agent({ ca: before }) }, (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        }).on("error", reject);
      });
      expect(res).toBe(200);
    } finally {
      await second.close();
    }
    expect(readFileSync(certFile, "utf8")).toBe(before);
  });

  it("refuses a certificate without its key, and both kinds at once", () => {
    expect(() => loadConfig({ flags: { tlsCert: "c.pem" } })).toThrow(ConfigError);
    expect(() => loadConfig({ flags: { tlsCert: "c.pem", tlsKey: "k.pem", tlsSelfSigned: "" } })).toThrow(
      /not both/,
    );
  });
});
