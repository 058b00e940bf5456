// The columns a chart draws: one step axis shared by a train and a validation curve (uPlot wants
// aligned columns), null where a curve has no point at that step, and the checkpoint steps that
// fall inside what is drawn.
import type { Series } from './metric-series';

export type Aligned = [steps: number[], train: (number | null)[], validation: (number | null)[]];

export function alignSeries(train: Series, trainKey: string, validation: Series, validationKey: string): Aligned {
  const a = train.steps;
  const b = validation.steps;
  const av = train.columns[trainKey] ?? [];
  const bv = validation.columns[validationKey] ?? [];
  const steps: number[] = [];
  const left: (number | null)[] = [];
  const right: (number | null)[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const sa = i < a.length ? (a[i] as number) : Infinity;
    const sb = j < b.length ? (b[j] as number) : Infinity;
    const step = Math.min(sa, sb);
    steps.push(step);
    left.push(sa === step ? (av[i++] ?? null) : null);
    right.push(sb === step ? (bv[j++] ?? null) : null);
  }
  return [steps, left, right];
}

/** True when a curve has at least one value to draw. */
export function hasValues(column: readonly (number | null)[]): boolean {
  return column.some((v) => v !== null);
}
