import type { Trail } from "../domain/trail.ts";

/** Trails of every account. Implementations: SQLite (embedded), PostgreSQL. */
export interface TrailRepo {
  /** Trails of an account, all home regions. */
  list(accountId: string): Promise<Trail[]>;
  get(accountId: string, homeRegion: string, name: string): Promise<Trail | undefined>;
  /** Fails with ConflictException when (account, homeRegion, name) exists. */
  create(trail: Trail): Promise<void>;
  /** Writes `trail` if the stored version equals `trail.version - 1`; else ConflictException. */
  update(trail: Trail): Promise<void>;
  delete(accountId: string, homeRegion: string, name: string): Promise<void>;
  /** Development reset: forget everything. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
