// Distributions over time read from checkpoint files (issue 17): every figure checked against an
// independent computation here, for our checkpoints and for a TensorFlow folder read in place;
// the cache (a second call reads no tensor byte; a changed file is read again), a read-only
// workspace, another program's folder left unchanged, and damaged files named with their tensor.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DistributionPoint, StudioApi, TensorDistributions } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { age, folderRecord } from '../in-place/in-place-helpers.js';
import { f32, flipTensorByte, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();

const LEVELS = [0, 0.07, 0.16, 0.31, 0.5, 0.69, 0.84, 0.93, 1];

/** Known values per step: a spread that moves and widens, with a NaN and two infinities at step 200. */
function kernelValues(step: number): number[] {
  const values = Array.from({ length: 60 }, (_, i) => Math.fround((i - 20) * 0.01 * (step / 100) + step / 1000));
  if (step === 200) values.splice(0, 3, NaN, Infinity, -Infinity);
  return values;
}

function momentValues(step: number): number[] {
  return Array.from({ length: 24 }, (_, i) => Math.fround(Math.cos(i + step) * 0.001));
}

/** The figures computed the plain way: sort, interpolate at rank q·(n−1), count into bins. */
function reference(values: readonly number[], range: { lo: number; hi: number; bins: number }) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const mean = finite.reduce((s, v) => s + v, 0) / finite.length;
  const std = Math.sqrt(finite.reduce((s, v) => s + (v - mean) ** 2, 0) / finite.length);
  const quantiles = LEVELS.map((q) => {
    const rank = q * (finite.length - 1);
    const i = Math.floor(rank);
    const j = Math.min(i + 1, finite.length - 1);
    return (finite[i] as number) + (rank - i) * ((finite[j] as number) - (finite[i] as number));
  });
  const histogram = new Array<number>(range.bins).fill(0);
  for (const v of finite) {
    const bin = Math.min(range.bins - 1, Math.max(0, Math.floor(((v - range.lo) / (range.hi - range.lo)) * range.bins)));
    histogram[bin] = (histogram[bin] as number) + 1;
  }
  return {
    count: values.length,
    nan: values.filter((v) => Number.isNaN(v)).length,
    inf: values.filter((v) => v === Infinity || v === -Infinity).length,
    min: finite[0],
    max: finite.at(-1),
    mean,
    std,
    quantiles,
    histogram,
  };
}

function expectMatches(point: DistributionPoint, values: readonly number[], result: TensorDistributions): void {
  expect(result.range).not.toBeNull();
  const expected = reference(values, result.range as { lo: number; hi: number; bins: number });
  expect(point.count).toBe(expected.count);
  expect(point.nan).toBe(expected.nan);
  expect(point.inf).toBe(expected.inf);
  expect(point.finite).toBe(expected.count - expected.nan - expected.inf);
  expect(point.min).toBe(expected.min);
  expect(point.max).toBe(expected.max);
  expect(point.mean).toBeCloseTo(expected.mean, 12);
  expect(point.std).toBeCloseTo(expected.std, 12);
  expect(point.quantileMethod).toBe('exact');
  expect(point.quantileError).toBe(0);
  (point.quantiles ?? []).forEach((q, i) => expect(q).toBeCloseTo(expected.quantiles[i] as number, 12));
  expect(point.histogram).toEqual(expected.histogram);
}

async function ourWorkspace(steps = [100, 200, 300]): Promise<{ root: string; dirs: Map<number, string> }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  const dirs = new Map<number, string>();
  for (const step of steps) {
    const state = trainingState(step);
    const model: Tensor[] = [{ name: 'dense/kernel', dtype: 'F32', shape: [6, 10], data: f32(kernelValues(step)) }, ...state.model.slice(1)];
    const optimizer: Tensor[] = [{ name: 'optimizer/dense/kernel/m', dtype: 'F32', shape: [4, 6], data: f32(momentValues(step)) }, ...state.optimizer.slice(2)];
    const written = await writer.save({ ...state, model, optimizer });
    dirs.set(step, written.dir);
  }
  await writer.close();
  return { root: store.root, dirs };
}

async function open(root: string, options: { readOnly?: boolean } = {}): Promise<StudioApi> {
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root, ...(options.readOnly ? { readOnly: true } : {}) });
  return studio.api;
}

describe('distributions of our checkpoints', () => {
  it('lists the tensors, weights and optimizer state, and computes every figure as an independent computation does', async () => {
    const { root } = await ourWorkspace();
    const api = await open(root);
    const { tensors, problems } = await api.tensorNames({ run: 'alpha' });
    expect(problems).toEqual([]);
    expect(tensors.find((t) => t.name === 'dense/kernel')).toEqual({
      name: 'dense/kernel',
      dtype: 'F32',
      shape: [6, 10],
      role: 'model',
      checkpoints: 3,
      numeric: true,
    });
    expect(tensors.find((t) => t.name === 'optimizer/dense/kernel/m')?.role).toBe('optimizer');

    const progress: number[] = [];
    api.on('distributions:progress', (p) => progress.push(p.done / p.total));
    const result = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel', bins: 12 });
    expect(result.problems).toEqual([]);
    expect(result.quantileLevels).toEqual(LEVELS);
    expect(result.points.map((p) => p.step)).toEqual([100, 200, 300]);
    const all = [100, 200, 300].flatMap(kernelValues).filter(Number.isFinite);
    expect(result.range).toEqual({ lo: Math.min(...all), hi: Math.max(...all), bins: 12 });
    result.points.forEach((point) => expectMatches(point, kernelValues(point.step), result));
    expect(result.points[1]).toMatchObject({ nan: 1, inf: 2, count: 60, finite: 57 });
    expect(progress.at(-1)).toBe(1);

    const moments = await api.tensorDistributions({ run: 'alpha', tensor: 'optimizer/dense/kernel/m' });
    moments.points.forEach((point) => expectMatches(point, momentValues(point.step), moments));
  });

  it('answers a second time from the cache without reading a tensor byte, and reads a changed file again', async () => {
    const { root, dirs } = await ourWorkspace();
    const api = await open(root);
    const first = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(first.cache).toBe('workspace');
    expect(first.bytesRead).toBeGreaterThan(0);
    expect(fs.readdirSync(path.join(root, '.studio', 'distributions'))).toHaveLength(3);
    let reports = 0;
    const off = api.on('distributions:progress', () => (reports += 1));
    const second = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    off();
    expect(second.bytesRead).toBe(0);
    // Answered from the cache on the calling thread: no worker was started to report progress.
    expect(reports).toBe(0);
    expect(second.points.every((p) => p.cached)).toBe(true);
    expect(second.points).toEqual(first.points.map((p) => ({ ...p, cached: true })));

    // Same bytes, another time: the key changes, so that one checkpoint is read again.
    const file = path.join(dirs.get(200) as string, 'model.safetensors');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(file, later, later);
    const third = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(third.points.map((p) => p.cached)).toEqual([true, false, true]);
    expect(third.bytesRead).toBe(2 * 60 * 4);
    expect(third.points).toEqual(first.points.map((p) => ({ ...p, cached: p.step !== 200 })));
  });

  it('answers the same question asked twice at once with one reading of the files', async () => {
    const { root } = await ourWorkspace();
    const api = await open(root);
    let reports = 0;
    api.on('distributions:progress', () => (reports += 1));
    const [a, b] = await Promise.all([
      api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' }),
      api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' }),
    ]);
    expect(b).toEqual(a);
    expect(a.points.every((p) => !p.cached)).toBe(true);
    // One computation reports each of the 3 checkpoints twice (figures, then bins).
    expect(reports).toBe(6);
    // Another question is its own computation.
    await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel', bins: 7 });
    expect(reports).toBe(12);
  });

  it('names the file and the tensor of a damaged checkpoint, and still answers for the others', async () => {
    const { root, dirs } = await ourWorkspace();
    const api = await open(root);
    await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    const file = path.join(dirs.get(300) as string, 'model.safetensors');
    flipTensorByte(file, 'dense/kernel', 5);
    const result = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(result.points.map((p) => p.step)).toEqual([100, 200]);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]?.id).toBe('alpha/ckpt-000000300');
    expect(result.problems[0]?.message).toContain(file);
    expect(result.problems[0]?.message).toContain('"dense/kernel"');
    expect(result.problems[0]?.message).toContain('CRC32C mismatch');
  });

  it('reads a read-only workspace without writing to it, using a cache already there', async () => {
    const { root } = await ourWorkspace();
    const bare = await open(root, { readOnly: true });
    const before = folderRecord(root);
    const uncached = await bare.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(uncached.cache).toBe('none');
    expect(uncached.notes.join(' ')).toContain('opened read-only');
    expect(folderRecord(root)).toEqual(before);

    const writer = new Studio();
    onCleanup(() => writer.close());
    await writer.api.openWorkspace({ path: root });
    const computed = await writer.api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    // Closed, it has written all it will (its catalog's index records land before close resolves).
    await writer.close();
    const withCache = folderRecord(root);
    const fromCache = await (await open(root, { readOnly: true })).tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(fromCache.bytesRead).toBe(0);
    expect(fromCache.points).toEqual(computed.points.map((p) => ({ ...p, cached: true })));
    expect(folderRecord(root)).toEqual(withCache);
  });

  it('answers when the cache cannot be written, and says so', async () => {
    const { root } = await ourWorkspace();
    fs.mkdirSync(path.join(root, '.studio'), { recursive: true });
    // Where the cache's folder would be, a file: every write fails.
    fs.writeFileSync(path.join(root, '.studio', 'distributions'), '');
    const api = await open(root);
    const result = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' });
    expect(result.points).toHaveLength(3);
    expect(result.notes.join(' ')).toContain('were not cached');
    expect((await api.tensorDistributions({ run: 'alpha', tensor: 'dense/kernel' })).bytesRead).toBe(result.bytesRead);
  });

  it('gives quantiles of a tensor too large to sort from a fine histogram, each within its stated error of the exact one', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('big', { parent: null, config: {} });
    // One value more than EXACT_QUANTILE_LIMIT (2^22), skewed: squares of a sine walk.
    const values = Float32Array.from({ length: (1 << 22) + 1 }, (_, i) => Math.sin(i * 12.9898) ** 2 * 3 - 1);
    const state = trainingState(100);
    await writer.save({ ...state, model: [{ name: 'big/kernel', dtype: 'F32', shape: [values.length], data: new Uint8Array(values.buffer) }] });
    await writer.close();
    const result = await (await open(store.root)).tensorDistributions({ run: 'big', tensor: 'big/kernel' });
    const [point] = result.points;
    expect(point?.quantileMethod).toBe('histogram');
    const sorted = Float64Array.from(values).sort();
    expect(point?.quantileError).toBeCloseTo(((sorted.at(-1) as number) - (sorted[0] as number)) / 65536, 15);
    LEVELS.forEach((q, i) => {
      const rank = q * (sorted.length - 1);
      const below = Math.floor(rank);
      const exact = (sorted[below] as number) + (rank - below) * ((sorted[Math.min(below + 1, sorted.length - 1)] as number) - (sorted[below] as number));
      expect(Math.abs((point?.quantiles?.[i] as number) - exact)).toBeLessThanOrEqual(point?.quantileError as number);
    });
    expect(point?.histogram.reduce((a, b) => a + b, 0)).toBe(values.length);
  });

  it('says which checkpoints lack the tensor, and refuses an unknown run', async () => {
    const { root } = await ourWorkspace();
    const api = await open(root);
    const result = await api.tensorDistributions({ run: 'alpha', tensor: 'no/such' });
    expect(result.points).toEqual([]);
    expect(result.missing).toHaveLength(3);
    expect(result.range).toBeNull();
    await expect(api.tensorNames({ run: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
  });
});

/** A TensorFlow folder (another program's), three bundles and the state file, old enough to be settled. */
async function tensorFlowFolder(): Promise<string> {
  const { base } = makeWorkspace();
  const root = path.join(base, 'tf-run');
  fs.mkdirSync(root);
  for (const step of [100, 200, 300])
    await writeTfBundle(root, `model.ckpt-${step}`, [{ name: 'dense/kernel', dtype: 'F32', shape: [6, 10], data: f32(kernelValues(step)) }], { step });
  age(root);
  return root;
}

describe('distributions of another program’s checkpoints read in place', () => {
  it('computes the same figures from a TensorFlow folder, and creates nothing in it', async () => {
    const root = await tensorFlowFolder();
    const before = folderRecord(root);
    const api = await open(root);
    const [run] = await api.listRuns();
    const name = run?.name as string;
    expect((await api.tensorNames({ run: name })).tensors.map((t) => t.name)).toContain('dense/kernel');
    const result = await api.tensorDistributions({ run: name, tensor: 'dense/kernel', bins: 9 });
    expect(result.problems).toEqual([]);
    expect(result.points.map((p) => p.step)).toEqual([100, 200, 300]);
    result.points.forEach((point) => expectMatches(point, kernelValues(point.step), result));
    expect(result.cache).toBe('none');
    expect(result.notes.join(' ')).toContain('creates nothing in it');
    expect(folderRecord(root)).toEqual(before);
  });

  it('caches where the folder’s .studio/ already is, misses after a file changed, and names a damaged file and tensor', async () => {
    const root = await tensorFlowFolder();
    fs.mkdirSync(path.join(root, '.studio'));
    const api = await open(root);
    const name = (await api.listRuns())[0]?.name as string;
    const first = await api.tensorDistributions({ run: name, tensor: 'dense/kernel' });
    expect(first.cache).toBe('workspace');
    expect((await api.tensorDistributions({ run: name, tensor: 'dense/kernel' })).bytesRead).toBe(0);

    const data = path.join(root, 'model.ckpt-200.data-00000-of-00001');
    const bytes = fs.readFileSync(data);
    bytes[7] = (bytes[7] as number) ^ 0xff;
    fs.writeFileSync(data, bytes);
    const damaged = await api.tensorDistributions({ run: name, tensor: 'dense/kernel' });
    expect(damaged.points.map((p) => p.step)).toEqual([100, 300]);
    expect(damaged.points.every((p) => p.cached)).toBe(true);
    expect(damaged.problems[0]?.message).toContain(data);
    expect(damaged.problems[0]?.message).toContain('dense/kernel');
  });
});

describe('distributions of another program’s checkpoints imported into our workspace', () => {
  it('reads them copied and linked, and a linked file changed where it lives is read again, not taken from the cache', async () => {
    const source = await tensorFlowFolder();
    const { root } = await ourWorkspace([100]);
    const api = await open(root);
    const copied = await api.importFolders({ sources: [source], into: 'copied' });
    const linked = await api.importFolders({ sources: [source], mode: 'link', into: 'linked' });
    expect([copied.results[0]?.ok, linked.results[0]?.ok]).toEqual([true, true]);
    for (const run of ['copied', 'linked']) {
      const result = await api.tensorDistributions({ run, tensor: 'dense/kernel', bins: 9 });
      expect(result.problems).toEqual([]);
      expect(result.cache).toBe('workspace');
      expect(result.points.map((p) => p.step)).toEqual([100, 200, 300]);
      result.points.forEach((point) => expectMatches(point, kernelValues(point.step), result));
    }
    expect((await api.tensorDistributions({ run: 'linked', tensor: 'dense/kernel', bins: 9 })).bytesRead).toBe(0);

    const data = path.join(source, 'model.ckpt-300.data-00000-of-00001');
    const bytes = fs.readFileSync(data);
    bytes[3] = (bytes[3] as number) ^ 0xff;
    fs.writeFileSync(data, bytes);
    const changed = await api.tensorDistributions({ run: 'linked', tensor: 'dense/kernel', bins: 9 });
    expect(changed.points.map((p) => p.step)).toEqual([100, 200]);
    expect(changed.problems[0]?.message).toContain(data);
    expect(changed.problems[0]?.message).toContain('dense/kernel');
    // The copy is not the changed file.
    expect((await api.tensorDistributions({ run: 'copied', tensor: 'dense/kernel', bins: 9 })).points).toHaveLength(3);
  });
});
