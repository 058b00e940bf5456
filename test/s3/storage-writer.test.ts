// A checkpoint committed into S3 by its manifest, against a real Ceph gateway: the same bytes as
// on disk, nothing listed before the commit, never written over, nothing committed by a writer
// whose lease was taken over, and the checks before the uploads asked beside them, by HEADs.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE } from '../../electron/core/checkpoint/layout.js';
import { ManifestSchema } from '../../electron/core/checkpoint/manifest.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { WRITER_MARK, commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { writeCheckpoint } from '../../electron/core/checkpoint/writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { f32, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

async function keys(storage: S3Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out;
}

async function pendingUploads(storage: S3Storage, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const u of storage.listUploads(prefix)) out.push(u.key);
  return out;
}

/** A tensor of 12 MB: its file goes up in several parts. */
function large(seed: number): Tensor {
  const count = 3_000_000;
  return { name: 'embedding', dtype: 'F32', shape: [count], data: f32(Array.from({ length: count }, (_, i) => Math.sin(i * 0.001 + seed))) };
}

describe.skipIf(!s3Available())('committing a checkpoint into S3', () => {
  const temp = useTempWorkspaces();
  const storageOf = useS3Storage('s3://ckpts/ws');
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });

  it('puts up the same bytes as the disk writer, the manifest last, and refuses the same step again', async () => {
    const lease = await acquireLease(storage, 'mnist/.lock/');
    try {
      const state = trainingState(120);
      const stored = await commitCheckpoint(storage, lease, 'mnist/', 'mnist', state);
      expect(stored.key).toBe('mnist/ckpt-000000120/');
      const runDir = path.join(temp().base, 'mnist');
      mkdirSync(runDir);
      const local = await writeCheckpoint(runDir, 'mnist', state);
      for (const file of [MODEL_FILE, OPTIMIZER_FILE])
        expect(Buffer.from(await storage.read(`${stored.key}${file}`)).equals(readFileSync(path.join(local.dir, file)))).toBe(true);
      const manifest = ManifestSchema.parse(JSON.parse(new TextDecoder().decode(await storage.read(`${stored.key}${MANIFEST_FILE}`))));
      expect(manifest.tensors).toEqual(local.manifest.tensors);
      expect(manifest.files).toEqual(local.manifest.files);
      await expect(commitCheckpoint(storage, lease, 'mnist/', 'mnist', trainingState(120, { loss: 0.5 }))).rejects.toThrow(
        's3://ckpts/ws/mnist/ckpt-000000120/: refused: a checkpoint with this step already exists',
      );
      const manifestAfter = await storage.read(`${stored.key}${MANIFEST_FILE}`);
      expect(JSON.parse(new TextDecoder().decode(manifestAfter)).metrics).toEqual(manifest.metrics);
    } finally {
      await lease.release();
    }
  });

  it('leaves no manifest when the writer dies after uploading, and marks what it left with its lease', async () => {
    const lease = await acquireLease(storage, 'crash/.lock/');
    await expect(
      commitCheckpoint(storage, lease, 'crash/', 'crash', trainingState(5), {
        afterStep: (step) => {
          if (step === 'optimizer-written') throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const left = await keys(storage, 'crash/ckpt-000000005/');
    expect(left).toEqual(['crash/ckpt-000000005/model.safetensors', 'crash/ckpt-000000005/optimizer.safetensors']);
    const head = await storage.client.send(new HeadObjectCommand({ Bucket: 'ckpts', Key: 'ws/crash/ckpt-000000005/model.safetensors' }));
    expect(head.Metadata?.[WRITER_MARK]).toBe(`${lease.holder.host}:${lease.holder.pid}:${lease.holder.token}`);
    await lease.release();
  });

  it('commits nothing once its lease was taken over', async () => {
    const stalled = await acquireLease(storage, 'taken/.lock/', { leaseMs: 1000 });
    await new Promise((r) => setTimeout(r, 3000));
    const taker = await acquireLease(storage, 'taken/.lock/', { leaseMs: 1000 });
    await expect(commitCheckpoint(storage, stalled, 'taken/', 'taken', trainingState(1))).rejects.toThrow('lock ran out and was taken over');
    expect(await keys(storage, 'taken/ckpt-')).toEqual([]);
    await taker.release();
  }, 20_000);

  it('replaces nothing of a committed checkpoint when its step comes again, and leaves no upload behind', { timeout: 60_000 }, async () => {
    const lease = await acquireLease(storage, 'again/.lock/');
    try {
      const first = trainingState(7);
      const stored = await commitCheckpoint(storage, lease, 'again/', 'again', { ...first, model: [...first.model, large(1)] });
      const before = await Promise.all([MODEL_FILE, OPTIMIZER_FILE].map((f) => storage.read(`${stored.key}${f}`)));
      const second = trainingState(7, { loss: 0.25 });
      await expect(commitCheckpoint(storage, lease, 'again/', 'again', { ...second, model: [...second.model, large(2)] })).rejects.toThrow(
        'a checkpoint with this step already exists',
      );
      const after = await Promise.all([MODEL_FILE, OPTIMIZER_FILE].map((f) => storage.read(`${stored.key}${f}`)));
      expect(after.map((bytes, i) => Buffer.from(bytes).equals(before[i] as Uint8Array))).toEqual([true, true]);
      expect(await pendingUploads(storage, 'again/')).toEqual([]);
    } finally {
      await lease.release();
    }
  });

  it('leaves nothing behind, not even an upload, when its lease was taken over', { timeout: 20_000 }, async () => {
    const stalled = await acquireLease(storage, 'taken-large/.lock/', { leaseMs: 1000 });
    await new Promise((r) => setTimeout(r, 3000));
    const taker = await acquireLease(storage, 'taken-large/.lock/', { leaseMs: 1000 });
    const state = trainingState(1);
    await expect(commitCheckpoint(storage, stalled, 'taken-large/', 'taken-large', { ...state, model: [...state.model, large(3)] })).rejects.toThrow(
      'lock ran out and was taken over',
    );
    expect(await keys(storage, 'taken-large/ckpt-')).toEqual([]);
    expect(await pendingUploads(storage, 'taken-large/')).toEqual([]);
    await taker.release();
  });

  it(
    'asks whether the step is free beside the uploads, not before them, checks its lease with HEADs, no listing, and records the commit with no HEAD after it',
    { timeout: 60_000 },
    async () => {
      const lease = await acquireLease(storage, 'overlap/.lock/');
      // The first question about the step is answered only once the upload has begun (or, where the
      // uploads wait for the answer, after 10 s, and the test fails).
      let uploadBegan: () => void = () => undefined;
      const began = new Promise<void>((resolve) => (uploadBegan = resolve));
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'CreateMultipartUploadCommand' || context.commandName === 'PutObjectCommand') uploadBegan();
          return next(args);
        },
        { step: 'initialize', name: 'uploadBegan' },
      );
      let answeredAfterUpload: boolean | null = null;
      const delayed: S3Storage = Object.create(storage, {
        stat: {
          value: async (key: string) => {
            if (answeredAfterUpload === null && key.endsWith(MANIFEST_FILE)) {
              answeredAfterUpload = await Promise.race([began.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
            }
            return storage.stat(key);
          },
        },
      });
      const count = (command: string): number => storage.requests.get(command) ?? 0;
      const before = { lists: count('ListObjectsV2Command'), heads: count('HeadObjectCommand') };
      try {
        const state = trainingState(3);
        await commitCheckpoint(delayed, lease, 'overlap/', 'overlap', { ...state, model: [...state.model, large(4)] });
        expect(answeredAfterUpload).toBe(true);
        expect(count('ListObjectsV2Command') - before.lists).toBe(0);
        // The lease before the uploads and before the manifest, the step before the uploads; the run
        // index takes the manifest's tag from its PUT, not from a HEAD after it.
        expect(count('HeadObjectCommand') - before.heads).toBe(3);
      } finally {
        storage.client.middlewareStack.remove('uploadBegan');
        await lease.release();
      }
    },
  );
});
