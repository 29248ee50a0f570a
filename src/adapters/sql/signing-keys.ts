import { generateKeyPair } from "node:crypto";
import { promisify } from "node:util";
import type { DigestPublicKey } from "../../ports/index.ts";

/** AWS's observed validity window. */
export const DEFAULT_KEY_ROTATION_MS = 30 * 24 * 60 * 60 * 1000;

/** A signing key as both SQL backends store it. */
export interface KeyRow {
  id: number;
  region: string;
  fingerprint: string;
  public_key: Buffer;
  private_key: string | null;
  valid_from: number;
  valid_to: number;
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A fresh RSA-2048 (e = 65537) private key as PKCS#8 PEM, generated off the main thread. */
export async function generateRsaKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPairAsync("rsa", {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  return privateKey;
}

export interface KeyStoreOptions {
  /** How long a key stays active; whole seconds, default 30 days. */
  rotationMs?: number;
  /** Makes a private key (PKCS#8 PEM); tests count calls or hand out fixed keys. */
  generate?: () => Promise<string>;
}

/** The rotation period of `options`, refused unless whole seconds. */
export function rotationOf(options: KeyStoreOptions): number {
  const rotationMs = options.rotationMs ?? DEFAULT_KEY_ROTATION_MS;
  if (!Number.isSafeInteger(rotationMs) || rotationMs < 1000 || rotationMs % 1000 !== 0) {
    throw new Error(`key rotation must be a whole number of seconds, at least one: ${rotationMs} ms`);
  }
  return rotationMs;
}

export function toPublicKey(r: KeyRow): DigestPublicKey {
  return {
    id: r.id,
    region: r.region,
    publicKeyDer: r.public_key,
    fingerprint: r.fingerprint,
    validFrom: new Date(r.valid_from),
    validTo: new Date(r.valid_to),
  };
}

export const PUBLIC_KEY_COLUMNS = "id, region, fingerprint, public_key, valid_from, valid_to";
