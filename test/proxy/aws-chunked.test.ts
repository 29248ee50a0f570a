import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { chunkSignatureCheck } from "../../src/wire/aws-chunked.ts";

/**
 * The example of S3's "Transferring Payload in Multiple Chunks" page: secret
 * wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 20130524T000000Z, us-east-1, 66,560 bytes of 'a' in
 * chunks of 65,536 and 1,024, then the empty chunk.
 */
const SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const SIGNATURES = [
  "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
  "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
  "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
];

function key(): Buffer {
  const h = (k: string | Buffer, d: string) => createHmac("sha256", k).update(d).digest();
  return h(
    h(h(h("AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524"), "us-east-1"), "s3"),
    "aws4_request",
  );
}

function body(signatures = SIGNATURES): Buffer {
  return Buffer.concat(
    [65536, 1024, 0].map((n, i) =>
      Buffer.concat([
        Buffer.from(`${n.toString(16)};chunk-signature=${signatures[i]}\r\n`),
        Buffer.alloc(n, 0x61),
        Buffer.from("\r\n"),
      ]),
    ),
  );
}

function check() {
  return chunkSignatureCheck({
    signingKey: key(),
    amzDate: "20130524T000000Z",
    scope: "20130524/us-east-1/s3/aws4_request",
    seedSignature: SEED,
    trailer: false,
  });
}

describe("aws-chunked chunk signatures", () => {
  it("accept AWS's example, fed in pieces of any size", () => {
    const bytes = body();
    expect(bytes.length).toBe(66824);
    for (const size of [1, 7, 4096, bytes.length]) {
      const c = check();
      for (let i = 0; i < bytes.length; i += size)
        expect(c.update(bytes.subarray(i, i + size))).toBeUndefined();
      expect(c.end()).toBeUndefined();
    }
  });

  it("refuse a changed byte, a wrong signature and a body cut short", () => {
    const changed = body();
    changed[200] = 0x62;
    const c1 = check();
    expect(c1.update(changed) ?? c1.end()).toMatchObject({ reason: "mismatch" });
    const c2 = check();
    const wrong = body([SIGNATURES[0]!, SIGNATURES[2]!, SIGNATURES[1]!]);
    expect(c2.update(wrong) ?? c2.end()).toMatchObject({ reason: "mismatch" });
    const c3 = check();
    expect(c3.update(body().subarray(0, 70_000 - 4000))).toBeUndefined();
    expect(c3.end()).toMatchObject({ reason: "incomplete" });
  });
});
