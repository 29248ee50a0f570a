import { loggingAt } from "../domain/log-files.ts";
import { compileSelectors, type SelectorRecord, trailCoversRecord } from "../domain/selectors.ts";
import { type Trail, trailDestination } from "../domain/trail.ts";
import type { DeliveryStore, TrailRepo } from "../ports/index.ts";
import type { TrailChanges } from "./trail-changes.ts";

/** The delivery destinations that select a record; undefined for none. */
export type Route = (
  accountId: string,
  record: Record<string, unknown>,
  eventTime: Date,
  /** The time is the exact time of the service's own call, not a record's whole second. */
  exact?: boolean,
) => Promise<number[] | undefined>;

interface RoutedTrail {
  trail: Trail;
  selects: (record: SelectorRecord) => boolean;
  destinationId: number;
}

/**
 * Which trails' destinations a record goes to: the trail was logging at the record's time,
 * covers its region, and its selectors select it. Trails are compiled once per account and
 * recompiled after any change to that account's trails.
 */
export function createRouter(trails: TrailRepo, deliveries: DeliveryStore) {
  const byAccount = new Map<string, Promise<RoutedTrail[]>>();

  async function compile(accountId: string): Promise<RoutedTrail[]> {
    const out: RoutedTrail[] = [];
    for (const trail of await trails.list(accountId)) {
      if (!trail.loggingPeriods?.length) continue;
      out.push({
        trail,
        selects: compileSelectors(trail.eventSelectors),
        destinationId: await destinationOf(trail),
      });
    }
    return out;
  }

  function destinationOf(trail: Trail): Promise<number> {
    return deliveries.destinationFor(trailDestination(trail));
  }

  function routed(accountId: string): Promise<RoutedTrail[]> {
    let entry = byAccount.get(accountId);
    if (!entry) {
      entry = compile(accountId);
      byAccount.set(accountId, entry);
      entry.catch(() => byAccount.delete(accountId));
    }
    return entry;
  }

  const router = {
    /** Forget the compiled trails of an account (after a trail of it changed); of every account when undefined. */
    invalidate(accountId?: string): void {
      if (accountId === undefined) byAccount.clear();
      else byAccount.delete(accountId);
    },
    destinationOf,
    async route(
      accountId: string,
      record: SelectorRecord,
      eventTime: Date,
      exact = false,
    ): Promise<number[] | undefined> {
      const hits: number[] = [];
      for (const r of await routed(accountId)) {
        if (
          loggingAt(r.trail.loggingPeriods ?? [], eventTime, exact) &&
          trailCoversRecord(r.trail, record) &&
          r.selects(record)
        ) {
          hits.push(r.destinationId);
        }
      }
      return hits.length > 0 ? hits : undefined;
    },
  };
  return router;
}

export type Router = ReturnType<typeof createRouter>;

/**
 * The service's TrailRepo: each account's trails are read once and kept until a change to them,
 * made here (which this announces, for the routers and the other nodes) or heard from another
 * node. DescribeTrails, GetTrailStatus and the other reads then cost no query. A read that began
 * before a change is answered but not kept, since the change drops whatever was kept when it is
 * heard; writes always go to the repository, whose versions refuse a write based on a stale read.
 */
export function routedTrailRepo(
  repo: TrailRepo,
  changes: Pick<TrailChanges, "changed" | "subscribe">,
): TrailRepo {
  const byAccount = new Map<string, Promise<Trail[]>>();
  changes.subscribe((accountId) => {
    if (accountId === undefined) byAccount.clear();
    else byAccount.delete(accountId);
  });
  function listed(accountId: string): Promise<Trail[]> {
    let entry = byAccount.get(accountId);
    if (!entry) {
      entry = repo.list(accountId);
      byAccount.set(accountId, entry);
      entry.catch(() => {
        if (byAccount.get(accountId) === entry) byAccount.delete(accountId);
      });
    }
    return entry;
  }
  /** A refused write may rest on a stale read (another node's change not heard yet): read afresh next time. */
  async function refreshedOnFailure(accountId: string, write: Promise<void>): Promise<void> {
    try {
      await write;
    } catch (e) {
      byAccount.delete(accountId);
      throw e;
    }
  }
  const onChange = changes.changed;
  return {
    // a copy: callers may filter and sort what they get
    list: async (a) => (await listed(a)).slice(),
    listAll: () => repo.listAll(),
    get: async (a, r, n) => (await listed(a)).find((t) => t.homeRegion === r && t.name === n),
    create: async (t) => {
      await refreshedOnFailure(t.accountId, repo.create(t));
      onChange(t.accountId);
    },
    update: async (t) => {
      await refreshedOnFailure(t.accountId, repo.update(t));
      onChange(t.accountId);
    },
    delete: async (a, r, n) => {
      await repo.delete(a, r, n);
      onChange(a);
    },
    reset: async () => {
      await repo.reset();
      byAccount.clear();
    },
    close: () => repo.close(),
  };
}
