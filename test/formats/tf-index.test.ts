// Every `.index` fixture decodes to what an independent parser recorded in expected-tf-index.json:
// header, keys, dtypes, shapes, shards, offsets, sizes, stored CRCs and block compression.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeBundleIndex } from '../../electron/core/formats/tf/bundle-index.js';
import { sharedFixture } from '../fixtures.js';
import { LOCAL_INDEX_FILES, SHARED_INDEX_FILES } from './tf-helpers.js';

interface ExpectedIndex {
  index_bytes: number;
  data_block_compression: string[];
  header: { num_shards: number; endianness: number; version: { producer: number; min_consumer: number } };
  entries: { key: string; dtype: string; shape: number[]; shard_id: number; offset: number; size: number; crc32c_masked: number }[];
}

const TF_NAMES: Record<string, string> = { float32: 'F32', float64: 'F64', int32: 'I32', int64: 'I64', string: 'STRING', bool: 'BOOL' };

const expectedFile = sharedFixture('expected-tf-index.json');

describe.skipIf(expectedFile === null)('bundle index against expected-tf-index.json', () => {
  it('covers every .index fixture', async () => {
    const expected = JSON.parse(await readFile(expectedFile as string, 'utf8')) as Record<string, ExpectedIndex>;
    expect(Object.keys(expected).sort()).toEqual([...SHARED_INDEX_FILES].sort());
  });

  it.each(SHARED_INDEX_FILES)('%s decodes as recorded', async (name) => {
    const expected = (JSON.parse(await readFile(expectedFile as string, 'utf8')) as Record<string, ExpectedIndex>)[name] as ExpectedIndex;
    const file = sharedFixture(name) as string;
    const bytes = await readFile(file);
    expect(bytes.length).toBe(expected.index_bytes);
    const index = decodeBundleIndex(bytes, file);
    expect(index.dataBlockCompression).toEqual(expected.data_block_compression);
    expect(index.header.numShards).toBe(expected.header.num_shards);
    expect(index.header.endianness).toBe(expected.header.endianness);
    expect(index.header.version.producer).toBe(expected.header.version.producer);
    expect(index.header.version.minConsumer).toBe(expected.header.version.min_consumer);
    expect(
      index.tensors.map((t) => ({
        key: t.name,
        dtype: t.dtype,
        shape: t.shape,
        shard_id: t.shardId,
        offset: t.offset,
        size: t.size,
        crc32c_masked: t.maskedCrc32c,
      })),
    ).toEqual(expected.entries.map((e) => ({ ...e, dtype: TF_NAMES[e.dtype] ?? `unmapped ${e.dtype}` })));
  });
});

describe('bundle index of the Apache copies in test/data', () => {
  it.each(LOCAL_INDEX_FILES.map((f) => [path.relative(path.dirname(path.dirname(path.dirname(f))), f), f]))('%s decodes', async (_name, file) => {
    const index = decodeBundleIndex(await readFile(file), file);
    expect(index.header.numShards).toBe(1);
    expect(index.tensors.length).toBeGreaterThan(0);
  });

  it('reads the Snappy-compressed data block of the TF1 SavedModel', async () => {
    const file = LOCAL_INDEX_FILES[1] as string;
    const index = decodeBundleIndex(await readFile(file), file);
    expect(index.dataBlockCompression).toEqual(['snappy']);
    expect(index.tensors.map((t) => [t.name, t.offset])).toEqual([
      ['a', 0],
      ['a2', 4],
      ['b', 8],
      ['c', 12],
      ['c2', 16],
    ]);
  });
});
