// Single safetensors files through the foreign reader: the huggingface/safetensors sample files
// (one per dtype, an older writer that does not pad its header), tinygrad's safe_save output
// (header padded with spaces), and files our own writer makes for export.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { type Dtype, tensorByteLength } from '../../electron/core/base/dtypes.js';
import { type Tensor, encodeSafetensors } from '../../electron/core/checkpoint/safetensors.js';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { sharedFixture } from '../fixtures.js';
import {
  EXPECTED_SAMPLE_VALUES,
  SAMPLE_DTYPES,
  type SampleName,
  copySample,
  openOne,
  readAll,
  sample,
  sampleValues,
  useTempDirs,
} from './safetensors-helpers.js';

const tempDir = useTempDirs();

describe('the huggingface/safetensors sample files', () => {
  for (const [letter, dtype] of Object.entries(SAMPLE_DTYPES) as [SampleName, string][]) {
    it(`${letter}.safetensors: one ${dtype} tensor [6] holding -3..2, with its __metadata__`, async () => {
      const file = sample(letter);
      expect(await safetensorsReader.sniff(file)).toBe(true);
      const source = await safetensorsReader.open(file);
      expect(source.path).toBe(file);
      expect(source.latest).toBe(`${letter}.safetensors`);
      const [checkpoint] = source.checkpoints;
      expect(checkpoint).toMatchObject({
        format: 'safetensors',
        dir: path.dirname(file),
        name: `${letter}.safetensors`,
        step: null,
        savedAt: null,
        files: [{ name: `${letter}.safetensors`, bytes: fs.statSync(file).size, role: 'tensors' }],
      });
      expect(checkpoint?.tensors).toEqual([
        {
          name: letter,
          displayName: letter,
          dtype,
          shape: [6],
          file: `${letter}.safetensors`,
          offset: fs.statSync(file).size - (tensorByteLength(dtype as Dtype, [6]) ?? 0),
          bytes: tensorByteLength(dtype as Dtype, [6]),
          role: 'model',
        },
      ]);
      expect(checkpoint?.notes).toEqual([`${letter}.safetensors __metadata__: test="a"`]);
      if (checkpoint === undefined) return;
      const [read] = await readAll(checkpoint);
      expect(read?.tensor.name).toBe(letter);
      expect(sampleValues(dtype, read?.data ?? new Uint8Array())).toEqual(EXPECTED_SAMPLE_VALUES[dtype]);
      // safetensors stores no checksum: ours is the CRC of exactly the tensor's bytes in the file.
      const bytes = fs.readFileSync(file);
      expect(read?.storedCrc32c).toBe(crc32c(bytes.subarray(checkpoint.tensors[0]?.offset)));
    });
  }

  it('overall.safetensors: all nine tensors in offset order, each with its values and its own CRC', async () => {
    const file = sample('overall');
    const checkpoint = await openOne(file);
    expect(checkpoint.tensors.map((t) => t.name)).toEqual(['B', 'H', 'I', 'b', 'd', 'e', 'f', 'h', 'i']);
    const header = 8 + Number(fs.readFileSync(file).readBigUInt64LE(0));
    expect(checkpoint.tensors.map((t) => t.offset - header)).toEqual([0, 6, 18, 42, 48, 96, 108, 132, 144]);
    const bytes = fs.readFileSync(file);
    const reads = await readAll(checkpoint);
    expect(reads.map((r) => r.tensor.name)).toEqual(checkpoint.tensors.map((t) => t.name));
    for (const read of reads) {
      expect(sampleValues(read.tensor.dtype, read.data)).toEqual(EXPECTED_SAMPLE_VALUES[read.tensor.dtype]);
      expect(read.storedCrc32c).toBe(crc32c(bytes.subarray(read.tensor.offset, read.tensor.offset + read.tensor.bytes)));
    }
  });

  it('reads only the named tensors, and stops when aborted', async () => {
    const checkpoint = await openOne(sample('overall'));
    const reads = await readAll(checkpoint, { names: new Set(['i', 'B', 'e']) });
    expect(reads.map((r) => r.tensor.name)).toEqual(['B', 'e', 'i']);
    expect(sampleValues('I32', reads[2]?.data ?? new Uint8Array())).toEqual([-3, -2, -1, 0, 1, 2]);
    const controller = new AbortController();
    controller.abort(new Error('stopped by the user'));
    await expect(readAll(checkpoint, { signal: controller.signal })).rejects.toThrow('stopped by the user');
  });

  it('a folder of the loose sample files: each file its own checkpoint, by name, none called latest', async () => {
    const dir = tempDir();
    for (const letter of Object.keys(SAMPLE_DTYPES) as SampleName[]) copySample(letter, dir, `${letter}.safetensors`);
    fs.writeFileSync(path.join(dir, 'README.md'), 'samples\n');
    expect(await safetensorsReader.sniff(dir)).toBe(true);
    const source = await safetensorsReader.open(dir);
    expect(source.checkpoints.map((c) => c.name)).toEqual(
      Object.keys(SAMPLE_DTYPES)
        .map((l) => `${l}.safetensors`)
        .sort(),
    );
    expect(source.latest).toBeNull();
    expect(source.notes).toEqual(['files that belong to no checkpoint, not read: README.md']);
  });
});

describe('tinygrad safe_save output', () => {
  const file = sharedFixture('safetensors', 'tinygrad-mnist', 'model.safetensors');
  it.skipIf(file === null)('a header padded with spaces and no __metadata__: l1.weight [128,784], l2.weight [10,128]', async () => {
    if (file === null) return;
    expect(await safetensorsReader.sniff(file)).toBe(true);
    const checkpoint = await openOne(file);
    expect(checkpoint.notes).toEqual([]);
    expect(checkpoint.tensors.map((t) => [t.name, t.dtype, t.shape, t.offset, t.bytes])).toEqual([
      ['l1.weight', 'F32', [128, 784], 160, 401408],
      ['l2.weight', 'F32', [10, 128], 160 + 401408, 5120],
    ]);
    const bytes = fs.readFileSync(file);
    const reads = await readAll(checkpoint);
    expect(reads.map((r) => r.data.byteLength)).toEqual([401408, 5120]);
    expect(Buffer.from(reads[1]?.data ?? []).equals(bytes.subarray(160 + 401408))).toBe(true);
    expect(reads[0]?.storedCrc32c).toBe(crc32c(bytes.subarray(160, 160 + 401408)));
  });
});

describe('files our writer makes (export) read back identically', () => {
  it('every kind of dtype, a zero-size tensor, odd shapes and metadata', async () => {
    const dtypes: [Dtype, number[]][] = [
      ['F32', [3, 5]],
      ['F16', [7]],
      ['BF16', [2, 3]],
      ['F64', [1]],
      ['I64', [4]],
      ['U64', [2]],
      ['I32', [3]],
      ['U32', [1, 1]],
      ['I16', [5]],
      ['U16', [3]],
      ['I8', [9]],
      ['U8', [11]],
      ['BOOL', [4]],
      ['F8_E4M3', [6]],
      ['F8_E5M2', [2]],
      ['F8_E8M0', [1]],
      ['F4', [4]],
      ['F6_E2M3', [4]],
      ['C64', [2]],
      ['F32', [0, 3]],
    ];
    const tensors: Tensor[] = dtypes.map(([dtype, shape], i) => {
      const data = new Uint8Array(tensorByteLength(dtype, shape) ?? 0);
      for (let b = 0; b < data.length; b++) data[b] = (b * 31 + i * 17) & 0xff;
      return { name: `layer.${i}.${dtype.toLowerCase()}`, dtype, shape, data };
    });
    const file = path.join(tempDir(), 'export.safetensors');
    const encoded = encodeSafetensors(file, tensors, { format: 'pt', producer: 'checkpoint-studio' });
    fs.writeFileSync(file, Buffer.concat([encoded.header, ...encoded.payloads]));

    const checkpoint = await openOne(file);
    expect(checkpoint.notes).toEqual(['export.safetensors __metadata__: format="pt", producer="checkpoint-studio"']);
    const reads = await readAll(checkpoint);
    expect(reads.map((r) => r.tensor.name)).toEqual(encoded.ordered.map((t) => t.name));
    const byName = new Map(tensors.map((t) => [t.name, t]));
    for (const read of reads) {
      const original = byName.get(read.tensor.name);
      expect(read.tensor.dtype).toBe(original?.dtype);
      expect(read.tensor.shape).toEqual(original?.shape);
      expect(Buffer.from(read.data).equals(Buffer.from(original?.data ?? []))).toBe(true);
      expect(read.storedCrc32c).toBe(crc32c(original?.data ?? new Uint8Array()));
    }
  });
});

describe('sniff', () => {
  it('says no to what is not safetensors, and never throws', async () => {
    const dir = tempDir();
    const write = (name: string, bytes: Buffer | string): string => {
      fs.writeFileSync(path.join(dir, name), bytes);
      return path.join(dir, name);
    };
    const length = (n: bigint, rest: string): Buffer => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(n);
      return Buffer.concat([b, Buffer.from(rest)]);
    };
    expect(await safetensorsReader.sniff(write('model.json', '{"format": "layers-model"}'))).toBe(false);
    expect(await safetensorsReader.sniff(write('short.safetensors', 'abc'))).toBe(false);
    expect(await safetensorsReader.sniff(write('long.safetensors', length(100_000_001n, '{}' + ' '.repeat(10))))).toBe(false);
    expect(await safetensorsReader.sniff(write('past.safetensors', length(40n, '{}')))).toBe(false);
    expect(await safetensorsReader.sniff(write('brace.safetensors', length(2n, '[]')))).toBe(false);
    expect(await safetensorsReader.sniff(write('ok.safetensors', length(2n, '{}')))).toBe(true);
    expect(await safetensorsReader.sniff(path.join(dir, 'missing.safetensors'))).toBe(false);
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expect(await safetensorsReader.sniff(empty)).toBe(false);
    const fifo = path.join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    expect(await safetensorsReader.sniff(fifo)).toBe(false);
  });
});
