// The Compare view's logic: the table's sort (a change away from all zeros is the largest; a
// figure with no value sorts last either way; ties by name), how figures read, and CompareState:
// only its own comparison's progress followed, closing cancels it in the Studio, and a
// cancelled comparison's late answer does not replace the next one's.
import { describe, expect, it } from 'vitest';
import type { CompareResult, StudioParams, TensorComparison } from '../../renderer/src/lib/contract';
import { DEFAULT_COMPARE_SORT, formatFigure, formatThreshold, nextSort, relChangeText, sortComparisons } from '../../renderer/src/lib/compare-table';
import { CompareState } from '../../renderer/src/state/compare-state.svelte';
import { FakeStudio } from './fakes';

function row(name: string, figures: Partial<TensorComparison> = {}): TensorComparison {
  return {
    name,
    nameB: name,
    dtype: 'F32',
    dtypeB: 'F32',
    shape: [2],
    elements: 2,
    finite: 2,
    l2A: 1,
    l2B: 1,
    l2Diff: 0,
    relChange: 0,
    maxAbsDiff: 0,
    cosine: 1,
    nanA: 0,
    nanB: 0,
    infA: 0,
    infB: 0,
    nanCount: 0,
    infCount: 0,
    stoppedMoving: false,
    ...figures,
  };
}

const rows = [
  row('b', { relChange: 0.5, l2A: 2, cosine: 0.1 }),
  row('fromZero', { relChange: null, l2A: 0, l2Diff: 3, cosine: null }),
  row('a', { relChange: 0.5, l2A: 5, cosine: 0.9 }),
  row('still', { relChange: 0, l2A: 1, stoppedMoving: true }),
];
const names = (sorted: TensorComparison[]): string[] => sorted.map((t) => t.name);

function result(tensors: TensorComparison[]): CompareResult {
  const side = (label: string) => ({ target: label, label, path: `/ws/${label}`, format: 'checkpoint-studio', step: 1 });
  return { a: side('A'), b: side('B'), stoppedMovingBelow: 1e-6, tensors, notCompared: [], onlyInA: [], onlyInB: [], stoppedMoving: [], notes: [] };
}

describe('the compare table', () => {
  it('sorts by relative change, largest first, a change from all zeros above every ratio, ties by name', () => {
    expect(names(sortComparisons(rows, DEFAULT_COMPARE_SORT))).toEqual(['fromZero', 'a', 'b', 'still']);
    expect(names(sortComparisons(rows, { column: 'relChange', descending: false }))).toEqual(['still', 'a', 'b', 'fromZero']);
  });

  it('puts a figure with no value last in either direction', () => {
    expect(names(sortComparisons(rows, { column: 'cosine', descending: true }))).toEqual(['still', 'a', 'b', 'fromZero']);
    expect(names(sortComparisons(rows, { column: 'cosine', descending: false }))).toEqual(['b', 'a', 'still', 'fromZero']);
  });

  it('flips the sorted column, and starts text A to Z and figures largest first', () => {
    expect(nextSort(DEFAULT_COMPARE_SORT, 'relChange')).toEqual({ column: 'relChange', descending: false });
    expect(nextSort(DEFAULT_COMPARE_SORT, 'name')).toEqual({ column: 'name', descending: false });
    expect(nextSort(DEFAULT_COMPARE_SORT, 'l2A')).toEqual({ column: 'l2A', descending: true });
    expect(names(sortComparisons(rows, nextSort(DEFAULT_COMPARE_SORT, 'name')))).toEqual(['a', 'b', 'fromZero', 'still']);
  });

  it('reads figures with four digits, tiny and huge ones as exponents, and a change from zero as such', () => {
    expect(formatFigure(0)).toBe('0');
    expect(formatFigure(null)).toBe('—');
    expect(formatFigure(1 / 3)).toBe('0.3333');
    expect(formatFigure(2.5e-9)).toBe('2.500e-9');
    expect(formatFigure(123456)).toBe('1.235e+5');
    expect(relChangeText(rows[1] as TensorComparison)).toBe('from 0');
    expect(formatThreshold(1e-6)).toBe('1e-6');
    expect(formatThreshold(0.05)).toBe('0.05');
  });
});

describe('CompareState', () => {
  it('follows only its own progress, shows the result, and closing cancels nothing that is done', async () => {
    const fake = new FakeStudio();
    let answer: (r: CompareResult) => void = () => undefined;
    let asked: StudioParams<'compareCheckpoints'> | undefined;
    fake.handle('compareCheckpoints', (params) => {
      asked = params;
      return new Promise<CompareResult>((resolve) => (answer = resolve));
    });
    fake.handle('cancelCompare', () => ({ cancelled: true }));
    const compare = new CompareState(fake.api);
    const done = compare.open({ a: 'run/ckpt-1', b: 'run/ckpt-2' });
    expect(compare.running).toBe(true);
    expect(asked).toMatchObject({ a: 'run/ckpt-1', b: 'run/ckpt-2' });
    const compareId = asked?.compareId as string;
    fake.emit('compare:progress', { compareId: 'someone-else', done: 9, total: 9, tensor: 'x' });
    expect(compare.progress).toBeNull();
    fake.emit('compare:progress', { compareId, done: 1, total: 4, tensor: 'dense/kernel' });
    expect(compare.progress).toEqual({ done: 1, total: 4, tensor: 'dense/kernel' });

    answer(result(rows));
    await done;
    expect(compare.running).toBe(false);
    expect(compare.result?.tensors).toHaveLength(4);
    expect(fake.listenerCount('compare:progress')).toBe(0);
    compare.close();
    expect(compare.pair).toBeNull();
    expect(fake.callsOf('cancelCompare')).toEqual([]);
  });

  it('cancels a running comparison in the Studio when closed or swapped, and ignores its late answer', async () => {
    const fake = new FakeStudio();
    const answers: ((r: CompareResult) => void)[] = [];
    const ids: string[] = [];
    fake.handle('compareCheckpoints', (params) => {
      ids.push(params?.compareId as string);
      return new Promise<CompareResult>((resolve) => answers.push(resolve));
    });
    fake.handle('cancelCompare', () => ({ cancelled: true }));
    const compare = new CompareState(fake.api);

    const first = compare.open({ a: 'x', b: 'y' });
    const second = compare.swap();
    expect(fake.callsOf('cancelCompare')).toEqual([{ compareId: ids[0] }]);
    expect(compare.pair).toEqual({ a: 'y', b: 'x' });
    expect(ids[1]).not.toBe(ids[0]);

    answers[0]?.(result([row('late')]));
    await first;
    expect(compare.result).toBeNull();
    expect(compare.running).toBe(true);

    compare.close();
    expect(fake.callsOf('cancelCompare')).toEqual([{ compareId: ids[0] }, { compareId: ids[1] }]);
    answers[1]?.(result([row('later')]));
    await second;
    expect(compare.result).toBeNull();
    expect(compare.pair).toBeNull();
    expect(fake.listenerCount('compare:progress')).toBe(0);
  });

  it('shows the error of a comparison that fails', async () => {
    const fake = new FakeStudio();
    fake.handle('compareCheckpoints', () => {
      throw new Error('/ws/b.safetensors: tensor "w": holds 12 bytes, but F32 [4] takes 16');
    });
    const compare = new CompareState(fake.api);
    await compare.open({ a: 'a', b: 'b' });
    expect(compare.error).toContain('/ws/b.safetensors');
    expect(compare.running).toBe(false);
  });
});
