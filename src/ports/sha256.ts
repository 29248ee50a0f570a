import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";

/**
 * SHA-256 and HMAC-SHA-256 (when given a secret) over node:crypto, in the shape smithy's SigV4
 * signer takes as `sha256`. It lives in ports because both sides that sign or check SigV4 may
 * import ports: wire verifies requests, adapters sign their own S3 reads.
 */
export class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = createHash("sha256");
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === "string") return Buffer.from(data, "utf8");
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
