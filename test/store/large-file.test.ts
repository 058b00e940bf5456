// A tensor file larger than 4 GiB (what one Node.js 20 buffer can hold) is verified in chunks
// like any other; only loading a single tensor that large into memory is refused, by name.
// The file is sparse, so the test needs no disk space and little time.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, formatCrc } from '../../electron/core/base/crc32c.js';
import { DamagedTensorError } from '../../electron/core/base/errors.js';
import { loadCheckpoint } from '../../electron/core/checkpoint/reader.js';
import { CheckpointStore } from '../../electron/core/checkpoint/store.js';
import { rewriteManifest, trainingState, useTempWorkspaces } from './helpers.js';

const makeWorkspace = useTempWorkspaces();
/** Just past 4 GiB: the tensor alone is larger than buffer.constants.MAX_LENGTH on Node 20. */
const BIG = 2 ** 32 + 64 * 1024 * 1024;

function crcOfZeros(length: number): string {
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  let crc = 0;
  for (let done = 0; done < length; done += zeros.length) crc = crc32c(zeros.subarray(0, Math.min(zeros.length, length - done)), crc);
  return formatCrc(crc);
}

/** Replaces a checkpoint's model file with a sparse one holding a small F32 tensor and BIG zero bytes. */
function writeSparseModel(dir: string): { size: number } {
  const tail = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  const json = JSON.stringify({
    tail: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    big: { dtype: 'U8', shape: [BIG], data_offsets: [16, 16 + BIG] },
  });
  const padded = Math.ceil(json.length / 8) * 8;
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  header.write(json, 8);
  const file = path.join(dir, 'model.safetensors');
  fs.writeFileSync(file, Buffer.concat([header, tail]));
  const size = header.length + 16 + BIG;
  fs.truncateSync(file, size);
  rewriteManifest(dir, (m) => {
    (m.files as Record<string, { bytes: number }>)['model.safetensors'] = { bytes: size };
    m.tensors = [
      ...(m.tensors as { file: string }[]).filter((t) => t.file !== 'model.safetensors'),
      { file: 'model.safetensors', name: 'tail', dtype: 'F32', shape: [4], bytes: 16, crc32c: formatCrc(crc32c(tail)) },
      { file: 'model.safetensors', name: 'big', dtype: 'U8', shape: [BIG], bytes: BIG, crc32c: crcOfZeros(BIG) },
    ];
  });
  return { size };
}

describe('a tensor file larger than 4 GiB', () => {
  it('is listed with its size, verified in chunks, and a changed byte at its end is found; loading it says why it cannot', { timeout: 180_000 }, async () => {
    const { root } = makeWorkspace();
    const store = await CheckpointStore.open(root);
    const writer = await store.createRun('big', { parent: null, config: {} });
    await writer.save(trainingState(1));
    await writer.close();
    const dir = path.join(store.root, 'big', 'ckpt-000000001');
    const { size } = writeSparseModel(dir);
    await store.catalog.refresh();
    const listed = store.catalog.get('big/ckpt-000000001');
    expect(listed?.status).toBe('unverified');
    expect(listed?.bytes).toBeGreaterThan(size);

    const first = (await store.verify(['big/ckpt-000000001'])).results[0];
    expect(first?.problems).toEqual([]);
    expect(first?.ok).toBe(true);

    const load = await loadCheckpoint(dir).catch((error: unknown) => error);
    expect(load).toBeInstanceOf(DamagedTensorError);
    expect((load as Error).message).toContain('tensor "big": is 4362076160 bytes, more than this Node.js can hold in one buffer');

    const fd = fs.openSync(path.join(dir, 'model.safetensors'), 'r+');
    fs.writeSync(fd, Buffer.from([7]), 0, 1, size - 1);
    fs.closeSync(fd);
    const second = (await store.verify(['big/ckpt-000000001'])).results[0];
    expect(second?.ok).toBe(false);
    expect(second?.problems.map((p) => [p.tensor, p.problem.split(':')[0]])).toEqual([['big', 'CRC32C mismatch']]);
  });
});
