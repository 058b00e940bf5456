import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NotFoundError } from '../../electron/core/base/errors.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { flipTensorByte, readJson, rejectionOf, rewriteManifest, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();

type Metrics = Record<string, number | null>;

/**
 * Saves with the clock set a second after the previous save: the store stamps createdAt from
 * Date, and "latest across runs" is the last written, so each save gets its own time without
 * waiting for the clock to move.
 */
let clock = Date.parse('2026-01-01T00:00:00.000Z');
async function saveLater<T>(save: () => Promise<T>): Promise<T> {
  clock += 1000;
  vi.useFakeTimers({ toFake: ['Date'], now: clock });
  try {
    return await save();
  } finally {
    vi.useRealTimers();
  }
}

/** What writing a file again later does to its mtime (the verify cache's clue), without waiting for the clock. */
function writtenLater(file: string): void {
  const { atimeMs, mtimeMs } = fs.statSync(file);
  fs.utimesSync(file, new Date(atimeMs), new Date(mtimeMs + 1000));
}

async function workspaceWith(runs: Record<string, [number, Metrics][]>): Promise<CheckpointStore> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  for (const [run, checkpoints] of Object.entries(runs)) {
    const writer = await store.createRun(run, { parent: null, config: {} });
    for (const [step, metrics] of checkpoints) {
      await saveLater(() => writer.save(trainingState(step, { metrics })));
    }
    await writer.close();
  }
  await store.catalog.refresh();
  return store;
}

const ckpt = (store: CheckpointStore, run: string, step: number): string => path.join(store.root, run, `ckpt-${String(step).padStart(9, '0')}`);

describe('statuses', () => {
  it('unverified after save, verified after verify, damaged with a reason after a byte flip and verify', async () => {
    const store = await workspaceWith({
      r1: [
        [100, { loss: 1 }],
        [200, { loss: 0.5 }],
      ],
    });
    expect(store.catalog.list().map((c) => [c.id, c.status, c.statusReason])).toEqual([
      ['r1/ckpt-000000100', 'unverified', null],
      ['r1/ckpt-000000200', 'unverified', null],
    ]);
    const info = store.catalog.get('r1/ckpt-000000100');
    expect(info).toMatchObject({ run: 'r1', step: 100, path: ckpt(store, 'r1', 100), origin: 'trained', linked: false, pinned: false, backend: 'cpu' });
    const files = ['model.safetensors', 'optimizer.safetensors', 'manifest.json'].map((f) => fs.statSync(path.join(ckpt(store, 'r1', 100), f)).size);
    expect(info?.bytes).toBe(files.reduce((a, b) => a + b, 0));

    const { results } = await store.verify(['r1/ckpt-000000100', 'r1/ckpt-000000200']);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(store.catalog.list().map((c) => c.status)).toEqual(['verified', 'verified']);

    flipTensorByte(path.join(ckpt(store, 'r1', 200), 'model.safetensors'), 'dense/kernel', 2);
    writtenLater(path.join(ckpt(store, 'r1', 200), 'model.safetensors'));
    await store.catalog.refresh();
    // The cached verification no longer holds for the modified file.
    expect(store.catalog.get('r1/ckpt-000000200')?.status).toBe('unverified');
    const [result] = (await store.verify(['r1/ckpt-000000200'])).results;
    expect(result?.ok).toBe(false);
    const damaged = store.catalog.get('r1/ckpt-000000200');
    expect(damaged?.status).toBe('damaged');
    expect(damaged?.statusReason).toContain(`${path.join(ckpt(store, 'r1', 200), 'model.safetensors')}: tensor "dense/kernel": CRC32C mismatch`);
    expect(store.catalog.get('r1/ckpt-000000100')?.status).toBe('verified');
  });

  it('damaged without verification when a file size differs; incomplete without a manifest', async () => {
    const store = await workspaceWith({
      r1: [
        [1, {}],
        [2, {}],
      ],
    });
    const model = path.join(ckpt(store, 'r1', 1), 'model.safetensors');
    fs.truncateSync(model, 10);
    fs.mkdirSync(ckpt(store, 'r1', 3));
    await store.catalog.refresh();
    expect(store.catalog.get('r1/ckpt-000000001')).toMatchObject({ status: 'damaged', bytes: 0 });
    expect(store.catalog.get('r1/ckpt-000000001')?.statusReason).toMatch(new RegExp(`^${model}: truncated: 10 bytes, the manifest says \\d+$`));
    expect(store.catalog.get('r1/ckpt-000000003')).toMatchObject({
      status: 'incomplete',
      statusReason: `${path.join(ckpt(store, 'r1', 3), 'manifest.json')}: missing (the checkpoint was never finished)`,
    });
    expect(store.catalog.get('r1/ckpt-000000002')?.status).toBe('unverified');
    expect(store.catalog.getRun('r1')?.checkpointCount).toBe(3);
  });

  it('a manifest whose step disagrees with its folder name is damaged', async () => {
    const store = await workspaceWith({ r1: [[5, {}]] });
    rewriteManifest(ckpt(store, 'r1', 5), (m) => {
      m.step = 6;
    });
    await store.catalog.refresh();
    expect(store.catalog.get('r1/ckpt-000000005')?.status).toBe('damaged');
    expect(store.catalog.get('r1/ckpt-000000005')?.statusReason).toContain('says step 6, but the folder ckpt-000000005 holds step 5');
  });
});

describe('latest and best', () => {
  it('latest per run and across the workspace never returns damaged or incomplete checkpoints', async () => {
    const store = await workspaceWith({
      a: [
        [100, {}],
        [200, {}],
        [300, {}],
      ],
      b: [[50, {}]],
    });
    // b/50 is the newest write, but damaged; a/300 is the highest step of a, also damaged.
    const writer = await store.openRunWriter('b');
    await saveLater(() => writer.save(trainingState(60)));
    await writer.close();
    fs.truncateSync(path.join(ckpt(store, 'b', 60), 'optimizer.safetensors'), 12);
    flipTensorByte(path.join(ckpt(store, 'a', 300), 'model.safetensors'), 'dense/bias');
    fs.mkdirSync(ckpt(store, 'a', 400));
    await store.catalog.refresh();
    await store.verify(['a/ckpt-000000300']);
    expect(store.catalog.list().map((c) => `${c.id}:${c.status}`)).toEqual([
      'a/ckpt-000000100:unverified',
      'a/ckpt-000000200:unverified',
      'a/ckpt-000000300:damaged',
      'a/ckpt-000000400:incomplete',
      'b/ckpt-000000050:unverified',
      'b/ckpt-000000060:damaged',
    ]);
    expect(store.catalog.latest('a')?.id).toBe('a/ckpt-000000200');
    expect(store.catalog.latest('b')?.id).toBe('b/ckpt-000000050');
    // Across runs: the most recently written usable one (b/50 was written after a/*).
    expect(store.catalog.latest()?.id).toBe('b/ckpt-000000050');
    expect(store.resolve('latest', { run: 'a' }).id).toBe('a/ckpt-000000200');
    fs.rmSync(ckpt(store, 'b', 50), { recursive: true });
    await store.catalog.refresh();
    expect(store.catalog.latest()?.id).toBe('a/ckpt-000000200');
    expect(store.catalog.latest('nope')).toBeNull();
    expect(
      (
        await rejectionOf(
          Promise.resolve().then(() => store.resolve('latest', { run: 'nope' })),
          NotFoundError,
        )
      ).message,
    ).toContain('no complete checkpoint in run "nope" to call latest');
  });

  it('best by min and by max on different metrics, skipping damaged ones and ones without the metric', async () => {
    const store = await workspaceWith({
      r1: [
        [100, { loss: 0.9, val_loss: 1.0, accuracy: 0.5 }],
        [200, { loss: 0.4, val_loss: 0.7, accuracy: 0.8 }],
        [300, { loss: 0.1, val_loss: 0.2, accuracy: 0.99 }], // damaged below
        [400, { loss: 0.3, accuracy: 0.7 }], // no val_loss
        [500, { loss: null, val_loss: 0.6 }], // diverged loss, no accuracy
        [600, { loss: 0.6, val_loss: 0.65, accuracy: 0.75 }],
      ],
      r2: [[10, { loss: 0.2, val_loss: 0.9, accuracy: 0.6 }]],
    });
    flipTensorByte(path.join(ckpt(store, 'r1', 300), 'optimizer.safetensors'), 'adam/m/dense/kernel');
    await store.verify(['r1/ckpt-000000300']);
    expect(store.catalog.get('r1/ckpt-000000300')?.status).toBe('damaged');

    expect(store.catalog.best('loss', 'min', 'r1')?.id).toBe('r1/ckpt-000000400');
    expect(store.catalog.best('val_loss', 'min', 'r1')?.id).toBe('r1/ckpt-000000500');
    expect(store.catalog.best('accuracy', 'max', 'r1')?.id).toBe('r1/ckpt-000000200');
    expect(store.catalog.best('accuracy', 'min', 'r1')?.id).toBe('r1/ckpt-000000100');
    expect(store.catalog.best('loss', 'max', 'r1')?.id).toBe('r1/ckpt-000000100');
    // Across runs.
    expect(store.catalog.best('loss', 'min')?.id).toBe('r2/ckpt-000000010');
    expect(store.resolve('best', { metric: 'accuracy', mode: 'max' }).id).toBe('r1/ckpt-000000200');
    expect(store.catalog.best('perplexity', 'min')).toBeNull();
    expect(store.catalog.metricNames()).toEqual(['accuracy', 'loss', 'val_loss']);
  });

  it('ties go to the later step', async () => {
    const store = await workspaceWith({
      r1: [
        [1, { loss: 0.5 }],
        [2, { loss: 0.5 }],
        [3, { loss: 0.7 }],
      ],
    });
    expect(store.catalog.best('loss', 'min')?.id).toBe('r1/ckpt-000000002');
  });
});

describe('runs and lineage', () => {
  it('a run continued from a checkpoint shows its parent; the catalog reports run totals', async () => {
    const store = await workspaceWith({
      base: [
        [100, {}],
        [200, {}],
      ],
    });
    const child = await store.createRun('finetune', { parent: { run: 'base', step: 200 }, config: { lr: 0.01 } });
    await child.save(trainingState(300, { parent: { run: 'base', step: 200 } }));
    await child.close();
    await store.catalog.refresh();
    const run = store.catalog.getRun('finetune');
    expect(run?.parent).toEqual({ run: 'base', step: 200 });
    expect(run?.createdAt).toBe(readJson(path.join(store.root, 'finetune', 'run.json')).createdAt);
    expect(run?.checkpointCount).toBe(1);
    expect(run?.bytes).toBe(store.catalog.get('finetune/ckpt-000000300')?.bytes);
    expect(store.catalog.get('finetune/ckpt-000000300')?.parent).toEqual({ run: 'base', step: 200 });
    expect(store.catalog.getRun('base')?.parent).toBeNull();
    expect(store.catalog.listRuns().map((r) => r.name)).toEqual(['base', 'finetune']);
  });

  it('a checkpoint folder copied in by another program, into a folder without run.json, is listed', async () => {
    const store = await workspaceWith({ r1: [[100, { loss: 0.3 }]] });
    fs.mkdirSync(path.join(store.root, 'from-elsewhere'));
    fs.cpSync(ckpt(store, 'r1', 100), ckpt(store, 'from-elsewhere', 100), { recursive: true });
    // Folders that are neither runs nor checkpoints are not listed.
    fs.mkdirSync(path.join(store.root, 'notes'));
    fs.writeFileSync(path.join(store.root, 'notes', 'todo.txt'), 'x');
    fs.mkdirSync(path.join(store.root, 'r1', 'not-a-checkpoint'));
    await store.catalog.refresh();
    expect(store.catalog.listRuns().map((r) => [r.name, r.createdAt, r.parent])).toEqual([
      ['from-elsewhere', null, null],
      ['r1', expect.any(String), null],
    ]);
    const copied = store.catalog.get('from-elsewhere/ckpt-000000100');
    expect(copied).toMatchObject({ status: 'unverified', run: 'from-elsewhere', step: 100, metrics: { loss: 0.3 } });
    const [result] = (await store.verify(['from-elsewhere/ckpt-000000100'])).results;
    expect(result?.ok).toBe(true);
    expect(store.catalog.list().map((c) => c.id)).toEqual(['from-elsewhere/ckpt-000000100', 'r1/ckpt-000000100']);
  });
});

describe('the verify cache', () => {
  it('survives reopening the store and is invalidated when a file is modified', async () => {
    const store = await workspaceWith({
      r1: [
        [1, {}],
        [2, {}],
      ],
    });
    await store.verify(['r1/ckpt-000000001', 'r1/ckpt-000000002']);
    const cacheFile = path.join(store.root, '.studio', 'verified.json');
    const cache = readJson<{ version: number; entries: Record<string, { ok: boolean }> }>(cacheFile);
    expect(Object.keys(cache.entries).sort()).toEqual(['r1/ckpt-000000001', 'r1/ckpt-000000002']);

    const reopened = await CheckpointStore.open(store.root);
    expect(reopened.catalog.list().map((c) => c.status)).toEqual(['verified', 'verified']);

    const target = path.join(ckpt(store, 'r1', 2), 'optimizer.safetensors');
    const bytes = fs.readFileSync(target);
    fs.writeFileSync(target, bytes); // same bytes, but written again: the verification no longer vouches for it
    writtenLater(target);
    const third = await CheckpointStore.open(store.root);
    expect(third.catalog.list().map((c) => c.status)).toEqual(['verified', 'unverified']);

    // A damaged cache costs only re-verification.
    fs.writeFileSync(cacheFile, '{broken');
    const fourth = await CheckpointStore.open(store.root);
    expect(fourth.catalog.list().map((c) => c.status)).toEqual(['unverified', 'unverified']);
  });

  it('remembers a failed verification until the files change', async () => {
    const store = await workspaceWith({ r1: [[1, {}]] });
    flipTensorByte(path.join(ckpt(store, 'r1', 1), 'model.safetensors'), 'dense/kernel');
    await store.verify(['r1/ckpt-000000001']);
    const reopened = await CheckpointStore.open(store.root);
    expect(reopened.catalog.get('r1/ckpt-000000001')?.status).toBe('damaged');
    expect(reopened.catalog.get('r1/ckpt-000000001')?.statusReason).toContain('CRC32C mismatch');
  });
});

describe('large manifests', () => {
  it('a checkpoint with a manifest over 64 KB (thousands of tensors) is listed and verifies', async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('many', { parent: null, config: {} });
    const model = Array.from({ length: 1500 }, (_, i) => ({
      name: `block_${String(i).padStart(4, '0')}/a_rather_long_layer_name_for_the_manifest/kernel`,
      dtype: 'F32' as const,
      shape: [2],
      data: new Uint8Array(new Float32Array([i, -i]).buffer),
    }));
    await writer.save({ ...trainingState(1), model });
    await writer.close();
    const manifestSize = fs.statSync(path.join(ckpt(store, 'many', 1), 'manifest.json')).size;
    expect(manifestSize).toBeGreaterThan(64 * 1024);
    const reopened = await CheckpointStore.open(root);
    expect(reopened.catalog.get('many/ckpt-000000001')?.status).toBe('unverified');
    expect((await reopened.verify(['many/ckpt-000000001'])).results[0]?.ok).toBe(true);
  });
});

describe('what listing checks and what verification checks', () => {
  it('a broken tensor index is not read when listing, and is reported as damage by verify', async () => {
    const store = await workspaceWith({ r1: [[100, { loss: 1 }]] });
    rewriteManifest(ckpt(store, 'r1', 100), (m) => {
      (m.tensors as { crc32c: string }[])[0]!.crc32c = 'not-a-crc';
    });
    await store.catalog.refresh();
    // Listing validates the summary (step, metrics, files and sizes) only: fast for 10,000.
    expect(store.catalog.get('r1/ckpt-000000100')?.status).toBe('unverified');
    const [result] = (await store.verify(['r1/ckpt-000000100'])).results;
    expect(result?.ok).toBe(false);
    expect(result?.problems[0]?.problem).toMatch(/manifest\.json: tensors\.0\.crc32c/);
    expect(store.catalog.get('r1/ckpt-000000100')?.status).toBe('damaged');
  });
});
