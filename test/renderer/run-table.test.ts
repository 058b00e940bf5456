// The runs' logic apart from the page: lineage order (each continued run under the parent its
// run.json names), each run's entry (final and best of the chosen metric from the catalog and the
// core's marks; weights-only imports told apart), the Runs table's sorting, filtering and grouping,
// the kept table view validated field by field, and the configuration diff from a parent.
import { describe, expect, it } from 'vitest';
import { MAX_GROUP_POINTS, groupBand, groupMeanSeries } from '../../renderer/src/lib/group-series';
import { buildLanes } from '../../renderer/src/lib/lanes';
import { EMPTY_SERIES, type RunSeries } from '../../renderer/src/lib/metric-series';
import { configDiff, flattenConfig } from '../../renderer/src/lib/run-config';
import { runEntries } from '../../renderer/src/lib/run-entries';
import {
  CONFIG_COLUMN,
  DEFAULT_TABLE_VIEW,
  NO_VALUE,
  type TableRow,
  configKeys,
  groupRows,
  parseTableView,
  rowFilter,
  sortRows,
} from '../../renderer/src/lib/run-table';
import { lineageOrder } from '../../renderer/src/lib/run-tree';
import type { TrainingStatus } from '../../renderer/src/lib/contract';
import { checkpoint, run } from './fakes';

const IDLE = { state: 'idle' } as unknown as TrainingStatus;

describe('lineage order', () => {
  it('puts each continued run under its own parent, whatever was made between them', () => {
    // As the issue found them: alpha-live made after gamma, baseline-from-120 after banknote-estimator.
    const order = lineageOrder([
      { name: 'alpha', parent: null },
      { name: 'beta', parent: null },
      { name: 'gamma', parent: null },
      { name: 'alpha-live', parent: 'alpha' },
      { name: 'baseline', parent: null },
      { name: 'banknote-estimator', parent: null },
      { name: 'baseline-from-120', parent: 'baseline' },
      { name: 'alpha-live-2', parent: 'alpha-live' },
    ]);
    expect(order.map((n) => `${n.name}:${n.depth}`)).toEqual([
      'alpha:0',
      'alpha-live:1',
      'alpha-live-2:2',
      'beta:0',
      'gamma:0',
      'baseline:0',
      'baseline-from-120:1',
      'banknote-estimator:0',
    ]);
  });

  it('starts a tree at a run whose parent is not listed, and lists a cycle of parents flat, once each', () => {
    const order = lineageOrder([
      { name: 'orphan', parent: 'deleted' },
      { name: 'a', parent: 'b' },
      { name: 'b', parent: 'a' },
      { name: 'self', parent: 'self' },
    ]);
    expect(order.map((n) => n.name).sort()).toEqual(['a', 'b', 'orphan', 'self']);
    expect(order.find((n) => n.name === 'orphan')).toEqual({ name: 'orphan', parent: 'deleted', depth: 0 });
    expect(order.find((n) => n.name === 'self')?.depth).toBe(0);
  });

  it('goes deep without recursion', () => {
    const chain = Array.from({ length: 20_000 }, (_, i) => ({ name: `r${i}`, parent: i === 0 ? null : `r${i - 1}` }));
    const order = lineageOrder(chain);
    expect(order.at(-1)).toEqual({ name: 'r19999', parent: 'r19998', depth: 19_999 });
  });
});

describe('run entries', () => {
  const runs = [run('alpha'), run('beta', { createdAt: '2026-01-01T00:01:00.000Z' }), run('imported', { createdAt: '2026-01-01T00:02:00.000Z' })];
  const checkpoints = [
    checkpoint('alpha', 1, { metrics: { loss: 0.5 } }),
    checkpoint('alpha', 2, { metrics: { loss: 0.2 } }),
    checkpoint('alpha', 3, { metrics: { loss: 0.4 } }),
    checkpoint('beta', 5, { metrics: { loss: 0.3 } }),
    checkpoint('beta', 6, { metrics: { loss: 0.35 } }),
    checkpoint('imported', 0, { metrics: {}, origin: 'imported' }),
  ];
  const lanes = buildLanes(runs, checkpoints);
  // As api.marks answers for loss (min): the workspace's best, and each run's own.
  const marks = {
    'alpha/ckpt-000000002': ['best loss', 'best(alpha) loss'],
    'alpha/ckpt-000000003': ['latest(alpha)'],
    'beta/ckpt-000000005': ['best(beta) loss'],
    'beta/ckpt-000000006': ['latest(beta)'],
    'imported/ckpt-000000000': ['latest', 'latest(imported)'],
  };

  it("gives each run its own best (the core's best(<run>) mark), its final value, and the workspace's best to one run", () => {
    const entries = runEntries({ lanes, marks, metric: 'loss', training: IDLE });
    const alpha = entries.find((e) => e.name === 'alpha');
    const beta = entries.find((e) => e.name === 'beta');
    expect(alpha).toMatchObject({ best: { value: 0.2, step: 2 }, final: { value: 0.4, step: 3 }, workspaceBest: true, checkpoints: 3, bytes: 3000 });
    expect(beta).toMatchObject({ best: { value: 0.3, step: 5 }, final: { value: 0.35, step: 6 }, workspaceBest: false });
    expect(alpha?.durationMs).toBe(30);
  });

  it('tells weights imported without any metric apart from runs with something to chart', () => {
    const entries = runEntries({ lanes, marks, metric: 'loss', training: IDLE });
    expect(entries.filter((e) => e.weightsOnly).map((e) => e.name)).toEqual(['imported']);
  });

  it('has no final or best without a chosen metric', () => {
    const entries = runEntries({ lanes, marks: {}, metric: null, training: IDLE });
    expect(entries.every((e) => e.best === null && e.final === null)).toBe(true);
  });
});

describe('the Runs table', () => {
  const entries = runEntries({
    lanes: buildLanes(
      [run('a'), run('b', { createdAt: '2026-01-01T00:01:00.000Z' }), run('c', { createdAt: '2026-01-01T00:02:00.000Z' })],
      [checkpoint('a', 1), checkpoint('a', 2), checkpoint('b', 1), checkpoint('c', 1), checkpoint('c', 2), checkpoint('c', 3)],
    ),
    marks: {},
    metric: 'loss',
    training: IDLE,
  });
  const configs: Record<string, Record<string, unknown>> = {
    a: { lr: 0.01, optimizer: { name: 'adam' }, batch: 32 },
    b: { lr: 0.1, optimizer: { name: 'sgd' } },
    c: { lr: 0.001, optimizer: { name: 'adam' }, batch: 64 },
  };
  const rows: TableRow[] = entries.map((entry) => ({ entry, config: flattenConfig(configs[entry.name] as never) }));
  const names = (list: readonly TableRow[]): string[] => list.map((r) => r.entry.name);

  it('sorts by a fixed column or a configuration key, either way; runs without a value go last', () => {
    expect(names(sortRows(rows, { column: 'checkpoints', descending: true }))).toEqual(['c', 'a', 'b']);
    expect(names(sortRows(rows, { column: 'checkpoints', descending: false }))).toEqual(['b', 'a', 'c']);
    expect(names(sortRows(rows, { column: `${CONFIG_COLUMN}lr`, descending: false }))).toEqual(['c', 'a', 'b']);
    expect(names(sortRows(rows, { column: `${CONFIG_COLUMN}batch`, descending: true }))).toEqual(['c', 'a', 'b']);
    expect(names(sortRows(rows, { column: `${CONFIG_COLUMN}batch`, descending: false }))).toEqual(['a', 'c', 'b']);
    expect(names(sortRows(rows, null))).toEqual(['a', 'b', 'c']);
  });

  it('sorts names as a person reads numbers in them', () => {
    const named = ['run-10', 'run-9', 'run-100'].map((name) => ({ entry: { ...(entries[0] as TableRow['entry']), name }, config: null }));
    expect(names(sortRows(named, { column: 'name', descending: false }))).toEqual(['run-9', 'run-10', 'run-100']);
  });

  it('filters by name (a regular expression, or text when it is not one) and by configuration values', () => {
    expect(names(rows.filter(rowFilter('^[ab]$').test))).toEqual(['a', 'b']);
    expect(names(rows.filter(rowFilter('optimizer.name=adam').test))).toEqual(['a', 'c']);
    expect(names(rows.filter(rowFilter('optimizer.name=adam batch:64').test))).toEqual(['c']);
    expect(names(rows.filter(rowFilter('lr=/^0\\.0/').test))).toEqual(['a', 'c']);
    const invalid = rowFilter('a(');
    expect(invalid.invalid).toBe(true);
    expect(names(rows.filter(invalid.test))).toEqual([]);
    expect(rowFilter('').test(rows[0] as TableRow)).toBe(true);
  });

  it('groups by a configuration key, runs without it in a group of their own', () => {
    expect(groupRows(rows, 'optimizer.name')).toEqual([
      { label: 'adam', runs: ['a', 'c'] },
      { label: 'sgd', runs: ['b'] },
    ]);
    expect(groupRows(rows, 'batch')).toEqual([
      { label: '32', runs: ['a'] },
      { label: NO_VALUE, runs: ['b'] },
      { label: '64', runs: ['c'] },
    ]);
  });

  it('offers the configuration keys most runs have first', () => {
    expect(configKeys(rows.map((r) => r.config))).toEqual(['lr', 'optimizer.name', 'batch']);
  });

  it('keeps what is valid of a stored view, field by field', () => {
    expect(parseTableView(null)).toEqual(DEFAULT_TABLE_VIEW);
    expect(parseTableView({ columns: ['status', 'config:lr'], sort: { column: 'size', descending: 'yes' }, filter: 7, groupBy: 'lr' })).toEqual({
      ...DEFAULT_TABLE_VIEW,
      columns: ['status', 'config:lr'],
      groupBy: 'lr',
    });
  });
});

describe("a continued run's configuration diff", () => {
  it('lists keys added, removed and changed, nested keys by their dotted path', () => {
    const parent = flattenConfig({ lr: 0.01, batch: 32, optimizer: { name: 'adam', beta1: 0.9 }, layers: [64, 32] });
    const child = flattenConfig({ lr: 0.005, optimizer: { name: 'adam', beta1: 0.95 }, layers: [64, 32], warmup: 10 });
    expect(configDiff(parent, child)).toEqual([
      { key: 'batch', kind: 'removed', from: 32 },
      { key: 'lr', kind: 'changed', from: 0.01, to: 0.005 },
      { key: 'optimizer.beta1', kind: 'changed', from: 0.9, to: 0.95 },
      { key: 'warmup', kind: 'added', to: 10 },
    ]);
    expect(configDiff(parent, parent)).toEqual([]);
  });
});

describe("a group's mean curve", () => {
  const series = (steps: number[], loss: (number | null)[]): RunSeries => ({
    train: { steps, times: steps.map(() => null), columns: { loss } },
    validation: EMPTY_SERIES,
  });

  it('averages the members at every step any logged, interpolating those logged elsewhere, within each one’s range', () => {
    const mean = groupMeanSeries([series([0, 10, 20], [1, 0.5, 0.3]), series([5, 15], [0.8, 0.4])]);
    expect(mean.train.steps).toEqual([0, 5, 10, 15, 20]);
    const loss = mean.train.columns.loss as number[];
    // Step 0 and 20: only the first member's range covers them.
    expect(loss[0]).toBe(1);
    expect(loss[4]).toBeCloseTo(0.3, 12);
    expect(loss[1]).toBeCloseTo((0.75 + 0.8) / 2, 12);
    expect(loss[2]).toBeCloseTo((0.5 + 0.6) / 2, 12);
    expect(loss[3]).toBeCloseTo((0.4 + 0.4) / 2, 12);
    expect(mean.validation).toEqual(EMPTY_SERIES);
  });

  it('skips a member where it logged nothing, and stays within MAX_GROUP_POINTS', () => {
    const mean = groupMeanSeries([series([0, 1], [2, null]), series([0, 1], [4, 6])]);
    expect(mean.train.columns.loss).toEqual([3, 6]);
    const long = Array.from({ length: 10_000 }, (_, i) => i);
    const big = groupMeanSeries([
      series(
        long,
        long.map(() => 1),
      ),
    ]);
    expect(big.train.steps).toHaveLength(MAX_GROUP_POINTS);
    expect(big.train.steps.at(-1)).toBe(9_999);
  });

  it('bands the mean from the lowest to the highest member at each step, interpolated as the mean is', () => {
    const mean = groupMeanSeries([series([0, 10, 20], [1, 0.5, 0.3]), series([5, 15], [0.8, 0.4]), series([0, 20], [2, null])]);
    // The third member counts at step 0 only (its step 20 logged nothing, so nothing between is
    // interpolated); the second is out of range at 0 and 20.
    const band = groupBand(mean, 'train', 'loss', mean.train.steps);
    const expected = { lo: [1, 0.75, 0.5, 0.4, 0.3], hi: [2, 0.8, 0.6, 0.4, 0.3] };
    for (const side of ['lo', 'hi'] as const) {
      expect(band?.[side]).toHaveLength(5);
      band?.[side].forEach((v, i) => expect(v).toBeCloseTo(expected[side][i] as number, 12));
    }
    const loss = mean.train.columns.loss as number[];
    for (let i = 0; i < loss.length; i += 1) {
      expect(loss[i]).toBeGreaterThanOrEqual(band?.lo[i] as number);
      expect(loss[i]).toBeLessThanOrEqual(band?.hi[i] as number);
    }
  });

  it('reads the band at the points a card draws, and none for a run that is not a group', () => {
    const mean = groupMeanSeries([series([0, 10], [1, 3]), series([0, 10], [2, 5])]);
    expect(groupBand(mean, 'train', 'loss', [10])).toEqual({ lo: [3], hi: [5] });
    expect(groupBand(mean, 'train', 'loss', [0, 7, 10])).toEqual({ lo: [1, null, 3], hi: [2, null, 5] });
    expect(groupBand(mean, 'train', 'accuracy', [0])).toBeNull();
    expect(groupBand(series([0], [1]), 'train', 'loss', [0])).toBeNull();
    expect(groupBand(undefined, 'train', 'loss', [0])).toBeNull();
  });
});
