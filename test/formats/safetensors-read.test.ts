// read() over files large enough to need several reads: tensors larger than one read, runs of
// small tensors that share a buffer, gaps skipped when only some tensors are wanted. Its speed next
// to a plain fs.readFile of the same bytes is npm run bench:import's.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { type Tensor, encodeSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import type { ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { openOne, readAll, useTempDirs } from './safetensors-helpers.js';

const tempDir = useTempDirs();
const MB = 1024 * 1024;

/** Random bytes, so a misplaced slice cannot match. */
function patterned(name: string, bytes: number): Tensor {
  return { name, dtype: 'U8', shape: [bytes], data: new Uint8Array(randomBytes(bytes)) };
}

/** Descriptors this process holds open on `file` (Linux), or null where that cannot be seen. */
function openDescriptors(file: string): number | null {
  if (!fs.existsSync('/proc/self/fd')) return null;
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  }).length;
}

function writeModel(tensors: readonly Tensor[]): string {
  const file = path.join(tempDir(), 'model.safetensors');
  const encoded = encodeSafetensors(file, tensors);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, encoded.header);
    for (const payload of encoded.payloads) fs.writeSync(fd, payload);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function expectSame(reads: readonly ForeignTensorData[], tensors: readonly Tensor[]): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const read of reads) {
    const original = byName.get(read.tensor.name);
    expect(original, read.tensor.name).toBeDefined();
    expect(read.data.byteLength).toBe(original?.data.byteLength);
    expect(Buffer.from(read.data.buffer, read.data.byteOffset, read.data.byteLength).equals(original?.data ?? new Uint8Array()), read.tensor.name).toBe(true);
    expect(read.storedCrc32c, read.tensor.name).toBe(crc32c(original?.data ?? new Uint8Array()));
  }
}

describe('reading large files', () => {
  it('tensors bigger than one read, runs of small ones, a zero-size one: every byte and CRC right, all kept', async () => {
    const tensors = [
      patterned('big.a', 19 * MB + 3),
      patterned('big.b', 9 * MB - 5),
      ...Array.from({ length: 40 }, (_, i) => patterned(`small.${String(i).padStart(2, '0')}`, MB / 2 + i)),
      patterned('tiny', 3),
      { name: 'empty', dtype: 'U8' as const, shape: [0], data: new Uint8Array(0) },
    ];
    const checkpoint = await openOne(writeModel(tensors));
    const reads = await readAll(checkpoint);
    expect(reads.map((r) => r.tensor.name)).toEqual(checkpoint.tensors.map((t) => t.name));
    expect(reads).toHaveLength(tensors.length);
    // Compared after all were read: a later read must not overwrite a tensor already handed out.
    expectSame(reads, tensors);
  });

  it('only some tensors: the gaps between them are skipped or read through, never handed out', async () => {
    const tensors = Array.from({ length: 30 }, (_, i) => patterned(`layer.${String(i).padStart(2, '0')}`, i % 7 === 0 ? 3 * MB : 64 * 1024 + i));
    const checkpoint = await openOne(writeModel(tensors));
    const wanted = new Set(['layer.00', 'layer.03', 'layer.04', 'layer.14', 'layer.29']);
    const reads = await readAll(checkpoint, { names: wanted });
    expect(reads.map((r) => r.tensor.name)).toEqual([...wanted].sort());
    expectSame(reads, tensors);
  });

  it('stopping early closes the file', async () => {
    const file = writeModel([patterned('a', 9 * MB), patterned('b', 9 * MB)]);
    const checkpoint = await openOne(file);
    for await (const read of safetensorsReader.read(checkpoint)) {
      expect(read.tensor.name).toBe('a');
      if (openDescriptors(file) !== null) expect(openDescriptors(file)).toBe(1);
      break;
    }
    if (openDescriptors(file) !== null) expect(openDescriptors(file)).toBe(0);
  });
});
