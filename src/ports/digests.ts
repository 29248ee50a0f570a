import type { PreviousDigest } from "../domain/digest.ts";

/** One (trail, region) chain. `periodStart` is where the next digest starts. */
export interface DigestChain {
  trailArn: string;
  region: string;
  accountId: string;
  trailName: string;
  homeRegion: string;
  bucket: string;
  /** "" for none. */
  prefix: string;
  periodStart: Date;
  /** Set when the chain's final digest is written; the row stays so the next chain starts here. */
  closedAt?: Date;
  previous: PreviousDigest | null;
}

export interface DigestChainStore {
  chains(): Promise<DigestChain[]>;
  saveChain(chain: DigestChain): Promise<void>;
}
