// A colour per run that reads on both themes, chosen so that related runs look related and every
// run can still be told apart:
// - Root runs (not continued from another run of the workspace) take hues a golden angle (137.5°)
//   apart, in the order they were made: any run's neighbours in time get far hues, and a hue never
//   comes back exactly however many runs there are. Every third root also steps its lightness, so
//   the roots whose hues do fall near each other (the 8th after any one) differ in shade too.
// - A continued run keeps its parent's family: the parent's hue turned by a sibling offset that
//   alternates sides and widens (+28°, −28°, +56°, −56°, the parent's own hue, +84°), each in its
//   own lighter shade (darker near the end of the scale). Tried over the first 20 root hues on
//   both themes, any two of a parent's first six branches are at least ΔE 14 apart and each at
//   least ΔE 11 from its parent (the old scheme turned siblings 10° and 6% apart: ΔE 6, the same
//   colour at a glance), while all stay within 84° of their family's hue.
import type { RunRef } from './chart-data';

const GOLDEN_ANGLE = 137.508;
const FIRST_HUE = 222;
const MAX_DEPTH = 64;
/** Lightness steps of roots, by their order modulo 3. */
const ROOT_TIERS = [0, 9, -8];
/** A branch's turn from its parent's hue and its lightness step, by its order among its siblings (then again, darker). */
const BRANCHES: readonly { readonly turn: number; readonly lighter: number }[] = [
  { turn: 28, lighter: 8 },
  { turn: -28, lighter: 8 },
  { turn: 56, lighter: 16 },
  { turn: -56, lighter: 16 },
  { turn: 0, lighter: 22 },
  { turn: 84, lighter: 4 },
];
const REPEAT_DARKER = 12;

export interface RunColor {
  readonly hue: number;
  readonly lightness: number;
  readonly saturation: number;
}

export function css(color: RunColor, alpha = 1): string {
  return `hsl(${color.hue.toFixed(1)} ${color.saturation}% ${color.lightness}% / ${alpha})`;
}

interface Scale {
  readonly base: number;
  readonly min: number;
  readonly max: number;
  readonly saturation: number;
}

const LIGHT: Scale = { base: 44, min: 28, max: 66, saturation: 72 };
const DARK: Scale = { base: 62, min: 44, max: 82, saturation: 80 };

function branchColor(parent: RunColor, sibling: number, scale: Scale): RunColor {
  const { turn, lighter } = BRANCHES[sibling % BRANCHES.length] as (typeof BRANCHES)[number];
  const step = lighter - REPEAT_DARKER * Math.floor(sibling / BRANCHES.length);
  const up = parent.lightness + step;
  const lightness = Math.max(scale.min, Math.min(scale.max, up > scale.max ? parent.lightness - step : up));
  return { hue: (parent.hue + turn + 360) % 360, saturation: parent.saturation, lightness };
}

/** Colours for runs in creation order (parents before children). */
export function runColors(runs: readonly RunRef[], dark: boolean): Map<string, RunColor> {
  const scale = dark ? DARK : LIGHT;
  const colors = new Map<string, RunColor>();
  const childCount = new Map<string, number>();
  const byName = new Map(runs.map((r) => [r.name, r]));
  let roots = 0;
  const colorOf = (name: string, depth: number): RunColor => {
    const done = colors.get(name);
    if (done) return done;
    const parent = byName.get(name)?.parent?.run;
    let color: RunColor;
    if (parent !== undefined && byName.has(parent) && parent !== name && depth < MAX_DEPTH) {
      const of = colorOf(parent, depth + 1);
      const sibling = childCount.get(parent) ?? 0;
      childCount.set(parent, sibling + 1);
      color = branchColor(of, sibling, scale);
    } else {
      const tier = ROOT_TIERS[roots % ROOT_TIERS.length] as number;
      color = { hue: (FIRST_HUE + GOLDEN_ANGLE * roots) % 360, saturation: scale.saturation, lightness: scale.base + tier };
      roots += 1;
    }
    colors.set(name, color);
    return color;
  };
  for (const run of runs) colorOf(run.name, 0);
  return colors;
}
