import { type CloudTrailError, fail } from "../api/errors.ts";
import type { Trail } from "../domain/trail.ts";

/** Trails of every account. Implementations: SQLite (embedded), PostgreSQL. */
export interface TrailRepo {
  /** Trails of an account, all home regions. */
  list(accountId: string): Promise<Trail[]>;
  /** Trails of every account (for background work that spans accounts), by account, then as `list`. */
  listAll(): Promise<Trail[]>;
  get(accountId: string, homeRegion: string, name: string): Promise<Trail | undefined>;
  /**
   * Fails with ConflictException when (account, homeRegion, name) exists. A repository that
   * several nodes share also refuses, in the same transaction, what `checkRoomForTrail` refuses
   * (TrailAlreadyExistsException, MaximumNumberOfTrailsExceededException): the service's own check
   * cannot see another node's concurrent write.
   */
  create(trail: Trail): Promise<void>;
  /**
   * Writes `trail` if the stored version equals `trail.version - 1`; else ConflictException. A
   * shared repository checks a trail turning multi-Region as `create` does.
   */
  update(trail: Trail): Promise<void>;
  delete(accountId: string, homeRegion: string, name: string): Promise<void>;
  /** Development reset: forget everything. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The ConflictException of `create` (the trail exists) and `update` (another write came first). */
export function trailConflict(trail: Trail, cause: "exists" | "modified"): CloudTrailError {
  return fail(
    "ConflictException",
    cause === "exists"
      ? `Trail ${trail.name} already exists in ${trail.homeRegion}.`
      : `Trail ${trail.name} was modified by another operation. Wait a few minutes, and then try the operation again.`,
  );
}

/**
 * Trail changes between the nodes that share one database (PostgreSQL: LISTEN/NOTIFY), so that
 * every node's compiled trails follow a change made on any of them.
 */
export interface TrailChangeFeed {
  /** Tells the other nodes that an account's trails changed (every account's when undefined). */
  announce(accountId?: string): Promise<void>;
  /**
   * Calls `listener` for every change another node announces from now on, and with undefined when
   * notices may have been missed (the connection was lost); resolves once listening.
   */
  listen(listener: (accountId?: string) => void): Promise<void>;
}
