import { createHmac } from "node:crypto";

/**
 * SigV4's derived signing key, HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service),
 * "aws4_request"): four HMACs that are the same for every request of a key on one day, so they are
 * computed once per (secret, day, region, service). Bounded: the cache is dropped when it fills.
 */

const TERMINATOR = "aws4_request";
const MAX_CACHED_KEYS = 256;
const signingKeys = new Map<string, Buffer>();

export function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const id = `${secret}\n${day}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (key === undefined) {
    const kDate = createHmac("sha256", `AWS4${secret}`).update(day).digest();
    const kRegion = createHmac("sha256", kDate).update(region).digest();
    const kService = createHmac("sha256", kRegion).update(service).digest();
    key = createHmac("sha256", kService).update(TERMINATOR).digest();
    if (signingKeys.size >= MAX_CACHED_KEYS) signingKeys.clear();
    signingKeys.set(id, key);
  }
  return key;
}
