// compareCheckpoints where the checkpoints are objects in a bucket (a real Ceph gateway): both in
// the open S3 workspace, or one named by its s3:// address and one a folder of this machine. The
// answer is the one the same comparison gives on copies of the same files on disk; a changed
// byte in the bucket is an error naming the object and the tensor.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CompareResult } from '../../electron/contract.js';
import { commitCheckpoint } from '../../electron/core/checkpoint/storage-writer.js';
import { downloadPrefix } from '../../electron/core/checkpoint/stored-copy.js';
import type { Tensor } from '../../electron/core/checkpoint/safetensors.js';
import { acquireLease } from '../../electron/core/storage/lease-lock.js';
import type { S3Storage } from '../../electron/core/storage/s3-storage.js';
import { Studio } from '../../electron/core/studio/studio.js';
import { f32, flipTensorByte, makeTempWorkspace, onCleanup, trainingState, useTempWorkspaces } from '../store/helpers.js';
import { s3Available } from './s3-available.js';
import { gatewayEnv, useS3Storage } from './shared-gateway.js';

const WORKSPACE = 's3://compare-s3/team/ws';
const [FIRST, SECOND] = ['run/ckpt-000000010', 'run/ckpt-000000020'];

useTempWorkspaces();

/** The small state, plus a tensor larger than a stream chunk (4 MB), so both the batched and the streamed path are taken. */
function state(step: number): ReturnType<typeof trainingState> {
  const base = trainingState(step);
  const count = 1_200_000;
  const large: Tensor = { name: 'embedding', dtype: 'F32', shape: [count], data: f32(Array.from({ length: count }, (_, i) => Math.sin(step + i * 0.001))) };
  return { ...base, model: [...base.model, large] };
}

async function studio(workspace?: string): Promise<Studio> {
  const opened = new Studio();
  onCleanup(() => opened.close());
  if (workspace !== undefined) await opened.api.openWorkspace({ path: workspace, readOnly: true });
  return opened;
}

async function copyDown(storage: S3Storage, id: string): Promise<string> {
  const { base } = makeTempWorkspace();
  const dir = path.join(base, ...id.split('/'));
  await downloadPrefix(storage, `${id}/`, dir);
  return dir;
}

/** What a comparison says of the tensors, without where the sides were read from. */
function figures(result: CompareResult): Omit<CompareResult, 'a' | 'b'> {
  const { a: _a, b: _b, ...rest } = result;
  return rest;
}

describe.skipIf(!s3Available())('comparing checkpoints in S3', () => {
  const storageOf = useS3Storage(WORKSPACE, async (storage) => {
    await storage.write('run/run.json', JSON.stringify({ formatVersion: 1, name: 'run', createdAt: '2026-12-07T10:00:00.000Z', parent: null, config: {} }));
    const lease = await acquireLease(storage, 'run/.lock/');
    for (const step of [10, 20]) await commitCheckpoint(storage, lease, 'run/', 'run', state(step));
    await lease.release();
  });
  let storage: S3Storage;
  beforeAll(() => {
    storage = storageOf();
    // The comparison's worker reaches the gateway as a user's shell would tell it to.
    for (const [name, value] of Object.entries(gatewayEnv())) vi.stubEnv(name, value);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('gives, for two checkpoints of the open S3 workspace, the answer the same files give on disk', { timeout: 60_000 }, async () => {
    const remote = await (await studio(WORKSPACE)).api.compareCheckpoints({ a: 'run/ckpt-10', b: 'latest' });
    expect(remote.a).toMatchObject({ label: FIRST, path: `${WORKSPACE}/${FIRST}`, step: 10, format: 'checkpoint-studio' });
    expect(remote.b).toMatchObject({ target: 'latest', label: SECOND, step: 20 });
    const local = await (await studio()).api.compareCheckpoints({ a: await copyDown(storage, FIRST), b: await copyDown(storage, SECOND) });
    expect(remote.tensors.map((t) => t.name)).toContain('embedding');
    expect(remote.tensors).toHaveLength(6);
    expect(figures(remote)).toEqual(figures(local));
  });

  it('compares an s3:// address with a folder of this machine, with no workspace open', { timeout: 60_000 }, async () => {
    const folder = await copyDown(storage, FIRST);
    const mixed = await (await studio()).api.compareCheckpoints({ a: `${WORKSPACE}/${SECOND}`, b: folder });
    expect(mixed.a).toMatchObject({ path: `${WORKSPACE}/${SECOND}`, step: 20 });
    expect(mixed.b).toMatchObject({ path: folder, step: 10 });
    const local = await (await studio()).api.compareCheckpoints({ a: await copyDown(storage, SECOND), b: folder });
    expect(figures(mixed)).toEqual(figures(local));
  });

  it('names the object and the tensor whose bytes in the bucket no longer match the manifest', { timeout: 60_000 }, async () => {
    const damaged = 'run/ckpt-000000030';
    const lease = await acquireLease(storage, 'run/.lock/');
    await commitCheckpoint(storage, lease, 'run/', 'run', state(30));
    await lease.release();
    for (const [tensor, file] of [
      ['dense/bias', 'model.safetensors'],
      ['embedding', 'model.safetensors'],
    ] as const) {
      const dir = await copyDown(storage, damaged);
      flipTensorByte(path.join(dir, file), tensor, 4);
      await storage.write(`${damaged}/${file}`, fs.readFileSync(path.join(dir, file)));
      const compared = (await studio()).api.compareCheckpoints({ a: `${WORKSPACE}/${FIRST}`, b: `${WORKSPACE}/${damaged}` });
      await expect(compared).rejects.toThrow(`${WORKSPACE}/${damaged}/${file}`);
      await expect(compared).rejects.toThrow(new RegExp(`${tensor}.*CRC32C mismatch`));
      // Put back for the next tensor.
      flipTensorByte(path.join(dir, file), tensor, 4);
      await storage.write(`${damaged}/${file}`, fs.readFileSync(path.join(dir, file)));
    }
  });
});
