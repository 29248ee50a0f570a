import type { Trail } from "../../domain/trail.ts";

/**
 * A trail as both SQL backends store it: the key and the version as columns (lookups and the
 * optimistic lock need them), everything else as one JSON document, so that a new trail setting
 * needs no migration.
 */
export interface TrailRow {
  account_id: string;
  home_region: string;
  name: string;
  version: number;
  doc: string;
}

type DateKey = { [K in keyof Trail]-?: NonNullable<Trail[K]> extends Date ? K : never }[keyof Trail];

/** Every Date member of Trail; a Date member added to Trail and not listed here fails to compile. */
const DATE_KEYS: Record<DateKey, true> = { startLoggingTime: true, stopLoggingTime: true, createdAt: true };

type ColumnKey = "accountId" | "homeRegion" | "name" | "version";

export function toTrailRow(trail: Trail): TrailRow {
  const { accountId, homeRegion, name, version, ...rest } = trail;
  // JSON.stringify writes Dates as ISO strings and drops undefined members, so optional
  // members stay absent rather than becoming null.
  return { account_id: accountId, home_region: homeRegion, name, version, doc: JSON.stringify(rest) };
}

export function fromTrailRow(row: TrailRow): Trail {
  const doc = JSON.parse(row.doc) as Record<string, unknown>;
  for (const key of Object.keys(DATE_KEYS)) {
    const value = doc[key];
    if (typeof value === "string") doc[key] = new Date(value);
  }
  const rest = doc as unknown as Omit<Trail, ColumnKey>;
  return {
    accountId: row.account_id,
    homeRegion: row.home_region,
    name: row.name,
    version: row.version,
    ...rest,
  };
}
