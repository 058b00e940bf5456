// Listing a workspace in S3, against a real Ceph gateway: committed checkpoints only, other
// programs' objects reported, and after the first listing no manifest read again (one LIST page
// and one index GET per run), unless its manifest changed.
import { beforeAll, describe, expect, it } from 'vitest';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

describe.skipIf(!s3Available())('listing a workspace in S3', () => {
  const storageOf = useS3Storage('s3://listing/team/ws', async (storage) => {
    for (const [run, steps] of [
      ['alpha', [10, 20]],
      ['beta', [5]],
    ] as const) {
      await storage.write(`${run}/run.json`, JSON.stringify({ name: run }));
      const lease = await acquireLease(storage, `${run}/.lock/`);
      for (const step of steps) await commitCheckpoint(storage, lease, `${run}/`, run, trainingState(step));
      await lease.release();
    }
    // A save a crash cut short, and objects another program put there.
    await storage.write('beta/ckpt-000000009/model.safetensors', 'partial');
    await storage.write('notes.txt', 'not ours');
    await storage.write('tb/events.out.tfevents.1.host', 'not ours either');
  });
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it('lists committed checkpoints by run, a cut save as uncommitted, and other programs’ objects as foreign, from the indexes their writer kept', async () => {
    const listing = await listStoredWorkspace(storage);
    expect(listing.runs.map((r) => [r.name, r.checkpoints.map((c) => c.step), r.uncommitted])).toEqual([
      ['alpha', [10, 20], []],
      ['beta', [5], ['beta/ckpt-000000009/']],
    ]);
    expect(listing.runs[0]?.checkpoints[1]).toMatchObject({ status: 'complete', manifest: { step: 20, metrics: trainingState(20).metrics } });
    expect(listing.foreign).toEqual(['notes.txt', 'tb/events.out.tfevents.1.host']);
    // The writer kept each run's index as it committed: even the first listing reads no manifest.
    expect(listing.manifestsRead).toBe(0);
  });

  it('reads no manifest again once the run index vouches for them: one LIST and one GET per run', async () => {
    await listStoredWorkspace(storage);
    storage.requests.clear();
    const again = await listStoredWorkspace(storage);
    expect(again.manifestsRead).toBe(0);
    expect(Object.fromEntries(storage.requests)).toEqual({ ListObjectsV2Command: 1, GetObjectCommand: 2 });
  });

  it('reads a manifest again when it changed behind the index, and calls a garbled one damaged, naming it', async () => {
    await listStoredWorkspace(storage);
    await storage.write('alpha/ckpt-000000010/manifest.json', '{ not json');
    const listing = await listStoredWorkspace(storage);
    expect(listing.manifestsRead).toBe(1);
    const damaged = listing.runs[0]?.checkpoints[0];
    expect(damaged).toMatchObject({ step: 10, status: 'damaged', manifest: null });
    expect(damaged?.problem).toContain('s3://listing/team/ws/alpha/ckpt-000000010/manifest.json');
  });

  it('calls a committed checkpoint damaged when a file its manifest names is missing or of another size, from the listing alone', async () => {
    await storage.remove(['alpha/ckpt-000000020/optimizer.safetensors']);
    await storage.write('beta/ckpt-000000005/model.safetensors', 'short');
    storage.requests.clear();
    const listing = await listStoredWorkspace(storage);
    expect(listing.runs[0]?.checkpoints[1]).toMatchObject({
      step: 20,
      status: 'damaged',
      problem: 's3://listing/team/ws/alpha/ckpt-000000020/optimizer.safetensors: missing',
    });
    expect(listing.runs[1]?.checkpoints[0]?.problem).toMatch(
      /^s3:\/\/listing\/team\/ws\/beta\/ckpt-000000005\/model\.safetensors: is 5 bytes, the manifest says \d+$/,
    );
    // Found from the keys and sizes listed: no tensor file was read (only the indexes, and the manifest the last test garbled).
    expect(storage.requests.get('GetObjectCommand') ?? 0).toBeLessThanOrEqual(3);
  });
});
