// A group of runs (the Runs table grouped by a configuration key) as one curve per metric: at each
// step any member logged, the mean of the members whose logged range covers it, each member read
// at that step by linear interpolation between its neighbouring points (runs logged at different
// steps still average point for point). Around the mean, a band from the lowest to the highest
// member at each step: W&B's grouped line plots offer min/max, standard deviation or standard
// error, and min/max is the one that holds with the two to five seeds a group usually has (a
// standard deviation of two runs is hardly an estimate, of one none) and that says plainly that
// every member lies inside it; it is also what the cards' raw min/max band shows for one run.
// The band rides beside the columns (`spread`), not among them, so no card charts it as a metric.
import { EMPTY_SERIES, type RunSeries, type Series, type SeriesKind } from './metric-series';

/** Steps kept per group curve, however many members and points: a mean of runs need not be finer than a chart can show. */
export const MAX_GROUP_POINTS = 4000;

/** The members' lowest and highest value of each metric, at each step of the group's series (null where none covers it). */
export type Spread = Readonly<Record<string, { readonly lo: readonly (number | null)[]; readonly hi: readonly (number | null)[] }>>;

export interface GroupSeries extends RunSeries {
  readonly spread: { readonly train: Spread; readonly validation: Spread };
}

export function groupMeanSeries(members: readonly RunSeries[]): GroupSeries {
  const train = meanSeries(members.map((m) => m.train));
  const validation = meanSeries(members.map((m) => m.validation));
  return { train: train.series, validation: validation.series, spread: { train: train.spread, validation: validation.spread } };
}

export function isGroupSeries(history: RunSeries | undefined): history is GroupSeries {
  return history !== undefined && 'spread' in history;
}

/**
 * A group curve's band at the points a card draws (`steps`, a subset of the series' own, in
 * order): its lowest and highest member at each, or null for a history that is not a group's.
 */
export function groupBand(
  history: RunSeries | undefined,
  kind: SeriesKind,
  key: string,
  steps: readonly number[],
): { lo: (number | null)[]; hi: (number | null)[] } | null {
  if (!isGroupSeries(history)) return null;
  const spread = history.spread[kind][key];
  if (spread === undefined) return null;
  const own = history[kind].steps;
  const lo: (number | null)[] = [];
  const hi: (number | null)[] = [];
  let at = 0;
  for (const step of steps) {
    while (at < own.length && (own[at] as number) < step) at += 1;
    const found = own[at] === step;
    lo.push(found ? (spread.lo[at] ?? null) : null);
    hi.push(found ? (spread.hi[at] ?? null) : null);
  }
  return { lo, hi };
}

function meanSeries(all: readonly Series[]): { series: Series; spread: Spread } {
  const members = all.filter((s) => s.steps.length > 0);
  if (members.length === 0) return { series: EMPTY_SERIES, spread: {} };
  const steps = unionOfSteps(members);
  const names = new Set<string>();
  for (const member of members) for (const name of Object.keys(member.columns)) names.add(name);
  const columns: Record<string, (number | null)[]> = {};
  const spread: Record<string, { lo: (number | null)[]; hi: (number | null)[] }> = {};
  for (const name of names) {
    const mean: (number | null)[] = [];
    const lo: (number | null)[] = [];
    const hi: (number | null)[] = [];
    for (const step of steps) {
      let sum = 0;
      let count = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const member of members) {
        const value = valueAt(member, name, step);
        if (value === null) continue;
        sum += value;
        count += 1;
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      mean.push(count === 0 ? null : sum / count);
      lo.push(count === 0 ? null : min);
      hi.push(count === 0 ? null : max);
    }
    columns[name] = mean;
    spread[name] = { lo, hi };
  }
  // A mean of runs made at different times has no one wall time.
  return { series: { steps, times: steps.map(() => null), columns }, spread };
}

function unionOfSteps(members: readonly Series[]): number[] {
  const all = new Set<number>();
  for (const member of members) for (const step of member.steps) all.add(step);
  const sorted = [...all].sort((a, b) => a - b);
  if (sorted.length <= MAX_GROUP_POINTS) return sorted;
  const stride = sorted.length / MAX_GROUP_POINTS;
  const kept: number[] = [];
  for (let i = 0; i < MAX_GROUP_POINTS; i += 1) kept.push(sorted[Math.floor(i * stride)] as number);
  kept[kept.length - 1] = sorted.at(-1) as number;
  return kept;
}

/** The member's value at a step: its own point, or interpolated between the points around it; null outside its range or where it logged none. */
function valueAt(series: Series, name: string, step: number): number | null {
  const column = series.columns[name];
  if (!column) return null;
  const { steps } = series;
  let lo = 0;
  let hi = steps.length - 1;
  if (step < (steps[0] as number) || step > (steps[hi] as number)) return null;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((steps[mid] as number) < step) lo = mid + 1;
    else hi = mid;
  }
  const at = steps[lo] as number;
  const here = column[lo] ?? null;
  if (at === step) return here;
  const before = column[lo - 1] ?? null;
  if (here === null || before === null) return null;
  const from = steps[lo - 1] as number;
  return before + ((here - before) * (step - from)) / (at - from);
}
