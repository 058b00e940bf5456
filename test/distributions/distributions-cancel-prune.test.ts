// Distributions (issue 17, second round): a request named by an id can be cancelled (its call
// fails as cancelled, its worker stops unless another request waits on the same figures, and the
// question asked again is computed afresh); the cache in `.studio/distributions` drops the entries
// whose checkpoint file is gone and, past its size cap, the least recently used.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StudioApi } from '../../electron/contract.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { type CacheEntry, DistributionCache, pruneCache } from '../../electron/core/distributions/distribution-cache.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { f32, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';

const makeWorkspace = useTempWorkspaces();
const ELEMENTS = 1 << 20;

/** A run of three checkpoints whose `big` tensor (4 MiB) takes the worker a while to read. */
async function workspace(): Promise<{ root: string; dirs: string[] }> {
  const { root } = makeWorkspace();
  const store = await CheckpointStore.open(root);
  const writer = await store.createRun('alpha', { parent: null, config: {} });
  const dirs: string[] = [];
  for (const step of [100, 200, 300]) {
    const state = trainingState(step);
    const model: Tensor[] = [
      { name: 'big', dtype: 'F32', shape: [ELEMENTS], data: f32(Array.from({ length: ELEMENTS }, (_, i) => Math.sin(i + step))) },
      ...state.model,
    ];
    dirs.push((await writer.save({ ...state, model })).dir);
  }
  await writer.close();
  return { root: store.root, dirs };
}

async function open(root: string): Promise<StudioApi> {
  const studio = new Studio();
  onCleanup(() => studio.close());
  await studio.api.openWorkspace({ path: root });
  return studio.api;
}

/** Resolves at the first progress report of a computation under way: its worker is reading. */
function firstProgress(api: StudioApi): Promise<void> {
  return new Promise((resolve) => {
    const off = api.on('distributions:progress', () => {
      off();
      resolve();
    });
  });
}

describe('cancelling distributions', () => {
  it('fails the cancelled request as cancelled, and the question asked again is computed afresh', async () => {
    const { root } = await workspace();
    const api = await open(root);
    const started = firstProgress(api);
    const request = api.tensorDistributions({ run: 'alpha', tensor: 'big', distributionsId: 'one' }).catch((error: unknown) => error);
    await started;
    expect(await api.cancelDistributions({ distributionsId: 'one' })).toEqual({ cancelled: true });
    const failure = await request;
    expect(failure).toMatchObject({ code: 'refused' });
    expect((failure as Error).message).toContain('cancelled');
    expect(await api.cancelDistributions({ distributionsId: 'one' })).toEqual({ cancelled: false });
    // The stopped worker cached nothing of the second pass; asking again reads the files.
    const again = await api.tensorDistributions({ run: 'alpha', tensor: 'big', distributionsId: 'two' });
    expect(again.points).toHaveLength(3);
    expect(again.points.some((p) => p.cached)).toBe(false);
  });

  it('keeps computing for another request waiting on the same figures', async () => {
    const { root } = await workspace();
    const api = await open(root);
    const started = firstProgress(api);
    const first = api.tensorDistributions({ run: 'alpha', tensor: 'big', distributionsId: 'first' }).catch((error: unknown) => error);
    const second = api.tensorDistributions({ run: 'alpha', tensor: 'big', distributionsId: 'second' });
    await started;
    expect(await api.cancelDistributions({ distributionsId: 'first' })).toEqual({ cancelled: true });
    expect(await first).toMatchObject({ code: 'refused' });
    const answer = await second;
    expect(answer.points.map((p) => p.step)).toEqual([100, 200, 300]);
    expect(answer.bytesRead).toBeGreaterThan(0);
  });
});

describe('the distributions cache', () => {
  let folder = '';
  afterEach(() => {
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  const entry: CacheEntry = {
    summary: { count: 1, finite: 1, nan: 0, inf: 0, min: 0, max: 0, mean: 0, std: 0, quantiles: [0], quantileMethod: 'exact', quantileError: 0 },
    histogram: { lo: 0, hi: 1, bins: 1, counts: [1] },
  };

  it('drops the entries whose checkpoint file is gone, then the least recently used past its cap', async () => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'distributions-cache-'));
    const dir = path.join(folder, 'distributions');
    const cache = new DistributionCache({ dir, writable: true });
    const files = Array.from({ length: 10 }, (_, i) => path.join(folder, `checkpoint-${i}.safetensors`));
    for (const [i, file] of files.entries()) {
      fs.writeFileSync(file, '');
      await cache.write(`key${i}`, { ...entry, checkpoint: file });
      // key0 the least recently used, key9 the most.
      fs.utimesSync(path.join(dir, `key${i}.json`), 1000 + i, 1000 + i);
    }
    fs.rmSync(files[3] as string);
    expect(await pruneCache(dir)).toMatchObject({ orphaned: 1, evicted: 0 });
    expect(fs.existsSync(path.join(dir, 'key3.json'))).toBe(false);

    // A hit makes key0 the most recently used: the cap drops key1, key2, key4… instead.
    expect(await cache.read('key0')).toEqual(entry);
    const size = fs.statSync(path.join(dir, 'key1.json')).size;
    // 9 entries left; a cap of 6 keeps at most 4.5 (75% of the cap) of them: the 4 most recently used.
    const pruned = await pruneCache(dir, 6 * size);
    expect(pruned).toMatchObject({ orphaned: 0, evicted: 5 });
    expect(fs.readdirSync(dir).sort()).toEqual(['key0.json', 'key7.json', 'key8.json', 'key9.json']);
  });

  it('prunes after a computation: a deleted checkpoint’s entries go', async () => {
    const { root, dirs } = await workspace();
    const api = await open(root);
    await api.tensorDistributions({ run: 'alpha', tensor: 'big' });
    const cached = path.join(root, '.studio', 'distributions');
    expect(fs.readdirSync(cached)).toHaveLength(3);
    const [, middle] = await api.listCheckpoints({ run: 'alpha' });
    expect(middle?.path).toBe(dirs[1]);
    await api.deleteCheckpoints({ targets: [middle?.id as string] });
    // Another tensor's figures are written, and the cache pruned: the deleted checkpoint's `big` is gone.
    const other = await api.tensorDistributions({ run: 'alpha', tensor: 'dense/bias' });
    expect(other.points).toHaveLength(2);
    const entries = fs.readdirSync(cached).map((name) => JSON.parse(fs.readFileSync(path.join(cached, name), 'utf8')) as { checkpoint: string });
    expect(entries).toHaveLength(4);
    expect(entries.every((e) => !e.checkpoint.startsWith(dirs[1] as string))).toBe(true);
  });
});
