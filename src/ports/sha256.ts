import { Hash } from "@smithy/hash-node";

/**
 * SHA-256 and HMAC-SHA-256 (when given a secret) in the shape smithy's SigV4 signer takes as
 * `sha256`: the SDK's own Node hash. It lives in ports because both sides that sign or check SigV4
 * may import ports: wire verifies requests, adapters sign their own S3 reads.
 */
export const NodeSha256 = Hash.bind(null, "sha256");
