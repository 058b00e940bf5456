// The pure parts of a card's tools: its data as CSV, JSON and TSV (every run on the card, raw and
// smoothed, names that need quoting), the tooltip's rows (the nearest few, sorted as asked) and
// where the tooltip goes (outside the card, on screen), and the stored view's card settings.
import { describe, expect, it } from 'vitest';
import { type Smoother, type Trace, TraceCache, buildTraces } from '../../renderer/src/lib/chart-data';
import type { RunSeries } from '../../renderer/src/lib/metric-series';
import { emaSmooth } from '../../renderer/src/lib/smoothing';
import { cardCsv, cardJson, cardTsv, exportFileName } from '../../renderer/src/lib/card-export';
import { placeTooltip, tooltipRows } from '../../renderer/src/lib/card-tooltip';
import { DEFAULT_VIEW, parseView } from '../../renderer/src/lib/chart-view';
import { bucketEdges, decimate, envelope } from '../../renderer/src/lib/downsample';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);

function trace(run: string, kind: 'train' | 'validation', steps: number[], values: (number | null)[], smoothed: (number | null)[]): Trace {
  return { run, kind, xs: steps, steps, times: steps.map((s) => T0 + s * 1000), relative: steps.map(() => null), values, smoothed };
}

const card = {
  metric: 'loss',
  smoothing: 0.6,
  smoothingMode: 'points',
  traces: [trace('alpha', 'train', [1, 2], [2, 1], [2, 1.4]), trace('be,"ta"', 'validation', [2], [NaN], [null])],
};

describe('a card as data', () => {
  it('is CSV with every run, raw and smoothed, quoted where it must be', () => {
    expect(cardCsv(card).split('\r\n')).toEqual([
      'run,kind,step,wall_time,value,smoothed',
      'alpha,train,1,2026-01-02T03:04:06.000Z,2,2',
      'alpha,train,2,2026-01-02T03:04:07.000Z,1,1.4',
      '"be,""ta""",validation,2,2026-01-02T03:04:07.000Z,,',
      '',
    ]);
  });

  it('is JSON, one object per curve, with the smoothing it was drawn with', () => {
    const parsed = JSON.parse(cardJson(card)) as { metric: string; smoothing: unknown; curves: { run: string; values: unknown[]; smoothed: unknown[] }[] };
    expect(parsed.metric).toBe('loss');
    expect(parsed.smoothing).toEqual({ weight: 0.6, mode: 'points' });
    expect(parsed.curves.map((c) => c.run)).toEqual(['alpha', 'be,"ta"']);
    expect(parsed.curves[0]).toMatchObject({ kind: 'train', steps: [1, 2], values: [2, 1], smoothed: [2, 1.4] });
    expect(parsed.curves[1]).toMatchObject({ values: [null], smoothed: [null] });
  });

  it('is a tab-separated table for the clipboard, and a file name a file system takes', () => {
    const tsv = cardTsv({ ...card, traces: [trace('a\tb', 'train', [3], [0.5], [0.5])] });
    expect(tsv).toBe('run\tkind\tstep\twall_time\tvalue\tsmoothed\na b\ttrain\t3\t2026-01-02T03:04:08.000Z\t0.5\t0.5\n');
    expect(exportFileName('eval/top-1 acc', 'csv')).toBe('eval_top-1_acc.csv');
    expect(exportFileName('..', 'json')).toBe('metric.json');
  });
});

describe('the tooltip', () => {
  const rows = Array.from({ length: 121 }, (_, i) => ({ key: `run${i}`, run: `run${String(i).padStart(3, '0')}`, kind: 'train', smoothed: i / 10 }));

  it('lists the nearest few rows to the cursor, the nearest named', () => {
    const { rows: shown, nearest, hidden } = tooltipRows(rows, 5.02, 'nearest', false, 8);
    expect(shown.map((r) => r.smoothed)).toEqual([5, 5.1, 4.9, 5.2, 4.8, 5.3, 4.7, 5.4]);
    expect(nearest).toBe('run50');
    expect(hidden).toBe(113);
  });

  it('sorts them by value or by name, and measures on a log scale when the axis is one', () => {
    expect(tooltipRows(rows, 5.02, 'value', false, 3).rows.map((r) => r.smoothed)).toEqual([5.1, 5, 4.9]);
    expect(tooltipRows(rows, 5.02, 'name', false, 3).rows.map((r) => r.run)).toEqual(['run049', 'run050', 'run051']);
    const two = [
      { key: 'a', run: 'a', kind: 'train', smoothed: 1 },
      { key: 'b', run: 'b', kind: 'train', smoothed: 10 },
    ];
    // 4 is nearer 1 than 10 on a line, nearer 10 on a log scale.
    expect(tooltipRows(two, 4, 'nearest', false).nearest).toBe('a');
    expect(tooltipRows(two, 4, 'nearest', true).nearest).toBe('b');
    expect(tooltipRows(two, null, 'nearest', false).nearest).toBeNull();
  });

  it('goes beside the card, not over it, and stays on screen', () => {
    const viewport = { width: 1400, height: 860 };
    const tip = { width: 300, height: 200 };
    // A card on the left: to its right, level with the cursor.
    expect(placeTooltip({ left: 300, top: 100, right: 800, bottom: 400 }, tip, viewport, { x: 500, y: 200 })).toEqual({ left: 808, top: 100 });
    // On the right: to its left.
    expect(placeTooltip({ left: 850, top: 100, right: 1380, bottom: 400 }, tip, viewport, { x: 900, y: 200 })).toEqual({ left: 542, top: 100 });
    // Full width: below, never past the screen's edge.
    expect(placeTooltip({ left: 10, top: 100, right: 1390, bottom: 400 }, tip, viewport, { x: 1380, y: 200 })).toEqual({ left: 1092, top: 408 });
    // Full width at the bottom of the screen: above.
    expect(placeTooltip({ left: 10, top: 500, right: 1390, bottom: 850 }, tip, viewport, { x: 100, y: 600 })).toEqual({ left: 8, top: 292 });
    // A cursor at the bottom edge: the tooltip is still whole on screen.
    const low = placeTooltip({ left: 300, top: 500, right: 800, bottom: 850 }, tip, viewport, { x: 500, y: 845 });
    expect(low.top + tip.height).toBeLessThanOrEqual(viewport.height);
  });
});

describe('the stored card settings', () => {
  it('take what is valid and default the rest', () => {
    const view = parseView({ pinned: ['loss'], expanded: 'loss', cardLogY: { lr: true }, cardWidth: 500, tagFilter: '^val', tooltipSort: 'value' });
    expect(view).toMatchObject({
      pinned: ['loss'],
      expanded: [],
      cardLogY: { lr: true },
      cardWidth: DEFAULT_VIEW.cardWidth,
      tagFilter: '^val',
      tooltipSort: 'value',
    });
    expect(parseView({ smoothing: 0.999 }).smoothing).toBe(0.999);
  });
});

describe('the raw min/max band', () => {
  it('is the lowest and highest raw value of each bucket, on the xs decimate draws the curve at', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((x) => (x === 500 ? null : Math.sin(x) + x / 100));
    const edges = bucketEdges(0, 999, null, 10);
    const { lo, hi } = envelope({ xs, ys }, edges);
    expect(lo.xs).toEqual(hi.xs);
    expect(lo.xs).toEqual(decimate({ xs, ys }, edges).xs);
    expect(lo.xs.length).toBe(20);
    const first = ys.slice(0, 100) as number[];
    expect(lo.ys[0]).toBe(Math.min(...first));
    expect(hi.ys[1]).toBe(Math.max(...first));
    // Every raw value lies inside its bucket's band.
    xs.forEach((x, i) => {
      const y = ys[i];
      if (y === null || y === undefined) return;
      const b = Math.min(9, Math.floor(x / 99.9));
      expect(y).toBeGreaterThanOrEqual(lo.ys[2 * b] as number);
      expect(y).toBeLessThanOrEqual(hi.ys[2 * b] as number);
    });
    // A bucket of one or two points keeps them.
    expect(envelope({ xs: [5, 6], ys: [2, 3] }, [0, 10])).toEqual({ lo: { xs: [5, 6], ys: [2, 3] }, hi: { xs: [5, 6], ys: [2, 3] } });
  });
});

describe('smoothing elsewhere (the worker)', () => {
  it('draws the raw values while it is pending, builds again when it answers, and caches only then', () => {
    const steps = Array.from({ length: 50 }, (_, i) => i + 1);
    const history: RunSeries = {
      train: { steps, times: steps.map((s) => T0 + s), columns: { loss: steps.map((s) => 1 / s + (s % 2) * 0.1) } },
      validation: { steps: [], times: [], columns: {} },
    };
    const refs = new Map([['a', { name: 'a', parent: null }]]);
    const histories = new Map([['a', history]]);
    const options = { xAxis: 'step' as const, smoothing: 0.6, smoothingMode: 'points' as const, unit: 1 };
    let answer: (number | null)[] | null = null;
    const asked: string[] = [];
    const smoother: Smoother = {
      smooth: (_own, _lineage, key, request) => {
        asked.push(key);
        return answer ?? (request.values.length > 0 ? null : []);
      },
    };
    const cache = new TraceCache();
    const [pending] = buildTraces('loss', ['a'], refs, histories, options, cache, smoother);
    expect(pending?.pending).toBe(true);
    expect(pending?.smoothed).toEqual(pending?.values);
    answer = emaSmooth(history.train.columns['loss'] as number[], 0.6);
    const [done] = buildTraces('loss', ['a'], refs, histories, options, cache, smoother);
    expect(done?.pending).toBeUndefined();
    expect(done?.smoothed).toEqual(answer);
    const [again] = buildTraces('loss', ['a'], refs, histories, options, cache, smoother);
    expect(again).toBe(done);
    expect(asked).toHaveLength(2);
  });
});
