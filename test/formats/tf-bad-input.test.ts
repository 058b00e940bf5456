// Damaged and hostile bundles, made by changing bytes of real fixtures in a temporary copy: each
// gives our own error naming the file and the byte offset or the tensor, never a RangeError, a
// hang or a huge allocation.
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, DamagedTensorError } from '../../electron/core/base/errors.js';
import type { ForeignCheckpoint } from '../../electron/core/formats/foreign.js';
import { crc32c } from '../../electron/core/base/crc32c.js';
import { maskCrc } from '../../electron/core/formats/tf/masked-crc.js';
import { readTable } from '../../electron/core/formats/tf/sstable-reader.js';
import { WireWriter } from '../../electron/core/formats/tf/protobuf-wire.js';
import { snappyDecompress } from '../../electron/core/formats/tf/snappy.js';
import { tfBundleReader } from '../../electron/core/formats/tf/tf-reader.js';
import { sharedFixture, testData } from '../fixtures.js';
import { copyOf, dataBlocks, resealBlock, rewriteEntry } from './tf-helpers.js';

function flip(bytes: Uint8Array, at: number, mask: number): void {
  bytes[at] = (bytes[at] ?? 0) ^ mask;
}

async function exporter(): Promise<{ dir: string; index: string; data: string; prefix: string }> {
  const dir = await copyOf(testData('tf-serving', 'half-plus-two-exporter'));
  return { dir, index: path.join(dir, 'export.index'), data: path.join(dir, 'export.data-00000-of-00001'), prefix: path.join(dir, 'export') };
}

async function formatError(promise: Promise<unknown>): Promise<CheckpointFormatError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointFormatError);
  return error as CheckpointFormatError;
}

async function readAll(checkpoint: ForeignCheckpoint): Promise<void> {
  for await (const _item of tfBundleReader.read(checkpoint)) void _item;
}

/** An entry value as TensorFlow encodes it, with the fields a test wants. */
function entry(fields: { dtype?: number; dims?: (number | bigint)[]; offset?: number; size?: number | bigint; crc?: number; slices?: boolean }): Uint8Array {
  const shape = new WireWriter();
  for (const dim of fields.dims ?? []) shape.bytesField(2, new WireWriter().varintField(1, dim).finish());
  const w = new WireWriter()
    .varintField(1, fields.dtype ?? 1)
    .bytesField(2, shape.finish())
    .varintField(4, fields.offset ?? 0)
    .varintField(5, fields.size ?? 4)
    .fixed32Field(6, fields.crc ?? 1);
  if (fields.slices === true) w.bytesField(7, new Uint8Array(0));
  return w.finish();
}

describe('damaged index files', () => {
  it('wrong magic number', async () => {
    const { index, prefix } = await exporter();
    const bytes = await readFile(index);
    flip(bytes, bytes.length - 1, 0xff);
    await writeFile(index, bytes);
    const error = await formatError(tfBundleReader.open(index));
    expect(error.message).toContain('export.index');
    await expect(tfBundleReader.sniff(prefix)).resolves.toBe(false);
    const direct = await formatError(tfBundleReader.open(prefix));
    expect(direct.message).toMatch(/not a TensorFlow checkpoint/);
  });

  it('truncated: blocks that run past the footer', async () => {
    const { index, prefix } = await exporter();
    const bytes = await readFile(index);
    await writeFile(index, Buffer.concat([bytes.subarray(0, 40), bytes.subarray(bytes.length - 48)]));
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(index);
    expect(error.byteOffset).toBe(40);
    expect(error.problem).toMatch(/runs past the footer/);
  });

  it('a block whose checksum does not match', async () => {
    const { index, prefix } = await exporter();
    const bytes = await readFile(index);
    const [[offset, size]] = dataBlocks(bytes) as [[number, number]];
    flip(bytes, offset + 12, 0x01);
    await writeFile(index, bytes);
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(index);
    expect(error.byteOffset).toBe(offset + size + 1);
    expect(error.problem).toMatch(/^data block fails its checksum/);
  });

  it('a key that is not UTF-8', async () => {
    const { index, prefix } = await exporter();
    const bytes = await readFile(index);
    const [[offset, size]] = dataBlocks(bytes) as [[number, number]];
    const at = bytes.indexOf('Variable', offset);
    bytes[at] = 0xff;
    resealBlock(bytes, offset, size);
    await writeFile(index, bytes);
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(index);
    expect(error.problem).toMatch(/not valid UTF-8/);
    expect(error.byteOffset).toBe(at - 3);
  });

  it('a restart count larger than the block', async () => {
    const { index, prefix } = await exporter();
    const bytes = await readFile(index);
    const [[offset, size]] = dataBlocks(bytes) as [[number, number]];
    bytes.writeUInt32LE(0x7fffffff, offset + size - 4);
    resealBlock(bytes, offset, size);
    await writeFile(index, bytes);
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.byteOffset).toBe(offset + size - 4);
    expect(error.problem).toMatch(/restart points/);
  });

  it('a big-endian bundle is refused', async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, '', () => new WireWriter().varintField(1, 1).varintField(2, 1).finish());
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/big-endian/);
  });
});

describe('hostile entries', () => {
  it('unknown and refused dtypes name the tensor', async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, 'Variable', () => entry({ dtype: 99 }));
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(index);
    expect(error.problem).toBe('tensor "Variable": has dtype unknown DataType 99, which cannot be imported');
    expect(error.byteOffset).toBeGreaterThan(0);
    await rewriteEntry(index, 'Variable', () => entry({ dtype: 8, size: 8 }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/"Variable": has dtype complex64/);
  });

  it('an overflowing shape', async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, 'Variable_1', () => entry({ dims: [2n ** 40n, 2n ** 40n, 2n ** 40n], offset: 4 }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(
      /^tensor "Variable_1": has shape \[1099511627776, .*more elements than any file can hold/,
    );
    await rewriteEntry(index, 'Variable_1', () => entry({ dims: [-1], offset: 4 }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/negative dimension -1/);
  });

  it('a size that does not match the shape, and a huge claimed size', async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, 'Variable_1', () => entry({ offset: 4, size: 2 ** 50 }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/"Variable_1": stores 1125899906842624 bytes, but shape \[\] of F32 needs 4/);
    await rewriteEntry(index, 'Variable_1', () => entry({ offset: 4, size: 2n ** 63n - 1n }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/"Variable_1": has size 9223372036854775807, outside any file/);
  });

  it('a huge string tensor size is checked against the shard before anything is read', async () => {
    const dir = await copyOf(testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'));
    const index = path.join(dir, 'variables.index');
    await rewriteEntry(index, '_CHECKPOINTABLE_OBJECT_GRAPH', () => entry({ dtype: 7, offset: 12, size: 2 ** 50 }));
    const error = await formatError(tfBundleReader.open(dir));
    expect(error.file).toBe(index);
    expect(error.problem).toMatch(/"_CHECKPOINTABLE_OBJECT_GRAPH": bytes 12…1125899906842636 run past the end of variables.data-00000-of-00001 \(631 bytes\)/);
  });

  it('an offset past the end of its shard', async () => {
    const { index, data, prefix } = await exporter();
    await truncate(data, 7);
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(index);
    expect(error.problem).toMatch(/^tensor "Variable_1": bytes 4…8 run past the end of export.data-00000-of-00001 \(7 bytes\)/);
  });

  it('a partitioned variable is refused by name', async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, 'Variable', () => entry({ slices: true }));
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/"Variable": is a partitioned variable .*not supported/);
  });

  it("a shard number past the header's count", async () => {
    const { index, prefix } = await exporter();
    await rewriteEntry(index, 'Variable', () =>
      new WireWriter().varintField(1, 1).bytesField(2, new Uint8Array(0)).varintField(3, 3).varintField(5, 4).finish(),
    );
    expect((await formatError(tfBundleReader.open(prefix))).problem).toMatch(/"Variable": is in shard 3, but the bundle has 1/);
  });
});

describe('damaged data files', () => {
  it('a tensor whose bytes fail their CRC names the file and the tensor', async () => {
    const { data, prefix } = await exporter();
    const bytes = await readFile(data);
    flip(bytes, 5, 0x40);
    await writeFile(data, bytes);
    const [checkpoint] = (await tfBundleReader.open(prefix)).checkpoints;
    const error = await readAll(checkpoint as ForeignCheckpoint).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DamagedTensorError);
    expect((error as DamagedTensorError).file).toBe(data);
    expect((error as DamagedTensorError).tensor).toBe('Variable_1');
  });

  it('a data file shortened after open', async () => {
    const { data, prefix } = await exporter();
    const [checkpoint] = (await tfBundleReader.open(prefix)).checkpoints;
    await truncate(data, 6);
    await expect(readAll(checkpoint as ForeignCheckpoint)).rejects.toThrow(DamagedTensorError);
  });

  it('a shard deleted after open is named when reading', async () => {
    const { data, prefix } = await exporter();
    const [checkpoint] = (await tfBundleReader.open(prefix)).checkpoints;
    await rm(data);
    const error = await formatError(readAll(checkpoint as ForeignCheckpoint));
    expect(error.file).toBe(data);
    expect(error.problem).toBe('is missing; it holds 2 of the tensors of export');
  });

  it('a missing shard is named', async () => {
    const { data, prefix } = await exporter();
    await rm(data);
    const error = await formatError(tfBundleReader.open(prefix));
    expect(error.file).toBe(data);
    expect(error.problem).toMatch(/is missing: shard 1 of 1 of export, holding tensor "Variable"/);
  });

  it('a string tensor whose length checksum is wrong', async () => {
    const dir = await copyOf(testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'));
    const data = path.join(dir, 'variables.data-00000-of-00001');
    const bytes = await readFile(data);
    flip(bytes, 12 + 2, 0x01); // the graph starts at 12 with a 2-byte varint length, then the masked CRC of the lengths
    await writeFile(data, bytes);
    const error = await tfBundleReader.open(dir).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DamagedTensorError);
    expect((error as DamagedTensorError).tensor).toBe('_CHECKPOINTABLE_OBJECT_GRAPH');
    expect((error as DamagedTensorError).problem).toMatch(/checksum of the string lengths/);
  });
});

const mnist = sharedFixture('tf1-saver', 'mnist-softmax-10steps');
describe.skipIf(mnist === null)('a folder with one incomplete checkpoint', () => {
  it('notes the incomplete one and opens the rest', async () => {
    const dir = await copyOf(mnist as string);
    await rm(path.join(dir, 'model-5000.data-00000-of-00001'));
    const source = await tfBundleReader.open(dir);
    expect(source.checkpoints).toHaveLength(9);
    expect(source.notes.some((n) => n.startsWith('model-5000 is incomplete') && n.includes('model-5000.data-00000-of-00001'))).toBe(true);
  });
});

describe('Snappy streams', () => {
  const fail = (bytes: number[]): CheckpointFormatError => {
    try {
      snappyDecompress(Uint8Array.from(bytes), 'x.index', 100);
    } catch (error) {
      expect(error).toBeInstanceOf(CheckpointFormatError);
      return error as CheckpointFormatError;
    }
    throw new Error('decompressed');
  };

  it('decodes literals and overlapping copies', () => {
    // 8 bytes: literal "ab", then a 1-byte-offset copy of 6 bytes from 2 back.
    expect(Buffer.from(snappyDecompress(Uint8Array.of(8, 0x04, 0x61, 0x62, 0x09, 0x02), 'x', 0)).toString()).toBe('abababab');
  });

  it('refuses a copy before the start, a literal past the output, an impossible length and a short stream', () => {
    expect(fail([4, 0x01, 0x05]).problem).toMatch(/reaches 5 bytes back with only 0 written/);
    expect(fail([1, 0x04, 0x61, 0x62]).problem).toMatch(/literal of 2 bytes runs past the 1-byte output/);
    expect(fail([0xff, 0xff, 0xff, 0xff, 0x0f, 0]).problem).toMatch(/claims 4294967295 uncompressed bytes, more than the 268435456 a table block can be/);
    expect(fail([0xe8, 0x07, 0]).problem).toMatch(/claims 1000 uncompressed bytes from 3 compressed ones, more than Snappy can encode/);
    expect(fail([3, 0x00, 0x61]).problem).toMatch(/ends after 1 of its 3/);
    expect(fail([2, 0x04, 0x61]).byteOffset).toBe(102);
  });

  it('a damaged compressed block of a real index (resealed) fails cleanly', async () => {
    const dir = await copyOf(testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables'));
    const index = path.join(dir, 'variables.index');
    const original = await readFile(index);
    const [[offset, size]] = dataBlocks(original) as [[number, number]];
    for (let at = offset; at < offset + size; at++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bytes = Buffer.from(original);
        flip(bytes, at, mask);
        resealBlock(bytes, offset, size);
        await writeFile(index, bytes);
        await tfBundleReader.open(dir).then(
          () => undefined,
          (error: unknown) => expect(error).toBeInstanceOf(CheckpointFormatError),
        );
      }
    }
  });
});

describe('random damage to every byte of a TF2 index (resealed)', () => {
  it('only ever gives our errors', async () => {
    const dir = await copyOf(testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'));
    const index = path.join(dir, 'variables.index');
    const original = await readFile(index);
    const blocks = dataBlocks(original);
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(original);
      const at = Math.floor(random() * bytes.length);
      bytes[at] = Math.floor(random() * 256);
      for (const [offset, size] of blocks) resealBlock(bytes, offset, size);
      await writeFile(index, bytes);
      await tfBundleReader.open(dir).then(
        async (source) => {
          for (const checkpoint of source.checkpoints) await readAll(checkpoint).catch((error: unknown) => expect(error).toBeInstanceOf(DamagedTensorError));
        },
        (error: unknown) =>
          expect(
            [CheckpointFormatError, DamagedTensorError].some((type) => error instanceof type),
            String(error),
          ).toBe(true),
      );
    }
  });
});

describe('a table abusing prefix compression', () => {
  it('is refused before its keys exhaust memory', () => {
    // One restart, then entries that each share the whole previous key and add a byte: 6 bytes of
    // file per entry spell keys of ever greater length (about 2^31 key bytes in all).
    const body: number[] = [0, 1, 0, 0x61];
    const varint = (n: number): number[] => (n < 128 ? [n] : [(n & 0x7f) | 0x80, ...varint(n >>> 7)]);
    for (let i = 1; i < 65536; i++) body.push(...varint(i), 1, 0, 0x61);
    const data = Buffer.concat([Buffer.from(body), Buffer.from([0, 0, 0, 0, 1, 0, 0, 0])]);
    const meta = Buffer.from([0, 0, 0, 0, 1, 0, 0, 0]);
    const handle = (offset: number, size: number): number[] => [...varint(offset), ...varint(size)];
    const indexBody = Buffer.from([0, 1, ...varint(handle(0, data.length).length), 0x62, ...handle(0, data.length), 0, 0, 0, 0, 1, 0, 0, 0]);
    const parts = [data, meta, indexBody];
    const out: Buffer[] = [];
    const handles: number[][] = [];
    let offset = 0;
    for (const part of parts) {
      const trailer = Buffer.alloc(5);
      trailer.writeUInt32LE(maskCrc(crc32c(Buffer.concat([part, trailer.subarray(0, 1)]))), 1);
      out.push(part, trailer);
      handles.push(handle(offset, part.length));
      offset += part.length + 5;
    }
    const footer = Buffer.alloc(48);
    Buffer.from([...(handles[1] ?? []), ...(handles[2] ?? [])]).copy(footer);
    Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]).copy(footer, 40);
    const table = Buffer.concat([...out, footer]);
    expect(() => readTable(table, 'crafted.index')).toThrow(/keys add up to more bytes than any real index spells/);
  });
});
