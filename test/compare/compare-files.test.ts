// compareCheckpoints on two safetensors files written by the test: every figure against the plain
// computation in compare-helpers, for ordinary, zero, NaN/Inf, half-precision and integer tensors;
// a shape that differs and tensors only on one side listed, not compared; a truncated file named.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompareResult, TensorComparison } from '../../electron/contract.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { makeTempWorkspace, onCleanup, useTempWorkspaces } from '../store/helpers.js';
import { type RawTensor, expectedFigures, writeSafetensorsFile } from './compare-helpers.js';

useTempWorkspaces();

const fr = (values: readonly number[]): number[] => values.map((v) => Math.fround(v));

const A: RawTensor[] = [
  { name: 'dense/kernel', dtype: 'F32', shape: [2, 3], values: [0.5, -1.25, 2, 3.5, 0.1, -0.7] },
  { name: 'dense/bias', dtype: 'F32', shape: [3], values: [0, 0, 0] },
  { name: 'from_zero', dtype: 'F32', shape: [2], values: [0, 0] },
  { name: 'frozen', dtype: 'F32', shape: [4], values: [1, 2, 3, 4] },
  { name: 'diverged', dtype: 'F32', shape: [5], values: [1, NaN, 3, Infinity, 5] },
  { name: 'half', dtype: 'F16', shape: [3], values: [0.5, -2, 1.5] },
  { name: 'brain', dtype: 'BF16', shape: [2], values: [1, -3] },
  { name: 'counter', dtype: 'I64', shape: [], values: [100] },
  { name: 'reshaped', dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] },
  { name: 'only_a', dtype: 'F32', shape: [1], values: [1] },
];
const B: RawTensor[] = [
  { name: 'dense/kernel', dtype: 'F32', shape: [2, 3], values: [0.75, -1, 2.5, 3, 0.2, -0.9] },
  { name: 'dense/bias', dtype: 'F32', shape: [3], values: [0, 0, 0] },
  { name: 'from_zero', dtype: 'F32', shape: [2], values: [0.5, 0] },
  { name: 'frozen', dtype: 'F32', shape: [4], values: [1, 2, 3, 4] },
  { name: 'diverged', dtype: 'F32', shape: [5], values: [2, 2, -Infinity, NaN, 4] },
  { name: 'half', dtype: 'F16', shape: [3], values: [0.25, -2, 1] },
  { name: 'brain', dtype: 'BF16', shape: [2], values: [1.5, -3] },
  { name: 'counter', dtype: 'I64', shape: [], values: [250] },
  { name: 'reshaped', dtype: 'F32', shape: [4], values: [1, 2, 3, 4] },
  { name: 'only_b', dtype: 'F32', shape: [2], values: [1, 2] },
];

async function studio(): Promise<Studio> {
  const created = new Studio();
  onCleanup(() => created.close());
  return created;
}

function pair(): { a: string; b: string } {
  const { base } = makeTempWorkspace();
  return { a: writeSafetensorsFile(path.join(base, 'a.safetensors'), A), b: writeSafetensorsFile(path.join(base, 'b.safetensors'), B) };
}

function row(result: CompareResult, name: string): TensorComparison {
  const found = result.tensors.find((t) => t.name === name);
  if (!found) throw new Error(`${name} was not compared`);
  return found;
}

function expectFigures(actual: TensorComparison, a: readonly number[], b: readonly number[]): void {
  const expected = expectedFigures(a, b);
  for (const key of ['l2A', 'l2B', 'l2Diff', 'maxAbsDiff', 'cosine', 'relChange'] as const) {
    const want = expected[key];
    if (want === null) expect(actual[key], key).toBeNull();
    else expect(actual[key], key).toBeCloseTo(want, 12);
  }
  expect(actual.nanCount).toBe(expected.nanCount);
  expect(actual.infCount).toBe(expected.infCount);
}

describe('comparing two safetensors files', () => {
  it('gives each pair its figures, computed over the finite values in float64', async () => {
    const { a, b } = pair();
    const result = await (await studio()).api.compareCheckpoints({ a, b });
    expect(result.a).toMatchObject({ target: a, path: a, format: 'safetensors' });
    expect(result.tensors.map((t) => t.name)).toEqual(['dense/kernel', 'dense/bias', 'from_zero', 'frozen', 'diverged', 'half', 'brain', 'counter']);
    for (const name of ['dense/kernel', 'from_zero', 'frozen', 'diverged', 'half', 'brain', 'counter']) {
      const [ta, tb] = [A.find((t) => t.name === name) as RawTensor, B.find((t) => t.name === name) as RawTensor];
      expectFigures(row(result, name), fr(ta.values), fr(tb.values));
    }
    expect(row(result, 'dense/kernel')).toMatchObject({ dtype: 'F32', dtypeB: 'F32', shape: [2, 3], elements: 6, finite: 6, nameB: 'dense/kernel' });
    expect(row(result, 'diverged')).toMatchObject({ nanA: 1, nanB: 1, infA: 1, infB: 1, nanCount: 2, infCount: 2, finite: 2 });
    expect(row(result, 'counter')).toMatchObject({ l2A: 100, l2B: 250, l2Diff: 150, relChange: 1.5, cosine: 1 });
  });

  it('says what relChange and cosine are for zero tensors, and calls out what stopped moving', async () => {
    const { a, b } = pair();
    const result = await (await studio()).api.compareCheckpoints({ a, b });
    // Both zero: nothing moved, so relChange is 0; no direction, so no cosine.
    expect(row(result, 'dense/bias')).toMatchObject({ l2A: 0, l2B: 0, l2Diff: 0, relChange: 0, cosine: null, stoppedMoving: true });
    // Moved away from all zeros: no ratio to give.
    expect(row(result, 'from_zero')).toMatchObject({ l2A: 0, l2Diff: 0.5, relChange: null, cosine: null, stoppedMoving: false });
    expect(result.stoppedMovingBelow).toBe(1e-6);
    expect(result.stoppedMoving).toEqual(['dense/bias', 'frozen']);
    const looser = await (await studio()).api.compareCheckpoints({ a, b, stoppedBelow: 0.17 });
    expect(looser.stoppedMovingBelow).toBe(0.17);
    expect(looser.stoppedMoving).toEqual(['dense/bias', 'frozen', 'brain']);
  });

  it('lists a pair whose shapes differ, and tensors only on one side, without comparing them', async () => {
    const { a, b } = pair();
    const result = await (await studio()).api.compareCheckpoints({ a, b });
    expect(result.notCompared).toEqual([
      { name: 'reshaped', nameB: 'reshaped', dtype: 'F32', dtypeB: 'F32', shape: [2, 2], shapeB: [4], reason: 'shape [2, 2] in A, [4] in B' },
    ]);
    expect(result.onlyInA).toEqual([{ name: 'only_a', dtype: 'F32', shape: [1] }]);
    expect(result.onlyInB).toEqual([{ name: 'only_b', dtype: 'F32', shape: [2] }]);
  });

  it('refuses a truncated file with an error naming it, and the next comparison still works', async () => {
    const { a, b } = pair();
    const bytes = fs.readFileSync(b);
    fs.writeFileSync(b, bytes.subarray(0, bytes.length - 6));
    const api = (await studio()).api;
    const failure = await api.compareCheckpoints({ a, b }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'damaged' });
    expect((failure as Error).message).toContain(b);
    writeSafetensorsFile(b, B);
    expect((await api.compareCheckpoints({ a, b })).tensors).toHaveLength(8);
  });

  it('reports progress under the client id, and a cancelled comparison fails as cancelled', async () => {
    const { a, b } = pair();
    const api = (await studio()).api;
    const seen: number[] = [];
    api.on('compare:progress', (p) => p.compareId === 'one' && seen.push(p.done));
    await api.compareCheckpoints({ a, b, compareId: 'one' });
    expect(seen.at(0)).toBe(0);
    expect(seen.at(-1)).toBe(8);
    const running = api.compareCheckpoints({ a, b, compareId: 'two' });
    expect(await api.cancelCompare({ compareId: 'two' })).toEqual({ cancelled: true });
    await expect(running).rejects.toMatchObject({ code: 'refused', message: 'the comparison was cancelled' });
    expect(await api.cancelCompare({ compareId: 'two' })).toEqual({ cancelled: false });
  });
});
