import { createHash } from "node:crypto";

/**
 * The log files the valid digests list, for the check of unlisted files, in 8 bytes each: the
 * first 64 bits of an MD5 of (group, key) rather than the key and its hash, so that a validation
 * of a million log files keeps 8 MB, not some 300. A key that is not listed counts as listed only
 * if its 64 bits equal a listed key's: about one chance in 2^64 / (listed keys) per unlisted file,
 * and only the extra check of unlisted files could miss it then.
 */
export class ListedKeys {
  #hashes = new BigUint64Array(1024);
  #size = 0;
  #sorted = true;

  static #hash(group: string, key: string): bigint {
    return createHash("md5").update(group).update("\n").update(key).digest().readBigUInt64LE(0);
  }

  add(group: string, key: string): void {
    if (this.#size === this.#hashes.length) {
      const grown = new BigUint64Array(this.#hashes.length * 2);
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[this.#size++] = ListedKeys.#hash(group, key);
    this.#sorted = false;
  }

  has(group: string, key: string): boolean {
    if (!this.#sorted) {
      this.#hashes.subarray(0, this.#size).sort();
      this.#sorted = true;
    }
    const h = ListedKeys.#hash(group, key);
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.#hashes[mid]!;
      if (at === h) return true;
      if (at < h) lo = mid + 1;
      else hi = mid;
    }
    return false;
  }

  get size(): number {
    return this.#size;
  }
}
