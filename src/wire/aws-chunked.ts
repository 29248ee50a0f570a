import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { AuthFailure } from "./auth-failure.ts";

/**
 * Checks the chunk signatures of an aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD` and its
 * `-TRAILER` form) as it streams past, without changing a byte: each chunk is
 * `<hex size>;chunk-signature=<sig>\r\n<data>\r\n`, each signature chains on the one before (the
 * seed is the Authorization header's), the last chunk is empty, and with a trailer its headers are
 * signed by `x-amz-trailer-signature`. S3 "Signature Calculations for the Authorization Header:
 * Transferring Payload in Multiple Chunks".
 */

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
/** A chunk's header line or a trailer line longer than this is not aws-chunked. */
const MAX_LINE = 4096;
const MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  /** `<day>/<region>/<service>/aws4_request`. */
  scope: string;
  seedSignature: string;
  /** The body ends with signed trailing headers. */
  trailer: boolean;
}

export interface BodyCheck {
  /** Feeds the next bytes; a failure as soon as one is certain. */
  update(bytes: Buffer): AuthFailure | undefined;
  /** The body has ended: its failure, if any. */
  end(): AuthFailure | undefined;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function chunkSignatureCheck(s: ChunkSigning): BodyCheck {
  let previous = s.seedSignature;
  let state: "head" | "data" | "crlf" | "trailer" | "done" = "head";
  let line = "";
  let remaining = 0;
  let declared = "";
  let hash = createHash("sha256");
  const trailerLines: string[] = [];
  let failure: AuthFailure | undefined;
  /** The zero-size chunk has been read. */
  let finalSeen = false;

  const fail = (message: string) => {
    failure ??= new AuthFailure(message === MISMATCH ? "mismatch" : "incomplete", message);
    return failure;
  };
  const sign = (kind: string, last: string): string =>
    createHmac("sha256", s.signingKey)
      .update(`AWS4-HMAC-SHA256-${kind}\n${s.amzDate}\n${s.scope}\n${previous}\n${last}`)
      .digest("hex");

  function chunkDone(): AuthFailure | undefined {
    const expected = sign("PAYLOAD", `${EMPTY_SHA256}\n${hash.digest("hex")}`);
    if (!same(expected, declared)) return fail(MISMATCH);
    previous = expected;
    hash = createHash("sha256");
    return undefined;
  }

  function headLine(text: string): AuthFailure | undefined {
    const m = /^([0-9a-fA-F]+);chunk-signature=([0-9a-f]{64})$/.exec(text);
    if (!m) return fail("aws-chunked chunk header is malformed");
    remaining = Number.parseInt(m[1]!, 16);
    declared = m[2]!;
    if (remaining === 0) {
      finalSeen = true;
      const bad = chunkDone();
      if (bad) return bad;
      state = s.trailer ? "trailer" : "crlf";
      return undefined;
    }
    state = "data";
    return undefined;
  }

  function trailerLine(text: string): AuthFailure | undefined {
    if (text !== "") {
      trailerLines.push(text);
      return undefined;
    }
    const signatureLine = trailerLines.find((l) => l.toLowerCase().startsWith("x-amz-trailer-signature:"));
    const headers = trailerLines.filter((l) => l !== signatureLine);
    if (signatureLine === undefined) return fail("aws-chunked trailer has no x-amz-trailer-signature");
    const canonical = headers
      .map(
        (l) => `${l.slice(0, l.indexOf(":")).trim().toLowerCase()}:${l.slice(l.indexOf(":") + 1).trim()}\n`,
      )
      .join("");
    const expected = sign("TRAILER", createHash("sha256").update(canonical).digest("hex"));
    if (!same(expected, signatureLine.slice(signatureLine.indexOf(":") + 1).trim())) return fail(MISMATCH);
    state = "done";
    return undefined;
  }

  return {
    update(bytes) {
      if (failure) return failure;
      let i = 0;
      while (i < bytes.length) {
        if (state === "data") {
          const n = Math.min(remaining, bytes.length - i);
          hash.update(bytes.subarray(i, i + n));
          remaining -= n;
          i += n;
          if (remaining === 0) {
            const bad = chunkDone();
            if (bad) return bad;
            state = "crlf";
            line = "";
          }
          continue;
        }
        if (state === "done") return fail("aws-chunked body goes on after its last chunk");
        // head, crlf and trailer states read lines
        const nl = bytes.indexOf(0x0a, i);
        const end = nl < 0 ? bytes.length : nl;
        line += bytes.subarray(i, end).toString("latin1");
        i = end;
        if (line.length > MAX_LINE) return fail("aws-chunked line is too long");
        if (nl < 0) break;
        i = nl + 1;
        const text = line.endsWith("\r") ? line.slice(0, -1) : line;
        line = "";
        let bad: AuthFailure | undefined;
        if (state === "head") bad = headLine(text);
        else if (state === "trailer") bad = trailerLine(text);
        else if (text !== "") bad = fail("aws-chunked chunk data is not followed by CRLF");
        else state = finalSeen ? "done" : "head";
        if (bad) return bad;
      }
      return undefined;
    },
    end() {
      if (failure) return failure;
      if (state !== "done") return fail("aws-chunked body ended before its last chunk");
      return undefined;
    },
  };
}
