import type { ObjectReader } from "../ports/index.ts";
import { type DigestRead, type PublicKeys, readDigest } from "./digest-read.ts";
import type { DigestListing } from "./listing.ts";
import type { Pool } from "./pool.ts";

/** Lookahead of the digest prefetch; digests are small, so a window this size costs little memory. */
const PREFETCH = 16;

/**
 * Digest reads started ahead of the walk. Each read is taken once: the walk takes what it visits,
 * so the cache holds only the prefetched digests it has not reached yet.
 */
export class DigestCache {
  readonly #reads = new Map<string, Promise<DigestRead>>();
  readonly #reader: ObjectReader;
  readonly #pool: Pool;
  readonly #keys: PublicKeys;
  readonly #homeRegion: string;

  constructor(reader: ObjectReader, pool: Pool, keys: PublicKeys, homeRegion: string) {
    this.#reader = reader;
    this.#pool = pool;
    this.#keys = keys;
    this.#homeRegion = homeRegion;
  }

  #fetch(bucket: string, key: string): Promise<DigestRead> {
    const id = `${bucket}\n${key}`;
    let p = this.#reads.get(id);
    if (!p) {
      // urgent: the walk waits for digests, while log files can queue
      p = this.#pool.run(() => readDigest(this.#reader, this.#keys, this.#homeRegion, bucket, key), true);
      // a prefetched digest the walk never reaches must not surface as an unhandled rejection
      p.catch(() => {});
      this.#reads.set(id, p);
    }
    return p;
  }

  /** The read of a digest, started now unless it was prefetched; forgotten by the cache. */
  take(bucket: string, key: string): Promise<DigestRead> {
    const p = this.#fetch(bucket, key);
    this.#reads.delete(`${bucket}\n${key}`);
    return p;
  }

  /** Links mostly point at the next older listed key: read the next few before the walk asks. */
  prefetchBelow(l: DigestListing, key: string): void {
    const at = l.index.get(key);
    if (at === undefined) return;
    for (let i = at - 1; i >= 0 && i >= at - PREFETCH && this.#reads.size < 2 * PREFETCH; i--) {
      this.#fetch(l.bucket, l.keys[i]!);
    }
  }
}
