import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import type { Clock } from "./api/context.ts";
import type { TlsConfig } from "./config/index.ts";

/** What the HTTPS listener needs, and where a client finds the certificate to trust. */
export interface TlsMaterial {
  cert: string;
  key: string;
  certFile: string;
}

/** Names every self-signed certificate is made for: the loopback names a local client uses. */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
const SELF_SIGNED_DAYS = 825;

/** The certificate and key: read from their files, or the kept self-signed pair (made when missing). */
export async function tlsMaterial(tls: TlsConfig, dataDir: string, clock: Clock): Promise<TlsMaterial> {
  if (tls.kind === "files") {
    return {
      cert: readFileSync(tls.certFile, "utf8"),
      key: readFileSync(tls.keyFile, "utf8"),
      certFile: tls.certFile,
    };
  }
  const dir = join(dataDir, "tls");
  const certFile = join(dir, "self-signed-cert.pem");
  const keyFile = join(dir, "self-signed-key.pem");
  const names = [...new Set([...LOOPBACK_NAMES, ...tls.hostnames])];
  // the same certificate across restarts, so that a client trusts it once
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, "utf8");
    if (stillFits(new X509Certificate(cert), names, clock.now())) {
      return { cert, key: readFileSync(keyFile, "utf8"), certFile };
    }
  }
  const now = clock.now();
  // loaded only to make a certificate: about 180 ms of start-up otherwise
  const { generate } = await import("selfsigned");
  const made = await generate([{ name: "commonName", value: names[0]! }], {
    keyType: "rsa",
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + SELF_SIGNED_DAYS * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n })),
      },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, made.private, { mode: 0o600 });
  writeFileSync(certFile, made.cert, { mode: 0o644 });
  return { cert: made.cert, key: made.private, certFile };
}

/** Valid for a day more at least, and made for every name asked for. */
function stillFits(cert: X509Certificate, names: string[], now: Date): boolean {
  if (new Date(cert.validTo).getTime() < now.getTime() + 86_400_000) return false;
  return names.every((n) => (isIP(n) ? cert.checkIP(n) : cert.checkHost(n)) !== undefined);
}
