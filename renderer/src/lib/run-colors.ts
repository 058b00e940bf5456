// A colour per run that reads on both themes: root runs take hues from a palette in the order
// they were made; a continued run takes its parent's hue turned a little, a clearly lighter shade
// per generation (siblings apart by a little more), so a branch reads as the same family at a
// glance and still apart from its parent where the two lines meet.
import type { RunRef } from './chart-data';

/** Hues spaced for telling runs apart, blue first (the app's accent). */
const HUES = [222, 24, 140, 325, 268, 183, 45, 0, 95, 200];
const MAX_DEPTH = 64;

export interface RunColor {
  readonly hue: number;
  readonly lightness: number;
  readonly saturation: number;
}

export function css(color: RunColor, alpha = 1): string {
  return `hsl(${color.hue} ${color.saturation}% ${color.lightness}% / ${alpha})`;
}

/** Colours for runs in creation order (parents before children). */
export function runColors(runs: readonly RunRef[], dark: boolean): Map<string, RunColor> {
  const colors = new Map<string, RunColor>();
  const childCount = new Map<string, number>();
  const known = new Set(runs.map((r) => r.name));
  let roots = 0;
  const base = dark ? 62 : 42;
  const saturation = dark ? 85 : 72;
  const colorOf = (name: string, depth: number): RunColor => {
    const done = colors.get(name);
    if (done) return done;
    const run = runs.find((r) => r.name === name);
    const parent = run?.parent?.run;
    let color: RunColor;
    if (parent && known.has(parent) && parent !== name && depth < MAX_DEPTH) {
      const of = colorOf(parent, depth + 1);
      const sibling = childCount.get(parent) ?? 0;
      childCount.set(parent, sibling + 1);
      const lightness = Math.min(dark ? 84 : 68, of.lightness + (dark ? 17 : 20) + 6 * sibling);
      color = { hue: (of.hue + 12 + 10 * sibling) % 360, saturation: of.saturation, lightness };
    } else {
      color = { hue: HUES[roots % HUES.length] as number, saturation, lightness: base };
      roots += 1;
    }
    colors.set(name, color);
    return color;
  };
  for (const run of runs) colorOf(run.name, 0);
  return colors;
}
