import type { Logger } from "pino";
import {
  type AttributeLists,
  type AttributeName,
  attributions,
  type InsightSeries,
  insightRecord,
  topLists,
} from "../domain/insights/record.ts";
import {
  type Baseline,
  baselineOf,
  forceEnd,
  type InsightChange,
  type InsightSettings,
  type InsightType,
  lastClosedMinute,
  MINUTE_MS,
  minuteOf,
  needsBaseline,
  stepSeries,
} from "../domain/insights/rule.ts";
import { toStoredEvent } from "../domain/records/stored.ts";
import { isJsonObject, textField } from "../domain/records/text.ts";
import { compileSelectors, logsManagementEvents, trailCoversRecord } from "../domain/selectors.ts";
import { type Trail, trailDestination } from "../domain/trail.ts";
import type {
  Clock,
  DeliveryStore,
  EventStore,
  InsightCount,
  InsightCountKind,
  InsightLane,
  InsightSeriesEntry,
  InsightStore,
  PendingInsightRecord,
  StoredEvent,
} from "../ports/index.ts";
import { type LeaseOptions, underLease, type WorkLeases, workLeases } from "./leases.ts";
import { forcedPasses } from "./loop.ts";

/*
 * Insights (insights.md §6): each pass evaluates the minutes that closed since the last pass, for
 * every (trail, region, insight type) whose trail is logging and meets the type's prerequisite,
 * and turns the rule's Starts and Ends into records. A pass first writes its decisions (lanes and
 * records) in one transaction, then appends the records; the records' eventIDs are derived from
 * the detection, so a crash anywhere in between neither loses nor doubles one.
 *
 * The lanes are evaluated together (a pass ends the lanes no trail wants any more), so nodes
 * sharing the stores take turns by one lease: the node holding it runs the pass, and a pass
 * writes its decisions only while it still holds the lease. A node that lost it (it stalled past
 * the lease, and another node took over) writes nothing; its successor starts from the lanes as
 * last saved, and an Insights event it decides on again has the same eventID, stored once.
 */

export interface InsightsOptions {
  store: InsightStore;
  events: EventStore;
  deliveries: Pick<DeliveryStore, "destinationFor">;
  listTrails: () => Promise<Trail[]>;
  clock: Clock;
  log: Logger;
  /** The regions a multi-Region trail covers. */
  regions: readonly string[];
  settings: InsightSettings;
  /** How often the worker looks for closed minutes (default 5 s). */
  tickMs?: number;
  /** Minutes one lane evaluates per pass at most; a lane far behind catches up over passes. */
  maxMinutesPerPass?: number;
  /** Other nodes on the same stores: the node holding the lease runs the passes. */
  lease?: LeaseOptions;
}

type Deps = Required<Omit<InsightsOptions, "lease">> & { leases: WorkLeases };

/** The one lease of the Insights passes. */
const INSIGHTS_LEASE = "insights";

const INSIGHT_TYPES: readonly InsightType[] = ["ApiCallRateInsight", "ApiErrorRateInsight"];
const LOOKUP_PAGE = 1000;

/** A lane the trails ask for now: the trail logs, has the selector and meets its prerequisite. */
interface WantedLane {
  trail: Trail;
  region: string;
  type: InsightType;
  /** Does the trail log management calls of this API with this readOnly value in this region? */
  selects: (eventSource: string, eventName: string, readOnly: boolean) => boolean;
}

const laneKey = (l: { trailArn: string; region: string; insightType: string }) =>
  `${l.trailArn}\u0000${l.region}\u0000${l.insightType}`;

const kindOf = (type: InsightType): InsightCountKind => (type === "ApiCallRateInsight" ? "write" : "error");

function seriesKey(
  type: InsightType,
  c: Pick<InsightCount, "eventSource" | "eventName" | "errorCode">,
): string {
  return JSON.stringify(
    type === "ApiCallRateInsight" ? [c.eventSource, c.eventName] : [c.eventSource, c.eventName, c.errorCode],
  );
}

function seriesOf(
  type: InsightType,
  c: Pick<InsightCount, "eventSource" | "eventName" | "errorCode">,
): InsightSeries {
  return type === "ApiCallRateInsight"
    ? { eventSource: c.eventSource, eventName: c.eventName }
    : { eventSource: c.eventSource, eventName: c.eventName, errorCode: c.errorCode };
}

/** The trail's own selectors and coverage, asked of a management record of the API. */
function selectorCheck(trail: Trail, region: string): WantedLane["selects"] {
  const compiled = compileSelectors(trail.eventSelectors);
  const memo = new Map<string, boolean>();
  return (eventSource, eventName, readOnly) => {
    const key = `${eventSource}\u0000${eventName}\u0000${readOnly}`;
    let hit = memo.get(key);
    if (hit === undefined) {
      const record = {
        eventVersion: "1.08",
        eventSource,
        eventName,
        awsRegion: region,
        readOnly,
        eventType: "AwsApiCall",
        managementEvent: true,
        eventCategory: "Management",
      };
      hit = trailCoversRecord(trail, record) && compiled(record);
      memo.set(key, hit);
    }
    return hit;
  };
}

function meetsPrerequisite(trail: Trail, type: InsightType): boolean {
  return type === "ApiCallRateInsight"
    ? logsManagementEvents(trail.eventSelectors, false)
    : logsManagementEvents(trail.eventSelectors);
}

function wantedLanes(deps: Deps, trails: readonly Trail[]): WantedLane[] {
  const out: WantedLane[] = [];
  for (const trail of trails) {
    if (!trail.isLogging) continue;
    const regions = trail.isMultiRegionTrail ? deps.regions : [trail.homeRegion];
    for (const sel of trail.insightSelectors) {
      const type = INSIGHT_TYPES.find((t) => t === sel.InsightType);
      // Insights on data events are not analysed yet
      if (!type || !(sel.EventCategories ?? ["Management"]).includes("Management")) continue;
      if (!meetsPrerequisite(trail, type)) continue;
      for (const region of regions) out.push({ trail, region, type, selects: selectorCheck(trail, region) });
    }
  }
  return out;
}

/** Sums the counts the trail selects, per minute and series. */
function perMinute(w: WantedLane, counts: readonly InsightCount[]): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const c of counts) {
    if (!w.selects(c.eventSource, c.eventName, c.readOnly)) continue;
    let minute = out.get(c.minute);
    if (!minute) {
      minute = new Map();
      out.set(c.minute, minute);
    }
    const key = seriesKey(w.type, c);
    minute.set(key, (minute.get(key) ?? 0) + c.calls);
  }
  return out;
}

/** The baselines at `minute` of the given series (every series of the window when undefined). */
async function baselines(
  deps: Deps,
  w: WantedLane,
  minute: number,
  series: readonly InsightSeries[] | undefined,
): Promise<Map<string, Baseline>> {
  const window = deps.settings.baselineMinutes;
  const counts = await deps.store.counts(
    w.trail.accountId,
    w.region,
    kindOf(w.type),
    minute - window,
    minute - 1,
    series,
  );
  const sums = new Map<string, { sum: number; squares: number }>();
  for (const perSeries of perMinute(w, counts).values()) {
    for (const [key, c] of perSeries) {
      const s = sums.get(key) ?? { sum: 0, squares: 0 };
      s.sum += c;
      s.squares += c * c;
      sums.set(key, s);
    }
  }
  const out = new Map<string, Baseline>();
  for (const [key, s] of sums) out.set(key, baselineOf(s.sum, s.squares, window));
  return out;
}

const ATTRIBUTE_OF: Record<AttributeName, (record: Record<string, unknown>) => string | undefined> = {
  userIdentityArn: (r) => (isJsonObject(r.userIdentity) ? textField(r.userIdentity.arn) : undefined),
  userAgent: (r) => textField(r.userAgent),
  errorCode: (r) => textField(r.errorCode) ?? "null",
};

/** Counts of each attribute's values among the series' records of minutes [from, to]. */
async function attributeCounts(
  deps: Deps,
  w: WantedLane,
  series: InsightSeries,
  from: number,
  to: number,
): Promise<Partial<Record<AttributeName, Map<string, number>>>> {
  const counts: Partial<Record<AttributeName, Map<string, number>>> = {};
  const names = Object.keys(ATTRIBUTE_OF) as AttributeName[];
  let after: { eventTime: Date; eventId: string } | undefined;
  for (;;) {
    const page: StoredEvent[] = await deps.events.lookup({
      accountId: w.trail.accountId,
      region: w.region,
      category: "Management",
      attribute: { key: "EventName", value: series.eventName },
      start: new Date(from * MINUTE_MS),
      end: new Date((to + 1) * MINUTE_MS - 1),
      limit: LOOKUP_PAGE,
      ...(after ? { after } : {}),
    });
    for (const ev of page) {
      if (ev.eventSource !== series.eventSource) continue;
      const readOnly = ev.readOnly !== false;
      if (w.type === "ApiCallRateInsight" && readOnly) continue;
      if (!w.selects(series.eventSource, series.eventName, readOnly)) continue;
      const record = JSON.parse(ev.json) as Record<string, unknown>;
      if (w.type === "ApiErrorRateInsight" && textField(record.errorCode) !== series.errorCode) continue;
      for (const name of names) {
        const value = ATTRIBUTE_OF[name](record);
        if (value === undefined) continue;
        const m = counts[name] ?? new Map<string, number>();
        m.set(value, (m.get(value) ?? 0) + 1);
        counts[name] = m;
      }
    }
    if (page.length < LOOKUP_PAGE) return counts;
    const last = page[page.length - 1]!;
    after = { eventTime: last.eventTime, eventId: last.eventId };
  }
}

/** The record of a change, with its attributions; a Start's baseline attributions are kept for its End. */
async function recordOf(
  deps: Deps,
  w: WantedLane,
  entry: InsightSeriesEntry,
  change: InsightChange,
): Promise<Record<string, unknown>> {
  const window = deps.settings.baselineMinutes;
  const span = change.state === "Start" ? 1 : change.duration;
  const insight = topLists(
    await attributeCounts(deps, w, entry.series, change.startMinute, change.startMinute + span - 1),
    span,
  );
  if (change.state === "Start" || !entry.baselineAttributions) {
    entry.baselineAttributions = topLists(
      await attributeCounts(deps, w, entry.series, change.startMinute - window, change.startMinute - 1),
      window,
    );
  }
  return insightRecord({
    accountId: w.trail.accountId,
    region: w.region,
    type: w.type,
    series: entry.series,
    change,
    baselineMinutes: window,
    attributions: attributions(insight, entry.baselineAttributions as AttributeLists, w.type),
  });
}

const isIdle = (e: InsightSeriesEntry) =>
  e.state.active === undefined && e.state.dropRun === undefined && e.state.cooldownUntil === undefined;

/** Evaluates the lane's closed minutes; records go to `out`. */
async function evaluateLane(
  deps: Deps,
  w: WantedLane,
  lane: InsightLane,
  lastMinute: number,
  out: PendingInsightRecord[],
): Promise<void> {
  const s = deps.settings;
  const end = Math.min(lastMinute, lane.nextMinute + deps.maxMinutesPerPass - 1);
  if (end < lane.nextMinute) return;
  const minutes = perMinute(
    w,
    await deps.store.counts(lane.accountId, lane.region, kindOf(w.type), lane.nextMinute, end),
  );
  const entries = new Map(lane.series.map((e) => [seriesKey(w.type, { errorCode: "", ...e.series }), e]));
  const firstStart = minuteOf(lane.enabledAt) + s.warmupMinutes;
  for (let m = lane.nextMinute; m <= end; m++) {
    const counts = minutes.get(m) ?? new Map<string, number>();
    const keys = new Set([...counts.keys(), ...entries.keys()]);
    const entryOf = (key: string): InsightSeriesEntry => {
      let e = entries.get(key);
      if (!e) {
        const [eventSource, eventName, errorCode] = JSON.parse(key) as string[];
        e = {
          series: seriesOf(w.type, {
            eventSource: eventSource!,
            eventName: eventName!,
            errorCode: errorCode ?? "",
          }),
          state: {},
        };
      }
      return e;
    };
    const need = [...keys].filter((k) => needsBaseline(entryOf(k).state, m, counts.get(k) ?? 0, w.type, s));
    let window = new Map<string, Baseline>();
    if (need.length > 0 && m >= firstStart) {
      window = await baselines(deps, w, m, s.detectDrops ? undefined : need.map((k) => entryOf(k).series));
      for (const k of window.keys()) keys.add(k);
      // a series without calls in the window has a baseline of zero
      for (const k of need) if (!window.has(k)) window.set(k, baselineOf(0, 0, s.baselineMinutes));
    }
    for (const key of keys) {
      const entry = entryOf(key);
      const step = stepSeries(
        entry.state,
        m,
        counts.get(key) ?? 0,
        window.get(key),
        m >= firstStart,
        w.type,
        s,
      );
      entry.state = step.state;
      for (const change of step.changes) {
        out.push({
          accountId: lane.accountId,
          json: JSON.stringify(await recordOf(deps, w, entry, change)),
          destinations: [lane.destinationId],
        });
      }
      if (step.state.cooldownUntil !== undefined && step.state.cooldownUntil <= m + 1)
        delete entry.state.cooldownUntil;
      if (entry.state.active === undefined) delete entry.baselineAttributions;
      if (isIdle(entry)) entries.delete(key);
      else entries.set(key, entry);
    }
  }
  lane.series = [...entries.values()];
  lane.nextMinute = end + 1;
}

/**
 * Ends the lane's active Insights events now (StopLogging, selector removed, trail deleted). A
 * lane whose trail is gone counts every record of its series in the End's attributions.
 */
async function endLane(
  deps: Deps,
  w: WantedLane | undefined,
  lane: InsightLane,
  out: PendingInsightRecord[],
) {
  const wanted: WantedLane = w ?? {
    trail: { accountId: lane.accountId } as Trail,
    region: lane.region,
    type: lane.insightType as InsightType,
    selects: () => true,
  };
  for (const entry of lane.series) {
    for (const change of forceEnd(entry.state).changes) {
      const record = await recordOf(deps, wanted, entry, change);
      out.push({
        accountId: lane.accountId,
        json: JSON.stringify(record),
        destinations: [lane.destinationId],
      });
    }
  }
}

/** One record per eventID: a detection two trails share is stored once and goes to both. */
function merged(records: readonly PendingInsightRecord[]): PendingInsightRecord[] {
  const byId = new Map<string, PendingInsightRecord>();
  for (const r of records) {
    const id = `${r.accountId}\u0000${(JSON.parse(r.json) as { eventID: string }).eventID}`;
    const seen = byId.get(id);
    if (seen) seen.destinations = [...new Set([...seen.destinations, ...r.destinations])];
    else byId.set(id, { ...r, destinations: [...r.destinations] });
  }
  return [...byId.values()];
}

/** Appends the queued records (again, after a crash: their eventIDs make that harmless). */
async function appendPending(deps: Deps): Promise<void> {
  const pending = await deps.store.pending();
  if (pending.length === 0) return;
  const stored = pending.map((p) => ({
    ...toStoredEvent(JSON.parse(p.json) as Record<string, unknown>, p.accountId, p.json),
    destinations: p.destinations,
  }));
  const { inserted } = await deps.events.append(stored, deps.clock.now());
  await deps.store.appended(pending.map((p) => p.id!));
  deps.log.info({ records: pending.length, inserted }, "recorded Insights events");
}

function newLane(w: WantedLane, destinationId: number, now: Date): InsightLane {
  return {
    trailArn: w.trail.arn,
    region: w.region,
    insightType: w.type,
    accountId: w.trail.accountId,
    destinationId,
    enabledAt: now.getTime(),
    nextMinute: minuteOf(now),
    series: [],
  };
}

async function insightsPass(deps: Deps): Promise<void> {
  await appendPending(deps);
  const now = deps.clock.now();
  const lastMinute = lastClosedMinute(now, deps.settings.graceSeconds);
  const saved = new Map((await deps.store.lanes()).map((l) => [laneKey(l), l]));
  const lanes: InsightLane[] = [];
  const records: PendingInsightRecord[] = [];
  for (const w of wantedLanes(deps, await deps.listTrails())) {
    const key = laneKey({ trailArn: w.trail.arn, region: w.region, insightType: w.type });
    const destinationId = await deps.deliveries.destinationFor({
      ...trailDestination(w.trail),
      kind: "CloudTrail-Insight",
    });
    let lane = saved.get(key);
    saved.delete(key);
    const restarted = lane !== undefined && (w.trail.startLoggingTime?.getTime() ?? 0) > lane.enabledAt;
    if (lane && restarted) {
      // logging stopped and started again between two passes: the warm-up starts over
      await endLane(deps, w, lane, records);
      lane = undefined;
    }
    const before = lane ? JSON.stringify(lane) : undefined;
    lane ??= newLane(w, destinationId, now);
    lane.destinationId = destinationId;
    await evaluateLane(deps, w, lane, lastMinute, records);
    if (JSON.stringify(lane) !== before) lanes.push(lane);
  }
  const removed = [...saved.values()];
  for (const lane of removed) await endLane(deps, undefined, lane, records);
  if (lanes.length === 0 && removed.length === 0 && records.length === 0) return;
  if (!(await deps.leases.keep(INSIGHTS_LEASE))) {
    deps.log.warn("the Insights lease was lost during a pass: another node evaluates the lanes");
    return;
  }
  await deps.store.save(lanes, removed, merged(records));
  await appendPending(deps);
}

/**
 * The Insights worker: `runOnce` evaluates the minutes closed by now, `drain` the same (there is
 * nothing to force: a minute is evaluated once it has closed and its grace has passed). Either
 * does nothing while another node holds the Insights lease.
 */
export function createInsightsWorker(opts: InsightsOptions) {
  const { lease, ...rest } = opts;
  const deps: Deps = { tickMs: 5000, maxMinutesPerPass: 60, ...rest, leases: workLeases(lease, opts.clock) };
  const passes = forcedPasses(
    async (force) => {
      await underLease(deps.leases, INSIGHTS_LEASE, async () => {
        // a forced pass catches a lane up however far behind it is
        for (let i = 0; i < (force ? 1000 : 1); i++) {
          if (i > 0 && !(await deps.leases.keep(INSIGHTS_LEASE))) return;
          const before = deps.clock.now();
          await insightsPass(deps);
          if (!force || (await caughtUp(deps, before))) return;
        }
      });
    },
    deps.tickMs,
    deps.log,
    "insights pass",
  );
  return { runOnce: passes.runOnce, drain: passes.drain, start: passes.start };
}

async function caughtUp(deps: Deps, now: Date): Promise<boolean> {
  const last = lastClosedMinute(now, deps.settings.graceSeconds);
  return (await deps.store.lanes()).every((l) => l.nextMinute > last);
}

export type InsightsWorker = ReturnType<typeof createInsightsWorker>;
