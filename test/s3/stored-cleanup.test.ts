// Cleaning up after writers killed mid-save, against a real Ceph gateway: a dead writer's
// uncommitted objects and unfinished multipart uploads go; a live writer's, unmarked objects and
// other programs' uploads stay, each with its reason.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { WRITER_MARK, commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { cleanupAbandonedWrites } from '../../electron/core/checkpoint/stored-cleanup.js';
import { listStoredWorkspace } from '../../electron/core/checkpoint/stored-listing.js';
import { serializeJournal } from '../../electron/core/checkpoint/stored-trash-journal.js';
import { type LeaseLock, acquireLease, readLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

async function keys(storage: S3Storage, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
}

async function uploads(storage: S3Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const u of storage.listUploads('')) out.push(u.key);
  return out.sort();
}

/** A save killed after its tensors went up: marked objects, no manifest. */
async function killedSave(storage: S3Storage, lease: LeaseLock, run: string, step: number): Promise<void> {
  await expect(
    commitCheckpoint(storage, lease, `${run}/`, run, trainingState(step), {
      afterStep: (s) => {
        if (s === 'optimizer-written') throw new Error('killed');
      },
    }),
  ).rejects.toThrow('killed');
}

/** A multipart upload begun, one part sent, never completed (the process died). */
async function unfinishedUpload(storage: S3Storage, key: string): Promise<void> {
  const Key = `${storage.where.prefix}${key}`;
  const started = await storage.client.send(new CreateMultipartUploadCommand({ Bucket: storage.where.bucket, Key, Metadata: { [WRITER_MARK]: 'h:1:t' } }));
  await storage.client.send(
    new UploadPartCommand({ Bucket: storage.where.bucket, Key, UploadId: started.UploadId, PartNumber: 1, Body: new Uint8Array(1024).fill(7) }),
  );
}

/** The next lock generation, as a process of this host that has since died left it. */
async function deadHolderTakes(storage: S3Storage, prefix: string, generation: number): Promise<void> {
  const pid = spawnSync(process.execPath, ['-e', '0']).pid;
  const holder = { host: os.hostname(), pid, since: new Date().toISOString(), token: 'dead', leaseMs: 60_000, released: false };
  await storage.write(`${prefix}${String(generation).padStart(10, '0')}`, JSON.stringify(holder), { exclusive: true });
}

describe.skipIf(!s3Available())('cleaning up abandoned writes in S3', () => {
  const storageOf = useS3Storage('s3://cleanup/ws');
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it('removes a dead writer’s uncommitted objects and unfinished upload, and leaves a live writer’s, unmarked objects and others’ uploads', async () => {
    const dead = await acquireLease(storage, 'dead/.lock/');
    await commitCheckpoint(storage, dead, 'dead/', 'dead', trainingState(1));
    await killedSave(storage, dead, 'dead', 2);
    await storage.write('dead/ckpt-000000002/notes.txt', 'a person’s notes');
    await unfinishedUpload(storage, 'dead/ckpt-000000003/model.safetensors');
    // The writer dies: its process is gone (the lock's next generation, taken by a process since dead, stands for it).
    await deadHolderTakes(storage, 'dead/.lock/', dead.generation + 1);

    const live = await acquireLease(storage, 'live/.lock/');
    try {
      await killedSave(storage, live, 'live', 9);
      await unfinishedUpload(storage, 'live/ckpt-000000010/model.safetensors');
      await unfinishedUpload(storage, 'other/big.bin');

      const result = await cleanupAbandonedWrites(storage);
      expect(result.removed.map((r) => r.key).sort()).toEqual([
        'dead/ckpt-000000002/model.safetensors',
        'dead/ckpt-000000002/optimizer.safetensors',
        'dead/ckpt-000000003/model.safetensors',
      ]);
      expect(Object.fromEntries(result.left.map((r) => [r.key, r.reason]))).toEqual({
        'dead/ckpt-000000002/notes.txt': 'not marked as written by Checkpoint Studio; left alone',
        'live/ckpt-000000009/model.safetensors': expect.stringContaining(`being written by process ${process.pid} on ${os.hostname()}`),
        'live/ckpt-000000009/optimizer.safetensors': expect.stringContaining('lease live'),
        'live/ckpt-000000010/model.safetensors': expect.stringContaining('lease live'),
        'other/big.bin': 'not a checkpoint file of a run of ours; left alone',
      });
      expect(await uploads(storage)).toEqual(['live/ckpt-000000010/model.safetensors', 'other/big.bin']);
      expect(await keys(storage, 'dead/ckpt-')).toEqual([
        'dead/ckpt-000000001/manifest.json',
        'dead/ckpt-000000001/model.safetensors',
        'dead/ckpt-000000001/optimizer.safetensors',
        'dead/ckpt-000000002/notes.txt',
      ]);
      expect(await keys(storage, 'live/ckpt-')).toEqual(['live/ckpt-000000009/model.safetensors', 'live/ckpt-000000009/optimizer.safetensors']);
      const listing = await listStoredWorkspace(storage, { writeIndex: false });
      expect(listing.runs.find((r) => r.name === 'dead')?.checkpoints.map((c) => [c.step, c.status])).toEqual([[1, 'complete']]);
    } finally {
      await live.release();
    }
  });

  it('removes a writer’s leftovers once its lease ran out on the store’s clock, and not before', async () => {
    const lease = await acquireLease(storage, 'far/.lock/', { leaseMs: 3000 });
    await killedSave(storage, lease, 'far', 4);
    const far = (items: readonly { key: string }[]): string[] => items.map((r) => r.key).filter((k) => k.startsWith('far/'));
    // Not released, not renewed: it stalled (or its machine went away).
    const early = await cleanupAbandonedWrites(storage);
    expect(far(early.removed)).toEqual([]);
    expect(far(early.left)).toEqual(['far/ckpt-000000004/model.safetensors', 'far/ckpt-000000004/optimizer.safetensors']);
    await vi.waitFor(async () => expect((await readLease(storage, 'far/.lock/'))?.live).toBe(false), { timeout: 15_000, interval: 250 });
    const result = await cleanupAbandonedWrites(storage);
    expect(far(result.removed)).toEqual(['far/ckpt-000000004/model.safetensors', 'far/ckpt-000000004/optimizer.safetensors']);
    expect(await keys(storage, 'far/ckpt-')).toEqual([]);
  });

  it('aborts a copy into the trash left unfinished once its batch is done or gone, not while it is under way', async () => {
    const journal = (batch: string, state: 'moving' | 'done'): string =>
      serializeJournal({
        version: 1,
        batch,
        mode: 'copy',
        state,
        deletedAt: new Date().toISOString(),
        reason: 'delete',
        entries: [
          {
            id: `${batch}-0000`,
            run: 'run',
            dirName: 'ckpt-000000001',
            step: 1,
            bytes: 1,
            folder: 'run/ckpt-000000001/',
            objects: [{ key: 'run/ckpt-000000001/manifest.json', size: 1, tag: null }],
          },
        ],
      });
    await storage.write('.trash/000000000002.json', journal('000000000002', 'moving'));
    await storage.write('.trash/000000000003.json', journal('000000000003', 'done'));
    for (const batch of ['000000000001', '000000000002', '000000000003'])
      await unfinishedUpload(storage, `.trash/${batch}/run/ckpt-000000001/model.safetensors`);
    const result = await cleanupAbandonedWrites(storage);
    const trash = (items: readonly { key: string; reason: string }[]): [string, string][] =>
      items.filter((r) => r.key.startsWith('.trash/')).map((r) => [r.key.split('/')[1] ?? '', r.reason]);
    expect(
      trash(result.removed)
        .map(([batch]) => batch)
        .sort(),
    ).toEqual(['000000000001', '000000000003']);
    expect(trash(result.left)).toEqual([['000000000002', expect.stringContaining('under way')]]);
    expect((await uploads(storage)).filter((k) => k.startsWith('.trash/'))).toEqual(['.trash/000000000002/run/ckpt-000000001/model.safetensors']);
  });
});
