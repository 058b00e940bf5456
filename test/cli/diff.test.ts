// checkpoint-studio diff as a user runs it (the built bin): two safetensors files written by the
// test, and two checkpoints of a workspace by id and `latest`; the table sorted by relative change
// with stopped-moving tensors marked, --json with the figures, and a truncated file named.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, truncateSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CompareResult } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { REPOSITORY_ROOT } from '../fixtures.js';
import { expectedFigures, writeSafetensorsFile } from '../compare/compare-helpers.js';

const bin = path.join(REPOSITORY_ROOT, 'bin/checkpoint-studio.js');
let folder = '';

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const A = {
  moved: [1, 2, 3, 4],
  little: [10, 10, 10, 10],
  still: [0.5, -0.5, 0.25, 1],
  odd: [1, Number.NaN, Number.POSITIVE_INFINITY, 2],
};
const B = {
  moved: [4, 3, 2, 1],
  little: [10, 10, 10, 10.5],
  still: [0.5, -0.5, 0.25, 1],
  odd: [1, 1, 1, Number.NEGATIVE_INFINITY],
};

function writePair(): { a: string; b: string } {
  const tensors = (values: Record<string, number[]>) => Object.entries(values).map(([name, v]) => ({ name, dtype: 'F32' as const, shape: [2, 2], values: v }));
  return {
    a: writeSafetensorsFile(path.join(folder, 'a.safetensors'), [...tensors(A), { name: 'gone', dtype: 'F32', shape: [1], values: [1] }]),
    b: writeSafetensorsFile(path.join(folder, 'b.safetensors'), [
      ...tensors(B),
      { name: 'added', dtype: 'F32', shape: [2], values: [1, 2] },
      { name: 'gone2', dtype: 'F32', shape: [1], values: [1] },
    ]),
  };
}

beforeAll(() => {
  if (!existsSync(path.join(REPOSITORY_ROOT, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});
beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'cli-diff-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

describe('checkpoint-studio diff', () => {
  it('prints a table sorted by relative change, marking what stopped moving and counting NaN and Inf', () => {
    const { a, b } = writePair();
    const result = cli('diff', a, b, '--workspace', folder);
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('TENSOR'));
    expect(header).toBeGreaterThan(0);
    const rows = lines.slice(header + 1, header + 5).map((l) => l.split(/\s+/));
    // moved: |d| = sqrt(9+1+1+9) / sqrt(30) = 0.8165; odd (finite positions 0 and 1... only 0): 0; little: 0.5/20; still: 0.
    expect(rows.map((r) => r[0])).toEqual(['moved', 'little', 'odd', 'still']);
    const moved = expectedFigures(A.moved, B.moved);
    expect(rows[0]).toContain((moved.relChange as number).toPrecision(4));
    expect(lines[header + 4]).toMatch(/stopped$/);
    expect(lines[header + 3]).toMatch(/stopped$/);
    expect(lines[header + 1]).not.toMatch(/stopped/);
    // odd holds one NaN and one +Inf in A and one -Inf in B.
    expect(rows[2]?.slice(-3)).toEqual(['1', '2', 'stopped']);
    expect(result.stdout).toContain('only in A: gone [1] F32');
    expect(result.stdout).toContain('only in B: added [2] F32');
    expect(result.stdout).toContain('4 tensors compared; 2 stopped moving');
  });

  it('--json gives every figure, computed in float64 over the finite values', () => {
    const { a, b } = writePair();
    const result = cli('diff', a, b, '--json', '--workspace', folder);
    expect(result.stderr).toBe('');
    const parsed = JSON.parse(result.stdout) as CompareResult;
    expect(parsed.a).toMatchObject({ path: a, format: 'safetensors' });
    for (const name of Object.keys(A) as (keyof typeof A)[]) {
      const row = parsed.tensors.find((t) => t.name === name);
      const expected = expectedFigures(A[name], B[name]);
      expect(row).toMatchObject({ shape: [2, 2], nanCount: expected.nanCount, infCount: expected.infCount });
      for (const key of ['l2A', 'l2B', 'l2Diff', 'maxAbsDiff'] as const) expect(row?.[key]).toBeCloseTo(expected[key], 12);
      expect(row?.relChange).toBeCloseTo(expected.relChange as number, 12);
    }
    expect(parsed.onlyInA.map((t) => t.name)).toEqual(['gone']);
    expect(parsed.onlyInB.map((t) => t.name).sort()).toEqual(['added', 'gone2']);
    expect(parsed.stoppedMoving.sort()).toEqual(['odd', 'still']);
    expect(parsed.stoppedMovingBelow).toBe(1e-6);
  });

  it('--stopped-below sets the threshold', () => {
    const { a, b } = writePair();
    const parsed = JSON.parse(cli('diff', a, b, '--json', '--stopped-below', '0.05', '--workspace', folder).stdout) as CompareResult;
    expect(parsed.stoppedMovingBelow).toBe(0.05);
    expect(parsed.stoppedMoving.sort()).toEqual(['little', 'odd', 'still']);
  });

  it('takes checkpoint ids, latest and best in a workspace', async () => {
    const store = await CheckpointStore.open(folder);
    const writer = await store.createRun('alpha', { parent: null, config: {} });
    for (const step of [100, 200]) {
      const values = new Float32Array(16).map((_, i) => i + step / 100);
      await writer.save({
        step,
        epoch: 0,
        batchInEpoch: 0,
        trainingTimeMs: 0,
        metrics: { loss: step / 100 },
        rng: {},
        backend: 'cpu',
        parent: null,
        model: [{ name: 'dense/kernel', dtype: 'F32', shape: [4, 4], data: new Uint8Array(values.buffer) }],
        optimizer: [{ name: 'iterations', dtype: 'I64', shape: [], data: new Uint8Array(8) }],
      });
    }
    await writer.close();
    const result = cli('diff', 'alpha/ckpt-000000100', 'latest', '--json', '--workspace', folder);
    expect(result.stderr).toBe('');
    const parsed = JSON.parse(result.stdout) as CompareResult;
    expect(parsed.a).toMatchObject({ label: 'alpha/ckpt-000000100', step: 100 });
    expect(parsed.b).toMatchObject({ label: 'alpha/ckpt-000000200', step: 200 });
    const first = Array.from({ length: 16 }, (_, i) => i + 1);
    const expected = expectedFigures(
      first,
      first.map((v) => v + 1),
    );
    const kernel = parsed.tensors.find((t) => t.name === 'dense/kernel');
    expect(kernel?.l2Diff).toBeCloseTo(expected.l2Diff, 5);
    expect(kernel?.relChange).toBeCloseTo(expected.relChange as number, 5);
    const byBest = JSON.parse(cli('diff', 'latest', 'best', '--metric', 'loss', '--json', '--workspace', folder).stdout) as CompareResult;
    expect(byBest.a).toMatchObject({ target: 'latest', step: 200 });
    expect(byBest.b).toMatchObject({ target: 'best', label: 'alpha/ckpt-000000100', step: 100 });
    expect(cli('diff', 'latest', 'best', '--workspace', folder).stderr).toContain('name the metric');
  });

  it('names a truncated file and fails', () => {
    const { a, b } = writePair();
    truncateSync(b, statSync(b).size - 6);
    const result = cli('diff', a, b, '--workspace', folder);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(b);
    expect(result.stdout).toBe('');
  });
});
