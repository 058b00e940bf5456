// Distributions of a run in an S3 workspace (a real Ceph gateway): the figures the same run gives
// copied down to a folder; cached in this user's cache folder, keyed by each tensor's CRC-32C and
// its object's ETag, so asking again reads no tensor byte, and reading writes nothing in the bucket.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TensorDistributions } from '../../electron/contract.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { downloadPrefix } from '../../electron/core/checkpoint/stored-copy.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { f32, makeTempWorkspace, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const WORKSPACE = 's3://distributions-s3/ws';

useTempWorkspaces();

function state(step: number): ReturnType<typeof trainingState> {
  const base = trainingState(step);
  const count = 300_000;
  const large: Tensor = {
    name: 'embedding',
    dtype: 'F32',
    shape: [count],
    data: f32(Array.from({ length: count }, (_, i) => Math.sin(step + i * 0.01) * step)),
  };
  return { ...base, model: [...base.model, large] };
}

async function studio(workspace: string): Promise<Studio> {
  const opened = new Studio();
  onCleanup(() => opened.close());
  await opened.api.openWorkspace({ path: workspace, readOnly: true });
  return opened;
}

async function keys(storage: S3Storage): Promise<string[]> {
  const found: string[] = [];
  for await (const object of storage.list('')) found.push(`${object.key}@${object.tag ?? ''}`);
  return found;
}

/** The figures, without whether they came from a cache. */
const figures = (d: TensorDistributions): unknown => ({ ...d, points: d.points.map(({ cached: _c, ...p }) => p), bytesRead: 0, cache: null, notes: [] });

describe.skipIf(!s3Available())('distributions of a run in S3', () => {
  const storageOf = useS3Storage(WORKSPACE, async (storage) => {
    await storage.write('run/run.json', JSON.stringify({ formatVersion: 1, name: 'run', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'run/.lock/');
    for (const step of [10, 20, 30]) await commitCheckpoint(storage, lease, 'run/', 'run', state(step));
    await lease.release();
  });
  let storage: S3Storage;
  let cacheHome: string;
  beforeAll(() => {
    storage = storageOf();
    for (const [name, value] of Object.entries(gatewayEnv())) vi.stubEnv(name, value);
    cacheHome = fs.mkdtempSync(path.join(fs.realpathSync(process.env['TMPDIR'] ?? '/tmp'), 'cs-s3-cache-'));
    vi.stubEnv('XDG_CACHE_HOME', cacheHome);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    fs.rmSync(cacheHome, { recursive: true, force: true });
  });

  it(
    'gives the figures of the same run copied down, then answers again from this machine’s cache, writing nothing in the bucket',
    { timeout: 90_000 },
    async () => {
      const before = await keys(storage);
      const { api } = await studio(WORKSPACE);
      const { root } = makeTempWorkspace();
      await downloadPrefix(storage, 'run/', path.join(root, 'run'), (relative) => relative === 'run.json' || relative.startsWith('ckpt-'));
      const local = (await studio(root)).api;

      expect(await api.tensorNames({ run: 'run' })).toEqual(await local.tensorNames({ run: 'run' }));
      const first = await api.tensorDistributions({ run: 'run', tensor: 'embedding' });
      expect(first.problems).toEqual([]);
      expect(first.points.map((p) => p.step)).toEqual([10, 20, 30]);
      expect(first.cache).toBe('machine');
      expect(first.bytesRead).toBeGreaterThan(3 * 1_200_000);
      expect(figures(first)).toEqual(figures(await local.tensorDistributions({ run: 'run', tensor: 'embedding' })));

      const again = await api.tensorDistributions({ run: 'run', tensor: 'embedding' });
      expect(again.bytesRead).toBe(0);
      expect(again.points.every((p) => p.cached)).toBe(true);
      expect(figures(again)).toEqual(figures(first));
      expect(fs.readdirSync(path.join(cacheHome, 'checkpoint-studio', 'distributions')).length).toBe(3);
      expect(await keys(storage)).toEqual(before);
    },
  );

  it('reads a tensor again whose object was replaced, and names it when its bytes no longer match the manifest', { timeout: 90_000 }, async () => {
    const { api } = await studio(WORKSPACE);
    const key = 'run/ckpt-000000020/model.safetensors';
    const bytes = await storage.read(key);
    const changed = Uint8Array.from(bytes);
    changed[changed.length - 1] = (changed[changed.length - 1] as number) ^ 0xff;
    await storage.write(key, changed);
    try {
      const after = await api.tensorDistributions({ run: 'run', tensor: 'embedding' });
      expect(after.points.map((p) => p.step)).toEqual([10, 30]);
      expect(after.problems).toEqual([
        { id: 'run/ckpt-000000020', message: expect.stringMatching(/ckpt-000000020\/model\.safetensors.*embedding.*CRC32C mismatch/) },
      ]);
    } finally {
      await storage.write(key, bytes);
    }
  });
});
