import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  buildDigest,
  type DigestFields,
  digestKey,
  fingerprint,
  publicKeyDer,
  signDigest,
  signingString,
  verifyDigest,
} from "../../src/domain/digest.ts";
import {
  ACCOUNT,
  AWS_EXAMPLE_FINGERPRINT,
  AWS_EXAMPLE_PUBLIC_KEY_BASE64,
  BUCKET,
  DIGEST_1,
  DIGEST_2,
  LOG_FILE,
  REGION,
  TEST_FINGERPRINT,
  TEST_KEY_PEM,
  TEST_PUBLIC_KEY_BASE64,
  TRAIL,
} from "./digest-vectors.ts";

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

const digest1Fields: DigestFields = {
  accountId: ACCOUNT,
  startTime: DIGEST_1.startTime,
  endTime: DIGEST_1.endTime,
  bucket: BUCKET,
  key: DIGEST_1.key,
  fingerprint: TEST_FINGERPRINT,
  previous: null,
  logFiles: [],
};

const digest2Fields: DigestFields = {
  accountId: ACCOUNT,
  startTime: DIGEST_2.startTime,
  endTime: DIGEST_2.endTime,
  bucket: BUCKET,
  key: DIGEST_2.key,
  fingerprint: TEST_FINGERPRINT,
  previous: { bucket: BUCKET, key: DIGEST_1.key, sha256: DIGEST_1.sha256, signature: DIGEST_1.signature },
  logFiles: [
    {
      bucket: BUCKET,
      key: LOG_FILE.key,
      sha256: LOG_FILE.sha256,
      oldestEventTime: LOG_FILE.eventTime,
      newestEventTime: LOG_FILE.eventTime,
    },
  ],
};

const vectorKeyParts = { accountId: ACCOUNT, region: REGION, trailName: TRAIL, homeRegion: REGION };

describe("the published key", () => {
  it("gives the DER PKCS#1 public key of the vectors", () => {
    const der = publicKeyDer(TEST_KEY_PEM);
    expect(der.toString("base64")).toBe(TEST_PUBLIC_KEY_BASE64);
    expect(der.toString("base64").startsWith("MIIBCgKCAQEA")).toBe(true);
    expect(der.subarray(0, 9).toString("hex")).toBe("3082010a0282010100");
    expect(der.length).toBe(270);
  });

  it("has the fingerprint of the vectors", () => {
    expect(fingerprint(publicKeyDer(TEST_KEY_PEM))).toBe(TEST_FINGERPRINT);
    expect(fingerprint(Buffer.from(TEST_PUBLIC_KEY_BASE64, "base64"))).toBe(TEST_FINGERPRINT);
  });

  it("fingerprints AWS's documented example key as AWS does", () => {
    expect(fingerprint(Buffer.from(AWS_EXAMPLE_PUBLIC_KEY_BASE64, "base64"))).toBe(AWS_EXAMPLE_FINGERPRINT);
  });

  it("derives the same DER from a KeyObject and from PEM", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    expect(publicKeyDer(privateKey)).toEqual(publicKeyDer(pem));
    expect(publicKeyDer(pem).subarray(0, 4).toString("hex")).toBe("3082010a");
  });
});

describe("the log file of the vectors", () => {
  it("hashes to the published SHA-256", () => {
    expect(sha256(LOG_FILE.body)).toBe(LOG_FILE.sha256);
  });
});

describe("digestKey", () => {
  it("names both vector digests exactly", () => {
    expect(digestKey({ ...vectorKeyParts, endTime: DIGEST_1.endTime })).toBe(DIGEST_1.key);
    expect(digestKey({ ...vectorKeyParts, endTime: DIGEST_2.endTime })).toBe(DIGEST_2.key);
  });

  it("puts the prefix and one slash first, and nothing for an empty prefix", () => {
    const endTime = new Date("2024-03-05T11:30:00Z");
    expect(digestKey({ ...vectorKeyParts, endTime, prefix: "a/b" })).toBe(`a/b/${DIGEST_1.key}`);
    expect(digestKey({ ...vectorKeyParts, endTime, prefix: "" })).toBe(DIGEST_1.key);
    expect(digestKey({ ...vectorKeyParts, endTime, prefix: undefined })).toBe(DIGEST_1.key);
  });

  it("keeps seconds, zero-pads every part and drops milliseconds", () => {
    const key = digestKey({
      accountId: "123456789012",
      region: "eu-west-1",
      trailName: "t",
      homeRegion: "us-east-2",
      endTime: new Date("2009-01-02T03:04:05.999Z"),
    });
    expect(key).toBe(
      "AWSLogs/123456789012/CloudTrail-Digest/eu-west-1/2009/01/02/123456789012_CloudTrail-Digest_eu-west-1_t_us-east-2_20090102T030405Z.json.gz",
    );
  });

  it("takes the folders from the end time in UTC, and the AWS CLI finds the stamp at [-24:-8]", () => {
    const key = digestKey({ ...vectorKeyParts, endTime: new Date("2024-12-31T23:59:59Z") });
    expect(key).toContain("/2024/12/31/");
    expect(key.slice(-24, -8)).toBe("20241231T235959Z");
  });
});

describe("buildDigest", () => {
  it("writes the starting digest of the vectors byte for byte", () => {
    const built = buildDigest(digest1Fields);
    expect(built.json).toBe(DIGEST_1.body);
    expect(built.bytes.equals(Buffer.from(DIGEST_1.body, "utf8"))).toBe(true);
    expect(built.sha256Hex).toBe(DIGEST_1.sha256);
  });

  it("writes the chained digest of the vectors byte for byte", () => {
    const built = buildDigest(digest2Fields);
    expect(built.json).toBe(DIGEST_2.body);
    expect(built.sha256Hex).toBe(DIGEST_2.sha256);
  });

  it("has every member of integrity.md §3, previous* null in a starting digest", () => {
    const doc = JSON.parse(buildDigest(digest1Fields).json) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).toEqual(
      [
        "awsAccountId",
        "digestEndTime",
        "digestPublicKeyFingerprint",
        "digestS3Bucket",
        "digestS3Object",
        "digestSignatureAlgorithm",
        "digestStartTime",
        "logFiles",
        "newestEventTime",
        "oldestEventTime",
        "previousDigestHashAlgorithm",
        "previousDigestHashValue",
        "previousDigestS3Bucket",
        "previousDigestS3Object",
        "previousDigestSignature",
      ].sort(),
    );
    for (const k of Object.keys(doc).filter((k) => k.startsWith("previous"))) expect(doc[k]).toBeNull();
    expect(doc.newestEventTime).toBeNull();
    expect(doc.oldestEventTime).toBeNull();
    expect(doc.logFiles).toEqual([]);
  });

  it("takes the oldest and newest event time over all files, in seconds", () => {
    const file = (oldest: string, newest: string, n: number) => ({
      bucket: "b",
      key: `k${n}`,
      sha256: "0".repeat(64),
      oldestEventTime: new Date(oldest),
      newestEventTime: new Date(newest),
    });
    const doc = JSON.parse(
      buildDigest({
        ...digest1Fields,
        logFiles: [
          file("2024-03-05T10:00:00Z", "2024-03-05T10:20:00.750Z", 1),
          file("2024-03-05T09:59:59.250Z", "2024-03-05T10:05:00Z", 2),
          file("2024-03-05T10:10:00Z", "2024-03-05T10:15:00Z", 3),
        ],
      }).json,
    ) as { oldestEventTime: string; newestEventTime: string; logFiles: { s3Object: string }[] };
    expect(doc.oldestEventTime).toBe("2024-03-05T09:59:59Z");
    expect(doc.newestEventTime).toBe("2024-03-05T10:20:00Z");
    expect(doc.logFiles.map((l) => l.s3Object)).toEqual(["k1", "k2", "k3"]);
  });

  it("refuses what a validator would only report later", () => {
    expect(() => buildDigest({ ...digest1Fields, startTime: new Date("2024-03-05T11:30:01Z") })).toThrow(
      /startTime is after endTime/,
    );
    expect(() => buildDigest({ ...digest1Fields, fingerprint: TEST_FINGERPRINT.toUpperCase() })).toThrow(
      /fingerprint/,
    );
    expect(() =>
      buildDigest({
        ...digest2Fields,
        logFiles: [{ ...digest2Fields.logFiles[0]!, sha256: "AB".repeat(32) }],
      }),
    ).toThrow(/not lowercase hex/);
    expect(() =>
      buildDigest({ ...digest2Fields, previous: { ...digest2Fields.previous!, sha256: "abc" } }),
    ).toThrow(/previous.sha256/);
    expect(() =>
      buildDigest({ ...digest2Fields, previous: { ...digest2Fields.previous!, signature: "abc" } }),
    ).toThrow(/previous.signature/);
  });
});

describe("signingString", () => {
  it("is the data to sign of both vectors exactly", () => {
    expect(signingString(DIGEST_1.endTime, BUCKET, DIGEST_1.key, DIGEST_1.sha256, null)).toBe(
      DIGEST_1.signingString,
    );
    expect(signingString(DIGEST_2.endTime, BUCKET, DIGEST_2.key, DIGEST_2.sha256, DIGEST_1.signature)).toBe(
      DIGEST_2.signingString,
    );
  });

  it("takes digestEndTime as read from a digest, unchanged", () => {
    expect(signingString("2024-03-05T11:30:00Z", BUCKET, DIGEST_1.key, DIGEST_1.sha256, null)).toBe(
      DIGEST_1.signingString,
    );
  });

  it("has four LF-separated lines, no trailing LF, no s3:// scheme", () => {
    const s = signingString(DIGEST_1.endTime, BUCKET, DIGEST_1.key, DIGEST_1.sha256, null);
    expect(s.split("\n")).toHaveLength(4);
    expect(s).not.toMatch(/\r|\n$|s3:\/\//);
    expect(s.endsWith("\nnull")).toBe(true);
  });
});

describe("signDigest and verifyDigest", () => {
  const der = Buffer.from(TEST_PUBLIC_KEY_BASE64, "base64");

  it("reproduces both published signatures", () => {
    expect(signDigest(TEST_KEY_PEM, DIGEST_1.signingString)).toBe(DIGEST_1.signature);
    expect(signDigest(TEST_KEY_PEM, DIGEST_2.signingString)).toBe(DIGEST_2.signature);
    expect(signDigest(TEST_KEY_PEM, Buffer.from(DIGEST_1.signingString, "utf8"))).toBe(DIGEST_1.signature);
  });

  it("signs 256 bytes as 512 lowercase hex digits", () => {
    expect(signDigest(TEST_KEY_PEM, "anything")).toMatch(/^[0-9a-f]{512}$/);
  });

  it("verifies the published signatures with the published public key", () => {
    expect(verifyDigest(der, DIGEST_1.signingString, DIGEST_1.signature)).toBe(true);
    expect(verifyDigest(der, DIGEST_2.signingString, DIGEST_2.signature)).toBe(true);
    expect(verifyDigest(new Uint8Array(der), DIGEST_2.signingString, DIGEST_2.signature.toUpperCase())).toBe(
      true,
    );
  });

  it("rejects a changed signing string, a swapped signature and another key", () => {
    const changed = signingString(DIGEST_2.endTime, BUCKET, DIGEST_2.key, "0".repeat(64), DIGEST_1.signature);
    expect(verifyDigest(der, changed, DIGEST_2.signature)).toBe(false);
    expect(verifyDigest(der, DIGEST_2.signingString, DIGEST_1.signature)).toBe(false);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    expect(verifyDigest(publicKeyDer(privateKey), DIGEST_1.signingString, DIGEST_1.signature)).toBe(false);
  });

  it("rejects signatures that are not whole hex bytes instead of decoding part of them", () => {
    expect(verifyDigest(der, DIGEST_1.signingString, `${DIGEST_1.signature}0`)).toBe(false);
    expect(verifyDigest(der, DIGEST_1.signingString, `${DIGEST_1.signature}zz`)).toBe(false);
    expect(verifyDigest(der, DIGEST_1.signingString, "")).toBe(false);
  });

  it("throws for a key that is not DER PKCS#1, as the AWS CLI cannot load one either", () => {
    const spki = createPublicKey(TEST_KEY_PEM).export({ type: "spki", format: "der" });
    expect(spki.toString("base64").startsWith("MIIBIj")).toBe(true);
    expect(() => verifyDigest(spki, DIGEST_1.signingString, DIGEST_1.signature)).toThrow();
  });
});
