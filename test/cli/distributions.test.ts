// checkpoint-studio distributions as a user runs it (the built bin): a run's tensors, one
// tensor's figures against values known here, the second run answered from the cache, and a
// tensor no checkpoint holds refused with its name.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunTensors, TensorDistributions } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { f32, trainingState, useTempWorkspaces } from '../store/helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const makeWorkspace = useTempWorkspaces();

function cli(workspace: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, 'distributions', ...args, '--workspace', workspace], { encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** Step s holds the values s·1 … s·5 (and a NaN at step 200). */
function values(step: number): number[] {
  const out = [1, 2, 3, 4, 5].map((i) => i * step);
  if (step === 200) out.push(NaN);
  return out;
}

async function workspace(): Promise<string> {
  const { root: dir } = makeWorkspace();
  const store = await CheckpointStore.open(dir);
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  for (const step of [100, 200]) {
    const state = trainingState(step);
    const kernel = values(step);
    await writer.save({ ...state, model: [{ name: 'dense/kernel', dtype: 'F32', shape: [kernel.length], data: f32(kernel) }] });
  }
  await writer.close();
  return store.root;
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist/electron/cli.js'))) throw new Error('build first: npm run build (npm test does)');
});

describe('checkpoint-studio distributions', () => {
  it('lists the tensors, computes the figures, and answers again from the cache', async () => {
    const dir = await workspace();
    const listed = cli(dir, 'alpha', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as RunTensors).tensors.map((t) => [t.name, t.role])).toEqual([
      ['dense/kernel', 'model'],
      ['adam/iterations', 'optimizer'],
      ['adam/m/dense/kernel', 'optimizer'],
      ['adam/v/dense/kernel', 'optimizer'],
    ]);

    const first = cli(dir, 'alpha', 'dense/kernel', '--bins', '4', '--json');
    expect(first.code).toBe(0);
    const answer = JSON.parse(first.stdout) as TensorDistributions;
    expect(answer.range).toEqual({ lo: 100, hi: 1000, bins: 4 });
    const [at100, at200] = answer.points;
    // 100…500 and 200…1000 in four bins of 225 from 100.
    expect(at100).toMatchObject({ step: 100, count: 5, nan: 0, min: 100, max: 500, mean: 300, histogram: [3, 2, 0, 0], cached: false });
    expect(at100?.std).toBeCloseTo(Math.sqrt(20_000), 9);
    expect(at100?.quantiles).toEqual([100, 128, 164, 224, 300, 376, 436, 472, 500]);
    expect(at200).toMatchObject({ step: 200, count: 6, nan: 1, finite: 5, min: 200, max: 1000, mean: 600, histogram: [1, 1, 1, 2] });

    const table = cli(dir, 'alpha', 'dense/kernel', '--bins', '4');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^STEP\s+COUNT\s+MIN\s+P16\s+MEDIAN/);
    expect(table.stdout).toMatch(/^200\s+6\s+200\s+328\s+600\s+872\s+1000\s+600\s+282\.8\s+1\s+0$/m);
    expect(table.stdout).toContain('2 checkpoints, 2 from the cache');
  });

  it('names a tensor no checkpoint holds, and fails', async () => {
    const dir = await workspace();
    const result = cli(dir, 'alpha', 'no/such');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no checkpoint of alpha holds a tensor named "no/such"');
  });
});
