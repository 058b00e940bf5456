// Verify and load a checkpoint in S3, against a real Ceph gateway: the same checks as on disk,
// each problem naming the s3:// object and the tensor.
import { beforeAll, describe, expect, it } from 'vitest';
import { MODEL_FILE, OPTIMIZER_FILE } from '../../electron/core/checkpoint/layout.js';
import { loadStoredCheckpoint, verifyStoredCheckpoint } from '../../electron/core/checkpoint/stored-checkpoint.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { trainingState } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { useS3Storage } from './shared-gateway.js';

describe.skipIf(!s3Available())('verifying and loading a checkpoint in S3', () => {
  const storageOf = useS3Storage('s3://verify/ws');
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
  });
  const committed = async (run: string, step: number): Promise<string> => {
    const lease = await acquireLease(storage, `${run}/.lock/`);
    try {
      return (await commitCheckpoint(storage, lease, `${run}/`, run, trainingState(step))).key;
    } finally {
      await lease.release();
    }
  };

  it('finds a whole checkpoint whole, and loads the tensors it was given', async () => {
    const folder = await committed('good', 40);
    const verified = await verifyStoredCheckpoint(storage, folder);
    expect(verified).toMatchObject({ ok: true, structure: 'complete', problems: [] });
    const loaded = await loadStoredCheckpoint(storage, folder);
    const state = trainingState(40);
    const byName = (tensors: readonly { name: string; data: Uint8Array }[]) => Object.fromEntries(tensors.map((t) => [t.name, [...t.data]]));
    expect(byName(loaded.model)).toEqual(byName(state.model));
    expect(byName(loaded.optimizer)).toEqual(byName(state.optimizer));
    expect(loaded.manifest.step).toBe(40);
  });

  it('names the object and the tensor whose bytes changed, and refuses to load it', async () => {
    const folder = await committed('flipped', 7);
    const bytes = await storage.read(`${folder}${MODEL_FILE}`);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await storage.write(`${folder}${MODEL_FILE}`, bytes);
    const verified = await verifyStoredCheckpoint(storage, folder);
    expect(verified.ok).toBe(false);
    expect(verified.problems).toEqual([
      expect.objectContaining({
        file: `s3://verify/ws/${folder}${MODEL_FILE}`,
        tensor: expect.any(String),
        problem: expect.stringContaining('CRC32C mismatch'),
      }),
    ]);
    await expect(loadStoredCheckpoint(storage, folder)).rejects.toThrow(`s3://verify/ws/${folder}${MODEL_FILE}: tensor`);
  });

  it('says which object is missing or cut short, and that a folder without a manifest was never committed', async () => {
    const folder = await committed('cut', 9);
    await storage.remove([`${folder}${OPTIMIZER_FILE}`]);
    const bytes = await storage.read(`${folder}${MODEL_FILE}`);
    await storage.write(`${folder}${MODEL_FILE}`, bytes.subarray(0, bytes.length - 4));
    const verified = await verifyStoredCheckpoint(storage, folder);
    expect(verified.problems.map((p) => `${p.file}: ${p.problem}`)).toEqual(
      expect.arrayContaining([
        `s3://verify/ws/${folder}${OPTIMIZER_FILE}: missing`,
        expect.stringContaining(`s3://verify/ws/${folder}${MODEL_FILE}: is ${bytes.length - 4} bytes, the manifest says ${bytes.length}`),
      ]),
    );
    expect(await verifyStoredCheckpoint(storage, 'cut/ckpt-000000010/')).toMatchObject({
      ok: false,
      structure: 'incomplete',
      problems: [{ file: 's3://verify/ws/cut/ckpt-000000010/manifest.json', problem: 'missing (the checkpoint was never committed)' }],
    });
  });
});
