// The pure parts of a chart card's axes and markers: the y range with outliers ignored (a spike
// 100× the curve, raw and smoothed), tick labels that tell ticks apart, log ticks on 1-2-5 of
// each decade, markers thinned to what can be told apart, the nearest marker taking a click, and
// the trainer's internal fields getting no card.
import { describe, expect, it } from 'vitest';
import { linearTickLabels, logTickLabel, logTicks } from '../../renderer/src/lib/axis-ticks';
import { orderBases } from '../../renderer/src/lib/chart-data';
import type uPlot from 'uplot';
import { type MarkerLayout, type MarkerSpots, layoutMarkers, nearestMarker, thinMarkers, thinning } from '../../renderer/src/lib/marker-hits';
import { type DrawnMarker, LAYOUT_CHUNK, canvasPosition, markerPlugin } from '../../renderer/src/lib/uplot-chart';
import { emaSmooth } from '../../renderer/src/lib/smoothing';
import { OUTLIER_SIGMAS, OUTLIER_WINDOW, flagsOf, outliers, yRange } from '../../renderer/src/lib/y-range';
import { alignColumns, alignedFrom } from '../../renderer/src/lib/downsample';

/** A loss curve falling from 2.3 to about 0.3, with one record 100× the curve at point 150. */
const spiky = Array.from({ length: 300 }, (_, i) => (2 / (1 + i / 30) + 0.15 + 0.02 * Math.sin(i)) * (i === 150 ? 100 : 1));

describe('outliers judged once per curve', () => {
  it('keeps the judgement of a curve aligned again beside another curve (a run arriving)', () => {
    const curve = { xs: Array.from({ length: 100 }, (_, i) => i), ys: Array.from({ length: 100 }, (_, i) => (i === 50 ? 100 : 1 + (i % 3) * 0.1)) };
    const [, alone] = alignColumns([curve]);
    const [, beside] = alignColumns([curve, { xs: [0.5, 10.5], ys: [1, 2] }]);
    const first = flagsOf(alone as (number | null)[], false);
    const again = flagsOf(beside as (number | null)[], false);
    expect(again.outlier).toBe(first.outlier);
    expect([...again.outlier].indexOf(1)).toBe(50);
    expect(again.at[50]).toBe(52);
    expect(yRange([beside as (number | null)[]], [], 0, 102, true, false)?.[1]).toBeLessThan(2);
  });
});

describe('the y range with outliers ignored', () => {
  it('judges outliers as a median of copied windows does (its windows are reused, not copied per point)', () => {
    const median = (values: number[]): number => {
      values.sort((a, b) => a - b);
      const mid = values.length >> 1;
      return values.length % 2 === 1 ? (values[mid] as number) : ((values[mid - 1] as number) + (values[mid] as number)) / 2;
    };
    const byCopies = (values: readonly number[]): boolean[] =>
      values.map((v, i) => {
        const from = Math.min(Math.max(0, i - OUTLIER_WINDOW), values.length - (2 * OUTLIER_WINDOW + 1));
        const window = values.slice(from, from + 2 * OUTLIER_WINDOW + 1);
        const m = median(window.slice());
        const spread = 1.4826 * median(window.map((w) => Math.abs(w - m)));
        return Math.abs(v - m) > OUTLIER_SIGMAS * spread && Math.abs(v - m) > 1e-12 * Math.max(1, Math.abs(m));
      });
    let seed = 7;
    const noisy = Array.from({ length: 2000 }, (_, i) => {
      seed = (seed * 16807) % 2147483647;
      return Math.exp(-i / 400) + (seed / 2147483647) * 0.1 * (i % 97 === 0 ? 500 : 1) + (i % 13 === 0 ? 0 : 1e-3);
    });
    for (const values of [spiky, noisy, noisy.map((v) => Math.round(v * 10) / 10)]) expect(outliers(values)).toEqual(byCopies(values));
  });

  it('over a whole curve in view, reads its kept extremes, not its every point again (a card ranges its y axis on every batch of runs)', () => {
    for (const ignore of [true, false])
      for (const log of [false, true]) {
        let reads = 0;
        const counted = (values: readonly (number | null)[]): (number | null)[] =>
          new Proxy([...values], {
            get(target, key, receiver) {
              if (typeof key === 'string' && /^\d+$/.test(key)) reads += 1;
              return Reflect.get(target, key, receiver) as unknown;
            },
          });
        const [, raw, smoothed] = alignColumns([
          { xs: spiky.map((_, i) => i), ys: spiky },
          { xs: spiky.map((_, i) => i + 0.5), ys: emaSmooth(spiky, 0.6).map((v) => v ?? NaN) },
        ]);
        const columns = [counted(raw as (number | null)[]), counted(smoothed as (number | null)[])] as const;
        const last = (raw as (number | null)[]).length - 1;
        const first = yRange([columns[0]], [columns[1]], 0, last, ignore, log);
        // The same range as a walk over the points gives (the plain arrays: nothing kept for them).
        expect(first).toEqual(yRange([[...(raw as (number | null)[])]], [[...(smoothed as (number | null)[])]], 0, last, ignore, log));
        reads = 0;
        expect(yRange([columns[0]], [columns[1]], 0, last, ignore, log)).toEqual(first);
        expect(reads).toBeLessThan(10);
        // A zoom still reads the points in its window.
        expect(yRange([columns[0]], [columns[1]], 100, 200, ignore, log)).toEqual(
          yRange([[...(raw as (number | null)[])]], [[...(smoothed as (number | null)[])]], 100, 200, ignore, log),
        );
      }
  });

  it('over a curve aligned again beside a new one, reads only its ends (a thousand curves are aligned anew when one of them changes)', () => {
    for (const ignore of [true, false])
      for (const log of [false, true]) {
        const curve = { xs: spiky.map((_, i) => i), ys: spiky };
        const [, alone] = alignColumns([curve]);
        const len = (alone as (number | null)[]).length;
        const first = yRange([alone as (number | null)[]], [], 0, len - 1, ignore, log);
        // Another run's points between this curve's: its column is a new, longer array of the same values.
        const [, beside] = alignColumns([curve, { xs: [0.5, 10.5, 200.5], ys: [1, 2, 3] }]);
        const plain = beside as (number | null)[];
        let reads = 0;
        const counted = new Proxy([...plain], {
          get(target, key, receiver) {
            if (typeof key === 'string' && /^\d+$/.test(key)) reads += 1;
            return Reflect.get(target, key, receiver) as unknown;
          },
        });
        alignedFrom.set(counted, alignedFrom.get(plain) as readonly number[]);
        expect(yRange([counted], [], 0, plain.length - 1, ignore, log)).toEqual(first);
        expect(reads).toBeLessThan(10);
        // Not wholly in view: its points in the window are read, and give what a walk over them gives.
        expect(yRange([counted], [], 100, 200, ignore, log)).toEqual(yRange([[...plain]], [], 100, 200, ignore, log));
      }
  });

  it('leaves a 100× spike out at smoothing 0 (the raw curve is the smoothed one)', () => {
    const [lo, hi] = yRange([], [spiky], 0, 299, true, false) ?? [0, 0];
    expect(hi).toBeLessThan(2.6);
    expect(hi).toBeGreaterThan(2.15); // the steep start stays in view
    expect(lo).toBeLessThan(0.3);
    expect(yRange([], [spiky], 0, 299, false, false)?.[1]).toBeGreaterThan(40);
  });

  it('leaves it out at smoothing 0.6, where the smoothed curve carries it for a few points', () => {
    const smoothed = emaSmooth(spiky, 0.6);
    const [, hi] = yRange([spiky], [smoothed], 0, 299, true, false) ?? [0, 0];
    expect(hi).toBeLessThan(2.6);
    expect(yRange([spiky], [smoothed], 0, 299, false, false)?.[1]).toBeGreaterThan(40);
  });

  it('fits what the zoom shows, and works on a log scale', () => {
    const [lo, hi] = yRange([], [spiky], 200, 299, true, false) ?? [0, 0];
    expect(hi).toBeLessThan(0.6);
    expect(lo).toBeGreaterThan(0.3);
    const [llo, lhi] = yRange([], [spiky.map((v, i) => (i === 10 ? v * 1e6 : v))], 0, 299, true, true) ?? [0, 0];
    expect(lhi).toBeLessThan(5);
    expect(llo).toBeGreaterThan(0.2);
  });

  it('keeps a curve without spikes whole, however steep its start', () => {
    const falling = Array.from({ length: 500 }, (_, i) => 10 * Math.exp(-i / 20));
    const [lo, hi] = yRange([], [falling], 0, 499, true, false) ?? [0, 0];
    expect(hi).toBeGreaterThanOrEqual(10);
    expect(lo).toBeLessThanOrEqual(0);
  });
});

describe('tick labels', () => {
  it('gives linear ticks the digits that tell them apart', () => {
    expect(linearTickLabels([0, 0.0005, 0.001, 0.0015])).toEqual(['0', '0.0005', '0.0010', '0.0015']);
    expect(linearTickLabels([0, 0.25, 0.5, 0.75])).toEqual(['0', '0.25', '0.50', '0.75']);
    expect(linearTickLabels([0.002, 0.004, 0.006])).toEqual(['0.002', '0.004', '0.006']);
    expect(linearTickLabels([0, 20_000, 40_000])).toEqual(['0', '20,000', '40,000']);
    expect(linearTickLabels([0.5, 1, 1.5, 2])).toEqual(['0.5', '1.0', '1.5', '2.0']);
    expect(new Set(linearTickLabels([0.001, 0.0012, 0.0014, 0.0016])).size).toBe(4);
  });

  it('puts log ticks on 1-2-5 of each decade, or on decades when those are too many', () => {
    expect(logTicks(0.5, 600)).toEqual([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500].filter((v, _i, a) => a.length <= 8 || [1, 10, 100].includes(v)));
    expect(logTicks(0.5, 600, 12)).toEqual([0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]);
    expect(logTicks(1e-6, 10)).toEqual([1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10]);
    expect(logTicks(1e-12, 1e6).length).toBeLessThanOrEqual(8);
    expect(logTicks(2.2, 2.9)).toEqual([]);
    expect(logTicks(1.5, 4.5)).toEqual([2, 3, 4]);
    expect([0.002, 0.05, 1, 20, 500, 2e-5, 1e7].map(logTickLabel)).toEqual(['0.002', '0.05', '1', '20', '500', '2e-5', '1e7']);
  });
});

/** Spots as the chart places them (NaN: out of view). */
function spotsOf(list: readonly ({ left: number; top: number; rank: number } | null)[]): MarkerSpots {
  return {
    left: Float64Array.from(list, (s) => s?.left ?? NaN),
    top: Float64Array.from(list, (s) => s?.top ?? NaN),
    rank: Uint8Array.from(list, (s) => s?.rank ?? 0),
  };
}

describe('checkpoint markers', () => {
  it('are thinned to what can be told apart, the ranked ones always drawn', () => {
    // 130 saves along 400 px of one curve: a string of beads.
    const beads = Array.from({ length: 130 }, (_, i) => ({ left: i * 3, top: 100, rank: i === 64 ? 4 : 0 }));
    const kept = thinMarkers(spotsOf(beads), 10);
    const drawn = [...kept].flatMap((k, i) => (k ? [i] : []));
    expect(drawn.length).toBeLessThanOrEqual(40);
    expect(drawn.length).toBeGreaterThanOrEqual(30);
    expect(kept[64]).toBe(1);
    expect(kept[63]).toBe(0);
    for (let a = 0; a < drawn.length; a += 1)
      for (let b = a + 1; b < drawn.length; b += 1)
        expect(Math.abs(beads[drawn[a] as number]!.left - beads[drawn[b] as number]!.left)).toBeGreaterThanOrEqual(10);
    expect([...thinMarkers(spotsOf([null, { left: 0, top: 0, rank: 0 }]), 10)]).toEqual([0, 1]);
  });

  it('are thinned as a plain look at every kept marker would thin them', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const list = Array.from({ length: 3000 }, (_, i) =>
      i % 97 === 0 ? null : { left: (i < 2000 ? 3 : 0) + random() * (i < 2000 ? 2 : 400), top: random() * 240, rank: i % 50 === 0 ? 4 : i % 31 === 0 ? 2 : 0 },
    );
    // Rank first, then as given; each kept unless a plain one closer than the gap to one kept before it.
    const order = list.flatMap((s, i) => (s ? [i] : [])).sort((a, b) => list[b]!.rank - list[a]!.rank || a - b);
    const expected = new Array<number>(list.length).fill(0);
    const keptSoFar: number[] = [];
    for (const i of order) {
      const s = list[i]!;
      if (s.rank === 0 && keptSoFar.some((j) => (list[j]!.left - s.left) ** 2 + (list[j]!.top - s.top) ** 2 < 18 * 18)) continue;
      expected[i] = 1;
      keptSoFar.push(i);
    }
    expect([...thinMarkers(spotsOf(list), 18)]).toEqual(expected);
  });

  it('are thinned a share at a time as they are all at once', () => {
    let seed = 11;
    const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const spots = spotsOf(
      Array.from({ length: 5000 }, (_, i) => (i % 89 === 0 ? null : { left: random() * 600, top: random() * 240, rank: i % 40 === 0 ? 2 : 0 })),
    );
    const job = thinning(spots, 18, 700);
    let steps = 0;
    while (!job.step()) steps += 1;
    // One step to set up, then 700 markers a step.
    expect(steps).toBe(Math.ceil((5000 - Math.ceil(5000 / 89)) / 700));
    expect([...job.kept]).toEqual([...thinMarkers(spots, 18)]);
  });

  it('are painted lowest rank first, so the ranked ones are on top', () => {
    const layout = layoutMarkers(spotsOf([{ left: 0, top: 0, rank: 4 }, { left: 100, top: 0, rank: 0 }, null, { left: 200, top: 0, rank: 2 }]), 10);
    expect([...layout.order]).toEqual([1, 3, 0]);
  });

  it('give a click to the nearest drawn one, not to the one listed last', () => {
    // "435, best" and 450 a few pixels apart, both drawn (two ranked markers).
    const spots = spotsOf([
      { left: 100, top: 50, rank: 4 },
      { left: 106, top: 52, rank: 2 },
    ]);
    const kept = Uint8Array.of(1, 1);
    expect(nearestMarker({ ...spots, drawn: kept }, 101, 50, 12)).toBe(0);
    expect(nearestMarker({ ...spots, drawn: kept }, 105, 52, 12)).toBe(1);
    expect(nearestMarker({ ...spots, drawn: kept }, 140, 50, 12)).toBe(-1);
    expect(nearestMarker({ ...spots, drawn: Uint8Array.of(0, 1) }, 100, 50, 12)).toBe(1);
  });

  it('are placed and thinned again only when the markers or the plot’s scales change, not on every drawing', () => {
    const markers: DrawnMarker[] = Array.from({ length: 50 }, (_, i) => ({
      x: i,
      y: i % 7,
      color: '#123',
      latest: false,
      best: false,
      warning: false,
      selected: false,
      active: false,
    }));
    let shown = markers;
    const layouts: MarkerLayout[] = [];
    const plugin = markerPlugin(
      () => [shown],
      { ring: '#fff', warn: '#f80', focus: '#fa0' },
      (layout) => layouts.push(layout),
    );
    const noop = (): void => undefined;
    const scales = { x: { min: 0, max: 49, distr: 1 }, y: { min: 0, max: 6, distr: 1 } };
    const u = {
      bbox: { left: 0, top: 0, width: 500, height: 200 },
      scales,
      valToPos: () => NaN,
      ctx: new Proxy({}, { get: () => noop, set: () => true }),
    } as unknown as uPlot;
    const draw = (): void => {
      for (const hook of [plugin.hooks.draw ?? []].flat()) hook?.(u);
    };
    draw();
    expect(layouts.length).toBe(1);
    expect(layouts[0]?.left[49]).toBeCloseTo(500 / devicePixelRatio);
    // Drawn again (a batch of curves, a synced cursor): the same layout, no marker placed again.
    draw();
    draw();
    expect(layouts.length).toBe(1);
    // Zoomed: placed anew.
    scales.x = { min: 10, max: 30, distr: 1 };
    draw();
    expect(layouts.length).toBe(2);
    expect(Number.isNaN(layouts[1]?.left[0] as number)).toBe(true);
    // New markers (a run arrived): placed anew.
    shown = [...markers];
    draw();
    expect(layouts.length).toBe(3);
  });

  it('are laid out in steps for a layer’s slices, and the paint after them places none again', () => {
    const count = 2 * LAYOUT_CHUNK + 500;
    const markers: DrawnMarker[] = Array.from({ length: count }, (_, i) => ({
      x: i % 1000,
      y: (i * 7) % 13,
      color: '#123',
      latest: false,
      best: i % 100 === 0,
      warning: false,
      selected: false,
      active: false,
    }));
    // A thousand runs' markers come one array per run: here 205 runs of 100.
    const groups = Array.from({ length: count / 100 }, (_, g) => markers.slice(100 * g, 100 * g + 100));
    const layouts: MarkerLayout[] = [];
    const plugin = markerPlugin(
      () => groups,
      { ring: '#fff', warn: '#f80', focus: '#fa0' },
      (layout) => layouts.push(layout),
      () => true,
    );
    const noop = (): void => undefined;
    const u = {
      bbox: { left: 0, top: 0, width: 600, height: 200 },
      scales: { x: { min: 0, max: 999, distr: 1 }, y: { min: 0, max: 12, distr: 1 } },
      valToPos: () => NaN,
    } as unknown as uPlot;
    const ctx = new Proxy({}, { get: () => noop, set: () => true }) as unknown as CanvasRenderingContext2D;
    const steps = plugin.paint.layoutSteps(u);
    // Three shares placed (whole runs, up to LAYOUT_CHUNK markers), four thinned (one to set up), one to finish: none holds every marker.
    expect(steps.length).toBe(3 + 4 + 1);
    for (const step of steps.slice(0, -1)) step();
    expect(layouts.length).toBe(0);
    steps.at(-1)?.();
    expect(layouts.length).toBe(1);
    const stepwise = layouts[0] as MarkerLayout;
    plugin.paint(u, ctx);
    expect(layouts.length).toBe(1);
    expect(plugin.paint.layoutSteps(u)).toEqual([]);
    // The same layout as placed at once.
    const whole: MarkerLayout[] = [];
    markerPlugin(
      () => [markers],
      { ring: '#fff', warn: '#f80', focus: '#fa0' },
      (layout) => whole.push(layout),
    ).paint(u, ctx);
    expect([...(whole[0] as MarkerLayout).drawn]).toEqual([...stepwise.drawn]);
    expect([...(whole[0] as MarkerLayout).order]).toEqual([...stepwise.order]);
  });

  it('are placed where uPlot would place them, on linear and log scales', () => {
    const asked: number[] = [];
    const u = {
      bbox: { left: 40, top: 10, width: 600, height: 300 },
      scales: { x: { min: 100, max: 300, distr: 1, dir: 1, ori: 0 }, y: { min: 0.01, max: 100, distr: 3, dir: 1, ori: 1 } },
      valToPos: (v: number) => {
        asked.push(v);
        return -1;
      },
    } as unknown as uPlot;
    const x = canvasPosition(u, 'x');
    const y = canvasPosition(u, 'y');
    expect([x(100), x(200), x(300)]).toEqual([40, 340, 640]);
    expect(y(0.01)).toBeCloseTo(310);
    expect(y(1)).toBeCloseTo(160);
    expect(y(100)).toBeCloseTo(10);
    // What a log scale cannot show is uPlot's to place.
    expect(y(0)).toBe(-1);
    expect(asked).toEqual([0]);
  });
});

describe('cards', () => {
  it('are made for metrics, not for the trainer’s internal fields', () => {
    expect(orderBases(['samplesPerSecond', 'meanLoss', 'lr', 'accuracy', 'meanAccuracy', 'loss'])).toEqual(['loss', 'accuracy', 'lr']);
  });
});
