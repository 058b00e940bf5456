// Two processes, one bucket, against a real Ceph gateway: a trainer (the command line, its own
// process) saves every step into S3 while this process — another machine, as far as the bucket
// can tell — lists, verifies, prunes and deletes. Nothing listed is ever less than whole, the
// trainer's checkpoints are refused to the other process while it writes, and nothing it saved is
// lost.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { StoredWorkspace } from '../../electron/core/checkpoint/stored-store.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(root, 'bin/checkpoint-studio.js');
const ADDRESS = 's3://two-processes/ws';

describe.skipIf(!s3Available())('two processes, one bucket', () => {
  const storageOf = useS3Storage(ADDRESS, async (storage) => {
    await storage.write('old/run.json', JSON.stringify({ formatVersion: 1, name: 'old', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'old/.lock/');
    for (const step of [1, 2, 3, 4, 5, 6]) await commitCheckpoint(storage, lease, 'old/', 'old', trainingState(step));
    await lease.release();
  });
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it('a trainer saving every step while another process lists, verifies, prunes and deletes: nothing lost, nothing listed that is not whole', async () => {
    const trainer = spawn(
      process.execPath,
      [
        bin,
        'train',
        '--workspace',
        ADDRESS,
        '--run',
        'live',
        '--epochs',
        '1',
        '--train-limit',
        '384',
        '--batch-size',
        '32',
        '--save-every-steps',
        '1',
        '--backend',
        'cpu',
      ],
      { env: { ...process.env, ...gatewayEnv() }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    trainer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    trainer.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => trainer.on('exit', (code) => resolve(code)));
    let running = true;
    void exited.then(() => (running = false));

    const other = await StoredWorkspace.on(storage);
    const verified = new Set<string>();
    let refusedWhileWriting = 0;
    let rounds = 0;
    while (running || rounds < 3) {
      rounds += 1;
      await other.catalog.refresh();
      const live = other.catalog.list('live');
      const unverified = live.filter((c) => !verified.has(c.id)).map((c) => c.id);
      if (unverified.length > 0) {
        const outcome = await other.verify(unverified);
        for (const [i, result] of outcome.results.entries()) {
          // Listed means whole: every listed checkpoint verifies, whenever it is looked at.
          expect(result.ok, `${unverified[i]}: ${JSON.stringify(result.problems)}`).toBe(true);
          verified.add(unverified[i] as string);
        }
      }
      const writing = other.catalog.getRun('live')?.writer;
      const first = live[0];
      if (writing && first) {
        await expect(other.delete([first.id])).rejects.toThrow(/being written by process/);
        refusedWhileWriting += 1;
      }
      // The other run is this process's to prune and delete, meanwhile.
      if (rounds === 2) await other.applyRetention(await other.planRetention('old', { policy: { keepLast: 3 } }));
      if (rounds === 3) await other.delete(['old/ckpt-000000004']);
    }
    expect(await exited, output).toBe(0);

    await other.catalog.refresh();
    // 384 examples, 32 a batch: 12 steps, every one saved, none lost, every one whole.
    const steps = other.catalog.list('live').map((c) => c.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const final = await other.verify(other.catalog.list('live').map((c) => c.id));
    expect(final.results.every((r) => r.ok)).toBe(true);
    expect(other.catalog.list('old').map((c) => c.step)).toEqual([5, 6]);
    expect(refusedWhileWriting).toBeGreaterThan(0);
  }, 180_000);
});
