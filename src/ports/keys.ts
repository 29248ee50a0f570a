/** A region's digest public key, as ListPublicKeys shows it. */
export interface DigestPublicKey {
  id: number;
  region: string;
  /** DER of the PKCS#1 RSAPublicKey (what ListPublicKeys sends as `Value`). */
  publicKeyDer: Buffer;
  /** Lowercase hex MD5 of `publicKeyDer`. */
  fingerprint: string;
  /** Whole seconds; the key signs digests from `validFrom` until `validTo`. */
  validFrom: Date;
  validTo: Date;
}

/** The key that signs a region's digests now. Its private half never leaves the service. */
export interface DigestSigningKey extends DigestPublicKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/**
 * Digest signing keys: one active RSA-2048 pair per region (shared by every account, as on AWS),
 * rotated when its validity ends. Public keys are kept forever so that old digests stay
 * verifiable; a private key is kept only while its key is active.
 */
export interface KeyStore {
  /**
   * The region's key valid at `now`. When there is none (first use, or the last one expired) one
   * is made, valid from `now` for the rotation period; concurrent callers get the same new key.
   */
  activeKey(region: string, now: Date): Promise<DigestSigningKey>;
  /** The region's keys whose validity overlaps [start, end] (bounds included), oldest first. */
  publicKeys(region: string, start: Date, end: Date): Promise<DigestPublicKey[]>;
  keyByFingerprint(fingerprint: string): Promise<DigestPublicKey | undefined>;
}
