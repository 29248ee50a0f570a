/*
 * The detection rule of insights.md §6: per-minute counts of one series against the mean and
 * standard deviation of the minutes before, Start on the first anomalous minute, End after a run
 * of quiet minutes. Pure: the caller supplies counts, baselines and the minute being evaluated.
 */

export const MINUTE_MS = 60_000;

/** The knobs of insights.md §6.5. */
export interface InsightSettings {
  baselineMinutes: number;
  warmupMinutes: number;
  /** K: ratio to the baseline mean. */
  multiplier: number;
  /** N: standard deviations above the mean. */
  sigmas: number;
  floorCallRate: number;
  floorErrorRate: number;
  /** M: quiet minutes that end an Insights event. */
  endQuietMinutes: number;
  maxDurationMinutes: number;
  cooldownMinutes: number;
  graceSeconds: number;
  detectDrops: boolean;
}

export const DEFAULT_INSIGHT_SETTINGS: Readonly<InsightSettings> = {
  baselineMinutes: 10_080,
  warmupMinutes: 2_160,
  multiplier: 3,
  sigmas: 4,
  floorCallRate: 10,
  floorErrorRate: 5,
  endQuietMinutes: 5,
  maxDurationMinutes: 360,
  cooldownMinutes: 5,
  graceSeconds: 60,
  detectDrops: false,
};

export type InsightType = "ApiCallRateInsight" | "ApiErrorRateInsight";

/** The UTC minute (minutes since the epoch) a time falls in. */
export function minuteOf(time: Date | number): number {
  return Math.floor((typeof time === "number" ? time : time.getTime()) / MINUTE_MS);
}

/** The last minute that may be evaluated at `now`: minute m once now ≥ m + 1 min + grace. */
export function lastClosedMinute(now: Date, graceSeconds: number): number {
  return minuteOf(now.getTime() - graceSeconds * 1000) - 1;
}

/** Mean and population standard deviation of a window's per-minute counts. */
export interface Baseline {
  mean: number;
  sigma: number;
}

/** From the sum and the sum of squares of the counts over `minutes` minutes (absent minutes are 0). */
export function baselineOf(sum: number, sumOfSquares: number, minutes: number): Baseline {
  const mean = sum / minutes;
  const variance = Math.max(0, sumOfSquares / minutes - mean * mean);
  return { mean, sigma: Math.sqrt(variance) };
}

export function floorOf(type: InsightType, s: InsightSettings): number {
  return type === "ApiCallRateInsight" ? s.floorCallRate : s.floorErrorRate;
}

/** c ≥ F, c > K·μ and c > μ + N·σ. */
export function isRise(count: number, b: Baseline, floor: number, s: InsightSettings): boolean {
  return count >= floor && count > s.multiplier * b.mean && count > b.mean + s.sigmas * b.sigma;
}

/** c < μ / K with μ ≥ F. */
export function isDrop(count: number, b: Baseline, floor: number, s: InsightSettings): boolean {
  return b.mean >= floor && count < b.mean / s.multiplier;
}

/** An Insights event in progress. Minutes are epoch minutes. */
export interface ActiveInsight {
  direction: "rise" | "drop";
  startMinute: number;
  baseline: Baseline;
  /** The count of the start minute. */
  startCount: number;
  lastAnomalous: number;
  /** Σ c from the start minute through `lastAnomalous`. */
  sumThroughLast: number;
  /** Σ c from the start minute through the last evaluated minute. */
  sum: number;
}

/** What one series keeps between minutes. */
export interface SeriesState {
  active?: ActiveInsight;
  /** No new Start before this minute. */
  cooldownUntil?: number;
  /** Drops: the current run of dropping minutes (a drop needs M of them to start). */
  dropRun?: { startMinute: number; baseline: Baseline; counts: number[] };
}

export interface InsightStart {
  state: "Start";
  direction: "rise" | "drop";
  startMinute: number;
  count: number;
  baseline: Baseline;
}

export interface InsightEnd {
  state: "End";
  direction: "rise" | "drop";
  startMinute: number;
  /** d: last anomalous minute − start + 1. */
  duration: number;
  /** Σ c over the d minutes ÷ d. */
  average: number;
  baseline: Baseline;
}

export type InsightChange = InsightStart | InsightEnd;

/** Does evaluating `count` at `minute` need the baseline of that minute? */
export function needsBaseline(
  state: SeriesState,
  minute: number,
  count: number,
  type: InsightType,
  s: InsightSettings,
): boolean {
  if (state.active) return false;
  if (state.cooldownUntil !== undefined && minute < state.cooldownUntil) return false;
  return s.detectDrops || count >= floorOf(type, s);
}

function endOf(active: ActiveInsight): InsightEnd {
  const duration = active.lastAnomalous - active.startMinute + 1;
  return {
    state: "End",
    direction: active.direction,
    startMinute: active.startMinute,
    duration,
    average: active.sumThroughLast / duration,
    baseline: active.baseline,
  };
}

/** Ends an active Insights event now (StopLogging, selector removed, trail deleted). */
export function forceEnd(state: SeriesState): { state: SeriesState; changes: InsightChange[] } {
  if (!state.active) return { state: {}, changes: [] };
  return { state: {}, changes: [endOf(state.active)] };
}

function ended(active: ActiveInsight, s: InsightSettings): { state: SeriesState; changes: InsightChange[] } {
  const end = endOf(active);
  return {
    state: { cooldownUntil: end.startMinute + end.duration + s.cooldownMinutes },
    changes: [end],
  };
}

function continueActive(
  active: ActiveInsight,
  minute: number,
  count: number,
  floor: number,
  s: InsightSettings,
): { state: SeriesState; changes: InsightChange[] } {
  const anomalous =
    active.direction === "rise"
      ? isRise(count, active.baseline, floor, s)
      : isDrop(count, active.baseline, floor, s);
  const sum = active.sum + count;
  const next: ActiveInsight = anomalous
    ? { ...active, sum, lastAnomalous: minute, sumThroughLast: sum }
    : { ...active, sum };
  if (minute - next.lastAnomalous >= s.endQuietMinutes) return ended(next, s);
  if (minute - next.startMinute + 1 >= s.maxDurationMinutes) return ended(next, s);
  return { state: { active: next }, changes: [] };
}

function started(
  direction: "rise" | "drop",
  startMinute: number,
  counts: readonly number[],
  baseline: Baseline,
): ActiveInsight {
  const sum = counts.reduce((a, b) => a + b, 0);
  return {
    direction,
    startMinute,
    baseline,
    startCount: counts[0]!,
    lastAnomalous: startMinute + counts.length - 1,
    sumThroughLast: sum,
    sum,
  };
}

/**
 * One evaluated minute of one series. `baseline` is the window before `minute`, given when
 * needsBaseline says so; `canStart` is false during the warm-up.
 */
export function stepSeries(
  state: SeriesState,
  minute: number,
  count: number,
  baseline: Baseline | undefined,
  canStart: boolean,
  type: InsightType,
  s: InsightSettings,
): { state: SeriesState; changes: InsightChange[] } {
  const floor = floorOf(type, s);
  if (state.active) return continueActive(state.active, minute, count, floor, s);
  const cooling = state.cooldownUntil !== undefined && minute < state.cooldownUntil;
  const rest: SeriesState = cooling ? { cooldownUntil: state.cooldownUntil } : {};
  if (cooling || !canStart || baseline === undefined) return { state: rest, changes: [] };
  if (isRise(count, baseline, floor, s)) {
    const active = started("rise", minute, [count], baseline);
    return {
      state: { active },
      changes: [{ state: "Start", direction: "rise", startMinute: minute, count, baseline }],
    };
  }
  if (!s.detectDrops) return { state: rest, changes: [] };
  const run = state.dropRun;
  if (run && run.startMinute + run.counts.length === minute && isDrop(count, run.baseline, floor, s)) {
    const counts = [...run.counts, count];
    if (counts.length < s.endQuietMinutes) return { state: { dropRun: { ...run, counts } }, changes: [] };
    const active = started("drop", run.startMinute, counts, run.baseline);
    const start: InsightStart = {
      state: "Start",
      direction: "drop",
      startMinute: run.startMinute,
      count: counts[0]!,
      baseline: run.baseline,
    };
    return { state: { active }, changes: [start] };
  }
  if (isDrop(count, baseline, floor, s)) {
    if (s.endQuietMinutes <= 1) {
      const active = started("drop", minute, [count], baseline);
      return {
        state: { active },
        changes: [{ state: "Start", direction: "drop", startMinute: minute, count, baseline }],
      };
    }
    return { state: { dropRun: { startMinute: minute, baseline, counts: [count] } }, changes: [] };
  }
  return { state: rest, changes: [] };
}
