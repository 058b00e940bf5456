// compareCheckpoints on checkpoints of ours (written by the store's writer) and on a TensorFlow
// bundle exported from one of them, whose optimizer slots carry TensorFlow's names: paired
// through the weight mapping, every difference is 0. A changed byte is an error naming file and tensor.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { f32, f32Values, flipTensorByte, makeTempWorkspace, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { expectedFigures } from './compare-helpers.js';

useTempWorkspaces();

async function studioOn(root: string): Promise<Studio> {
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return studio;
}

async function workspace(states: ReturnType<typeof trainingState>[]): Promise<string> {
  const { root } = makeTempWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('run', { parent: null, config: { model: 'mlp' } });
  for (const state of states) await writer.save(state);
  await writer.close();
  return store.root;
}

/** Weights of our mlp preset with no hidden layer… one of 4 units: 784 → 4 → 10, and Adam's slots for each. */
function presetState(step: number): ReturnType<typeof trainingState> {
  const values = (count: number, seed: number): Uint8Array => f32(Array.from({ length: count }, (_, i) => Math.sin(seed + i * 0.37)));
  const weights: [string, number[]][] = [
    ['dense_0/kernel', [784, 4]],
    ['dense_0/bias', [4]],
    ['logits/kernel', [4, 10]],
    ['logits/bias', [10]],
  ];
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  const model: Tensor[] = weights.map(([name, shape], i) => ({ name, dtype: 'F32', shape, data: values(size(shape), step + i) }));
  const optimizer: Tensor[] = weights.flatMap(([name, shape], i) => [
    { name: `${name}/m`, dtype: 'F32' as const, shape, data: values(size(shape), step + 10 + i) },
    { name: `${name}/v`, dtype: 'F32' as const, shape, data: values(size(shape), step + 20 + i) },
  ]);
  return trainingState(step, { model, optimizer });
}

describe('comparing checkpoints of ours', () => {
  it('gives the figures of each tensor of two checkpoints of a run, by id and by latest', async () => {
    const root = await workspace([trainingState(10), trainingState(20)]);
    const { api } = await studioOn(root);
    const [first, second] = await api.listCheckpoints({ run: 'run' });
    const result = await api.compareCheckpoints({ a: first?.id as string, b: 'latest' });
    expect(result.a).toMatchObject({ label: first?.id, format: 'checkpoint-studio', step: 10 });
    expect(result.b).toMatchObject({ target: 'latest', label: second?.id, step: 20 });
    const [a, b] = [trainingState(10), trainingState(20)];
    const all = (s: typeof a): Tensor[] => [...s.model, ...s.optimizer];
    expect(result.tensors.map((t) => t.name).sort()).toEqual(
      all(a)
        .map((t) => t.name)
        .sort(),
    );
    for (const tensor of all(a)) {
      const other = all(b).find((t) => t.name === tensor.name) as Tensor;
      const expected = expectedFigures(f32Values(tensor.data), f32Values(other.data));
      const actual = result.tensors.find((t) => t.name === tensor.name);
      expect(actual?.l2Diff).toBeCloseTo(expected.l2Diff, 12);
      expect(actual?.relChange).toBeCloseTo(expected.relChange as number, 12);
      expect(actual?.cosine).toBeCloseTo(expected.cosine as number, 12);
      expect(actual?.maxAbsDiff).toBeCloseTo(expected.maxAbsDiff, 12);
    }
    expect(result.onlyInA).toEqual([]);
    expect(result.onlyInB).toEqual([]);
  });

  it('pairs our tensors with those of a TensorFlow export of the same checkpoint, all differences 0', { timeout: 60_000 }, async () => {
    const root = await workspace([presetState(5)]);
    const { api } = await studioOn(root);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compare-tf-')), 'tf');
    onCleanup(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
    await api.exportCheckpoint({ target: 'latest', format: 'tf', out });
    const result = await api.compareCheckpoints({ a: 'latest', b: out });
    expect(result.b.format).toBe('tf-bundle');
    // The weights by name, Adam's slots through the mapping (dense_0/kernel/m is TensorFlow's dense_0/kernel/Adam).
    expect(result.tensors.find((t) => t.name === 'dense_0/kernel/m')?.nameB).toBe('dense_0/kernel/Adam');
    expect(result.tensors.find((t) => t.name === 'logits/bias/v')?.nameB).toBe('logits/bias/Adam_1');
    expect(result.tensors).toHaveLength(12);
    for (const t of result.tensors) expect(t, t.name).toMatchObject({ l2Diff: 0, maxAbsDiff: 0, relChange: 0, stoppedMoving: true });
    for (const t of result.tensors) expect(t.cosine, t.name).toBeCloseTo(1, 12);
    expect(result.notes.join(' ')).toContain('weight mapping');
  });

  it(
    'compares a checkpoint imported from that export, copied or linked in place, with the one it came from: all differences 0',
    { timeout: 60_000 },
    async () => {
      const root = await workspace([presetState(5)]);
      const { api } = await studioOn(root);
      const source = (await api.latest({})).id;
      for (const mode of ['copy', 'link'] as const) {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compare-import-')), 'tf');
        onCleanup(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
        await api.exportCheckpoint({ target: source, format: 'tf', out });
        const report = await api.importFolders({ sources: [out], into: `imported-${mode}`, mode });
        expect(report.results[0], mode).toMatchObject({ ok: true });
        const [imported] = await api.listCheckpoints({ run: `imported-${mode}` });
        const result = await api.compareCheckpoints({ a: source, b: imported?.id as string });
        expect(result.b, mode).toMatchObject({ label: imported?.id, format: 'tf-bundle' });
        expect(result.tensors, mode).toHaveLength(12);
        for (const t of result.tensors) expect(t, `${mode} ${t.name}`).toMatchObject({ l2Diff: 0, maxAbsDiff: 0, relChange: 0 });
        expect(result.onlyInA, mode).toEqual([]);
      }
    },
  );

  it('refuses a checkpoint with a changed byte, naming the file and the tensor', async () => {
    const root = await workspace([trainingState(10), trainingState(20)]);
    const { api } = await studioOn(root);
    const [first, second] = await api.listCheckpoints({ run: 'run' });
    const file = path.join(second?.path as string, 'model.safetensors');
    flipTensorByte(file, 'dense/bias', 1);
    const failure = await api.compareCheckpoints({ a: first?.id as string, b: second?.id as string }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'damaged' });
    expect((failure as Error).message).toContain(file);
    expect((failure as Error).message).toContain('"dense/bias"');
  });
});
