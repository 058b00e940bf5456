// A group of runs (the Runs table grouped by a configuration key) as one curve per metric: at each
// step any member logged, the mean of the members whose logged range covers it, each member read
// at that step by linear interpolation between its neighbouring points (runs logged at different
// steps still average point for point). No band yet: the cards draw none (a band's min/max would
// be two more columns here, once a card reads them rather than charting them as metrics).
import { EMPTY_SERIES, type RunSeries, type Series } from './metric-series';

/** Steps kept per group curve, however many members and points: a mean of runs need not be finer than a chart can show. */
export const MAX_GROUP_POINTS = 4000;

export function groupMeanSeries(members: readonly RunSeries[]): RunSeries {
  return { train: meanSeries(members.map((m) => m.train)), validation: meanSeries(members.map((m) => m.validation)) };
}

function meanSeries(all: readonly Series[]): Series {
  const members = all.filter((s) => s.steps.length > 0);
  if (members.length === 0) return EMPTY_SERIES;
  const steps = unionOfSteps(members);
  const names = new Set<string>();
  for (const member of members) for (const name of Object.keys(member.columns)) names.add(name);
  const columns: Record<string, (number | null)[]> = {};
  for (const name of names) {
    const mean: (number | null)[] = [];
    for (const step of steps) {
      let sum = 0;
      let count = 0;
      for (const member of members) {
        const value = valueAt(member, name, step);
        if (value === null) continue;
        sum += value;
        count += 1;
      }
      mean.push(count === 0 ? null : sum / count);
    }
    columns[name] = mean;
  }
  // A mean of runs made at different times has no one wall time.
  return { steps, times: steps.map(() => null), columns };
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
