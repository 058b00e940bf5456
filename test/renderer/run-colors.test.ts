// Run colours: a parent's branches clearly apart from each other yet of its family, unrelated runs
// apart, on both themes. Distances are CIE76 ΔE in Lab (about 2.3 is the least a person notices;
// runs on one chart need far more).
import { describe, expect, it } from 'vitest';
import type { RunRef } from '../../renderer/src/lib/chart-data';
import { type RunColor, runColors } from '../../renderer/src/lib/run-colors';

function lab({ hue, saturation, lightness }: RunColor): [number, number, number] {
  const s = saturation / 100;
  const l = lightness / 100;
  const k = (n: number): number => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const channel = (n: number): number => {
    const v = l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [channel(0), channel(8), channel(4)];
  const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t) / 116 + 16 / 116);
  const [fx, fy, fz] = xyz.map(f) as [number, number, number];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const distance = (a: RunColor, b: RunColor): number => Math.hypot(...lab(a).map((v, i) => v - (lab(b)[i] as number)));
const hueGap = (a: RunColor, b: RunColor): number => Math.min(Math.abs(a.hue - b.hue), 360 - Math.abs(a.hue - b.hue));
const root = (name: string): RunRef => ({ name, parent: null });
const branch = (name: string, parent: string): RunRef => ({ name, parent: { run: parent, step: 100 } });

describe('run colours', () => {
  for (const dark of [false, true]) {
    const theme = dark ? 'dark' : 'light';

    it(`keep a parent's branches clearly apart, and near the parent's hue (${theme})`, () => {
      const runs = [root('base'), ...['b1', 'b2', 'b3', 'b4', 'b5'].map((n) => branch(n, 'base'))];
      const colors = runColors(runs, dark);
      const branches = ['b1', 'b2', 'b3', 'b4', 'b5'].map((n) => colors.get(n) as RunColor);
      for (let i = 0; i < branches.length; i += 1)
        for (let j = i + 1; j < branches.length; j += 1) expect(distance(branches[i] as RunColor, branches[j] as RunColor)).toBeGreaterThan(12);
      for (const b of branches) {
        expect(hueGap(b, colors.get('base') as RunColor)).toBeLessThanOrEqual(84);
        expect(distance(b, colors.get('base') as RunColor)).toBeGreaterThan(10);
      }
    });

    it(`give the first dozen unrelated runs colours apart from each other (${theme})`, () => {
      const runs = Array.from({ length: 12 }, (_, i) => root(`r${i}`));
      const colors = [...runColors(runs, dark).values()];
      for (let i = 0; i < colors.length; i += 1)
        for (let j = i + 1; j < colors.length; j += 1) expect(distance(colors[i] as RunColor, colors[j] as RunColor), `r${i} and r${j}`).toBeGreaterThan(10);
    });

    it(`never give two of 120 unrelated runs the very same colour (${theme})`, () => {
      const runs = Array.from({ length: 120 }, (_, i) => root(`r${i}`));
      const keys = [...runColors(runs, dark).values()].map((c) => `${c.hue.toFixed(1)} ${c.lightness}`);
      expect(new Set(keys).size).toBe(120);
    });
  }
});
