// One rule of wholeness: listing, verify, latest, best and resume agree on every folder.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, NotFoundError, RefusedError } from '../../electron/core/base/errors.js';
import { loadCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { rejectionOf, rewriteManifest, thrownBy, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

async function run(steps: number[], metrics?: (step: number) => Record<string, number>): Promise<CheckpointStore> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('r1', { parent: null, config: {} });
  for (const step of steps) await writer.save(trainingState(step, metrics ? { metrics: metrics(step) } : {}));
  await writer.close();
  return store;
}

const dir = (store: CheckpointStore, name: string): string => path.join(store.root, 'r1', name);

describe('a checkpoint is whole only when it is', () => {
  it('a manifest whose step is not its folder step is damaged for ls, verify, latest, best and resume alike', async () => {
    const store = await run([10, 12], (step) => ({ loss: step === 12 ? 0.1 : 0.5 }));
    rewriteManifest(dir(store, 'ckpt-000000012'), (m) => {
      m.step = 14;
    });
    await store.catalog.refresh();
    const listed = store.catalog.get('r1/ckpt-000000012');
    expect(listed?.status).toBe('damaged');
    expect(listed?.statusReason).toContain('says step 14, but the folder ckpt-000000012 holds step 12');
    const { results } = await store.verify(['r1/ckpt-000000012']);
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.problems[0]?.problem).toContain('says step 14');
    expect(store.resolve('latest').id).toBe('r1/ckpt-000000010');
    expect(store.resolve('best', { metric: 'loss' }).id).toBe('r1/ckpt-000000010');
    expect((await rejectionOf(store.load('r1/ckpt-000000012'), RefusedError)).message).toContain('cannot be resumed from: it is damaged');
    await rejectionOf(loadCheckpoint(dir(store, 'ckpt-000000012')), CheckpointFormatError);
  });

  it('a trained checkpoint without its optimizer file, or with no files at all, is incomplete: listed, never latest, best or resumed', async () => {
    const store = await run([1, 2, 3], () => ({ loss: 0.1 }));
    rewriteManifest(dir(store, 'ckpt-000000003'), (m) => {
      delete (m.files as Record<string, unknown>)['optimizer.safetensors'];
      m.tensors = (m.tensors as { file: string }[]).filter((t) => t.file !== 'optimizer.safetensors');
    });
    rewriteManifest(dir(store, 'ckpt-000000002'), (m) => {
      m.files = {};
      m.tensors = [];
    });
    await store.catalog.refresh();
    expect(store.catalog.list().map((c) => [c.step, c.status])).toEqual([
      [1, 'unverified'],
      [2, 'incomplete'],
      [3, 'incomplete'],
    ]);
    expect(store.catalog.get('r1/ckpt-000000003')?.statusReason).toContain(
      'holds no optimizer state, so training cannot continue from it (optimizer.safetensors is not listed)',
    );
    expect(store.catalog.get('r1/ckpt-000000002')?.statusReason).toContain('holds no model weights (model.safetensors is not listed)');
    expect(store.resolve('latest').id).toBe('r1/ckpt-000000001');
    expect(store.resolve('best', { metric: 'loss' }).id).toBe('r1/ckpt-000000001');
    const { results } = await store.verify(['r1/ckpt-000000002', 'r1/ckpt-000000003']);
    expect(results.map((r) => [r.ok, r.structure])).toEqual([
      [false, 'incomplete'],
      [false, 'incomplete'],
    ]);
    expect(results[1]?.problems.map((p) => p.problem)).toEqual([expect.stringContaining('holds no optimizer state')]);
    await rejectionOf(store.load('r1/ckpt-000000003'), RefusedError);
    // A retention pass leaves them for a person to look at.
    const plan = await store.planRetention('r1', { policy: { keepLast: 1 } });
    expect(plan.delete.map((d) => d.id)).toEqual([]);
  });

  it('a file listed in the manifest with no tensor of it is incomplete when verified', async () => {
    const store = await run([1]);
    rewriteManifest(dir(store, 'ckpt-000000001'), (m) => {
      m.tensors = (m.tensors as { file: string }[]).filter((t) => t.file !== 'model.safetensors');
    });
    const { results } = await store.verify(['r1/ckpt-000000001']);
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.problems.map((p) => p.problem)).toContain('present in the file but has no manifest entry');
    expect(results[0]?.problems.some((p) => p.problem.includes('lists no tensor of model.safetensors'))).toBe(true);
  });
});

describe('two folders holding one step', () => {
  async function twins(): Promise<CheckpointStore> {
    const store = await run([10, 12], () => ({ loss: 0.1 }));
    fs.cpSync(dir(store, 'ckpt-000000012'), dir(store, 'ckpt-12'), { recursive: true });
    await store.catalog.refresh();
    return store;
  }

  it('are both listed, each naming the other', async () => {
    const store = await twins();
    expect(store.catalog.list().map((c) => [c.id, c.sameStepAs])).toEqual([
      ['r1/ckpt-000000010', []],
      ['r1/ckpt-000000012', ['r1/ckpt-12']],
      ['r1/ckpt-12', ['r1/ckpt-000000012']],
    ]);
  });

  it('are never picked by latest, best, a step selector or resume; an exact name still selects its folder', async () => {
    const store = await twins();
    for (const selector of ['latest', 'best']) {
      const error = thrownBy(() => store.resolve(selector, { metric: 'loss' }), RefusedError);
      expect(error.message).toContain('ambiguous: step 12 of run "r1" is held by more than one folder (');
    }
    thrownBy(() => store.resolve('r1/ckpt-0012'), RefusedError);
    expect(store.resolve('r1/ckpt-12').path).toBe(dir(store, 'ckpt-12'));
    await rejectionOf(store.load('r1/ckpt-12'), RefusedError);
    // Deleting one by its exact name resolves it.
    await store.delete(['r1/ckpt-12']);
    expect(store.resolve('latest').id).toBe('r1/ckpt-000000012');
    expect(store.catalog.get('r1/ckpt-000000012')?.sameStepAs).toEqual([]);
  });

  it('are kept by retention until a person chooses', async () => {
    const store = await twins();
    const plan = await store.planRetention('r1', { policy: { keepLast: 1 } });
    expect(plan.delete.map((d) => d.id)).toEqual(['r1/ckpt-000000010']);
    expect(plan.keep.find((k) => k.id === 'r1/ckpt-12')?.reasons).toContain('holds the same step as r1/ckpt-000000012: left for you to resolve');
  });

  it('a twin arriving later is announced, and marks the first one too', async () => {
    const store = await run([10, 12]);
    const events: string[] = [];
    store.catalog.subscribe((e) =>
      events.push(e.type === 'removed' ? `removed ${e.id}` : `${e.type} ${e.checkpoint.id} [${e.checkpoint.sameStepAs.join(',')}]`),
    );
    fs.cpSync(dir(store, 'ckpt-000000012'), dir(store, 'ckpt-12'), { recursive: true });
    await store.catalog.refreshCheckpoint('r1', 'ckpt-12');
    expect(events).toEqual(['added r1/ckpt-12 [r1/ckpt-000000012]', 'changed r1/ckpt-000000012 [r1/ckpt-12]']);
  });
});

describe('selectors', () => {
  it('a step written without its zeros finds the folder; an unknown one is not found', async () => {
    const store = await run([100]);
    expect(store.resolve('r1/ckpt-100').id).toBe('r1/ckpt-000000100');
    thrownBy(() => store.resolve('r1/ckpt-200'), NotFoundError);
  });
});
