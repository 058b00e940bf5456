// The bundle writer: every fixture read, written again and read back gives the same tensors; where
// TensorFlow wrote with the options BundleWriter uses today (no compression, data in key order),
// our `.index` and data file are byte-identical to TensorFlow's.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../electron/core/base/crc32c.js';
import type { Dtype } from '../../electron/core/base/dtypes.js';
import type { ExportTensor, ForeignCheckpoint } from '../../electron/core/formats/foreign.js';
import { decodeBundleIndex } from '../../electron/core/formats/tf/bundle-index.js';
import { encodeEntry, encodeHeader } from '../../electron/core/formats/tf/bundle-protos.js';
import { parseCheckpointState } from '../../electron/core/formats/tf/checkpoint-state.js';
import { buildTable, shortSuccessor, shortestSeparator } from '../../electron/core/formats/tf/sstable-writer.js';
import { tfBundleReader } from '../../electron/core/formats/tf/tf-reader.js';
import { writeCheckpointStateFile, writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';
import { REPOSITORY_ROOT, sharedFixture, testData } from '../fixtures.js';
import { SHARED_INDEX_FILES, temporaryDir } from './tf-helpers.js';

const TF_CODES: Record<string, number> = { F32: 1, I32: 3, I64: 9, STRING: 7 };

async function exportable(checkpoint: ForeignCheckpoint): Promise<ExportTensor[]> {
  const out: ExportTensor[] = [];
  for await (const { tensor, data } of tfBundleReader.read(checkpoint)) {
    // String tensors (the TF2 object graph) are not ExportTensors: our dtypes have no STRING.
    if (tensor.dtype !== 'STRING') out.push({ name: tensor.name, dtype: tensor.dtype as Dtype, shape: tensor.shape, data: Uint8Array.from(data) });
  }
  return out;
}

const FIXTURE_FOLDERS = [
  sharedFixture('tf1-saver', 'mnist-softmax-10steps'),
  sharedFixture('tf2-checkpoint', 'tictactoe-manager'),
  sharedFixture('sharded', 'overtopping-savedmodel', 'variables'),
  testData('tf-serving', 'half-plus-two-exporter'),
  testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables'),
  testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'),
]
  .filter((f): f is string => f !== null)
  .map((f) => [path.relative(path.dirname(REPOSITORY_ROOT), f), f]);

describe('round trip through writeTfBundle', () => {
  it.each(FIXTURE_FOLDERS)('%s: same names, dtypes, shapes and bytes', async (_label, folder) => {
    const source = await tfBundleReader.open(folder);
    for (const checkpoint of source.checkpoints) {
      const tensors = await exportable(checkpoint);
      const out = await temporaryDir();
      await writeTfBundle(out, checkpoint.name, tensors);
      const [back] = (await tfBundleReader.open(path.join(out, checkpoint.name))).checkpoints;
      if (back === undefined) throw new Error('nothing read back');
      const again = await exportable(back);
      const sortByName = (list: ExportTensor[]): ExportTensor[] => [...list].sort((a, b) => (a.name < b.name ? -1 : 1));
      expect(sortByName(again).map((t) => [t.name, t.dtype, t.shape, crc32c(t.data)])).toEqual(
        sortByName(tensors).map((t) => [t.name, t.dtype, t.shape, crc32c(t.data)]),
      );
      expect(back.tensors.every((t) => t.file === `${checkpoint.name}.data-00000-of-00001`)).toBe(true);
    }
  });
});

describe('byte-identical to TensorFlow where it used the same options', () => {
  const identical = [
    ...(sharedFixture('tf1-saver', 'mnist-softmax-10steps') === null
      ? []
      : Array.from({ length: 10 }, (_, i) => [sharedFixture('tf1-saver', 'mnist-softmax-10steps') as string, `model-${(i + 1) * 1000}`])),
    [testData('tf-serving', 'half-plus-two-exporter'), 'export'],
  ];
  it.each(identical.map(([folder, prefix]) => [path.basename(folder as string), prefix, folder]))(
    '%s/%s: .index and .data-00000-of-00001',
    async (_label, prefix, folder) => {
      if (folder === undefined || prefix === undefined) throw new Error('no fixture');
      const [checkpoint] = (await tfBundleReader.open(path.join(folder, prefix))).checkpoints;
      const out = await temporaryDir();
      await writeTfBundle(out, prefix, await exportable(checkpoint as ForeignCheckpoint));
      expect(await readFile(path.join(out, `${prefix}.index`))).toEqual(await readFile(path.join(folder, `${prefix}.index`)));
      expect(await readFile(path.join(out, `${prefix}.data-00000-of-00001`))).toEqual(await readFile(path.join(folder, `${prefix}.data-00000-of-00001`)));
    },
  );
});

describe('table and entry encoding against every uncompressed fixture index', () => {
  const uncompressed = SHARED_INDEX_FILES.filter((name) => !name.includes('half-plus-two/variables')).map((name) => sharedFixture(name));
  it.each(uncompressed.filter((f): f is string => f !== null))('%s re-encodes to the same bytes', async (file) => {
    const bytes = await readFile(file);
    const index = decodeBundleIndex(bytes, file);
    expect(index.dataBlockCompression.every((c) => c === 'none')).toBe(true);
    const entries = [
      { key: new Uint8Array(0), value: encodeHeader(index.header.numShards) },
      ...index.tensors.map((t) => ({
        key: Buffer.from(t.name, 'utf8'),
        value: encodeEntry({
          dtype: TF_CODES[t.dtype] ?? -1,
          shape: t.shape,
          shardId: t.shardId,
          offset: t.offset,
          size: t.size,
          maskedCrc32c: t.maskedCrc32c,
        }),
      })),
    ];
    expect(Buffer.from(buildTable(entries))).toEqual(bytes);
  });
});

describe('writer details', () => {
  const f32 = (name: string, values: number[]): ExportTensor => ({
    name,
    dtype: 'F32',
    shape: [values.length],
    data: new Uint8Array(Float32Array.from(values).buffer),
  });

  it('orders keys byte-wise and packs data back to back in that order', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'ckpt', [f32('b', [1]), f32('Variable_2', [2, 3]), f32('Variable_10', [4])]);
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'ckpt'))).checkpoints;
    expect(checkpoint?.tensors.map((t) => [t.name, t.offset])).toEqual([
      ['Variable_10', 0],
      ['Variable_2', 4],
      ['b', 12],
    ]);
  });

  it('adds an int64 global_step for options.step and the reader takes the step from it', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'model.ckpt-1200', [f32('w', [1])], { step: 1200 });
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'model.ckpt-1200'))).checkpoints;
    expect(checkpoint?.tensors.find((t) => t.name === 'global_step')).toMatchObject({ dtype: 'I64', shape: [], role: 'step' });
    expect(checkpoint?.step).toBe(1200);
  });

  it('splits the index into 256 KiB blocks with shortened separators, as TableBuilder does', async () => {
    const out = await temporaryDir();
    const tensors = Array.from({ length: 6000 }, (_, i) => f32(`layer_${String(i).padStart(5, '0')}/a_rather_long_variable_name_to_fill_blocks`, [i]));
    await writeTfBundle(out, 'big', tensors);
    const source = await tfBundleReader.open(path.join(out, 'big'));
    expect(source.checkpoints[0]?.tensors).toHaveLength(6000);
    expect((await readFile(path.join(out, 'big.index'))).length).toBeGreaterThan(262144);
    expect(Buffer.from(shortestSeparator(Buffer.from('the quick brown fox'), Buffer.from('the who')))).toEqual(Buffer.from('the r'));
    expect(Buffer.from(shortestSeparator(Buffer.from('abc'), Buffer.from('abcd')))).toEqual(Buffer.from('abc'));
    expect(Buffer.from(shortSuccessor(Buffer.from('global_step')))).toEqual(Buffer.from('h'));
    expect(Buffer.from(shortSuccessor(Uint8Array.of(0xff, 0xff, 0x41)))).toEqual(Buffer.from([0xff, 0xff, 0x42]));
  });

  it('keeps a checkpoint state file listing every save, the new one latest', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'model-1', [f32('w', [1])]);
    await writeTfBundle(out, 'model-2', [f32('w', [2])]);
    const state = parseCheckpointState(await readFile(path.join(out, 'checkpoint'), 'utf8'), 'checkpoint');
    expect(state).toEqual({
      modelCheckpointPath: 'model-2',
      allModelCheckpointPaths: ['model-1', 'model-2'],
      allModelCheckpointTimestamps: [],
      lastPreservedTimestamp: null,
    });
    const source = await tfBundleReader.open(out);
    expect(source.latest).toBe('model-2');
    expect(source.checkpoints.map((c) => c.name)).toEqual(['model-1', 'model-2']);
    expect((await readdir(out)).sort()).toEqual(['checkpoint', 'model-1.data-00000-of-00001', 'model-1.index', 'model-2.data-00000-of-00001', 'model-2.index']);
  });

  it('writeCheckpointStateFile writes what TensorFlow reads, escapes included', async () => {
    const out = await temporaryDir();
    const state = {
      modelCheckpointPath: 'ckpt-"3"',
      allModelCheckpointPaths: ['ckpt-1\\x', 'ckpt-"3"', 'é'],
      allModelCheckpointTimestamps: [1673735799.685766, 2, 3.5],
      lastPreservedTimestamp: 1673735591.495455,
    };
    await writeCheckpointStateFile(out, state);
    const text = await readFile(path.join(out, 'checkpoint'), 'utf8');
    expect(text).toContain('model_checkpoint_path: "ckpt-\\"3\\""');
    expect(text).toContain('all_model_checkpoint_paths: "\\303\\251"');
    expect(text).toContain('all_model_checkpoint_timestamps: 1673735799.685766');
    expect(parseCheckpointState(text, 'checkpoint')).toEqual(state);
  });

  it('refuses what a bundle cannot hold, naming the tensor, and leaves an unreadable state file alone', async () => {
    const out = await temporaryDir();
    await expect(writeTfBundle(out, 'x', [{ name: 'q', dtype: 'F8_E4M3', shape: [1], data: new Uint8Array(1) }])).rejects.toThrow(/tensor "q".*F8_E4M3/);
    await expect(writeTfBundle(out, 'x', [{ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(4) }])).rejects.toThrow(
      /tensor "w": 4 bytes given.*needs 8/,
    );
    await expect(writeTfBundle(out, 'x', [f32('w', [1]), f32('w', [2])])).rejects.toThrow(/"w" is given twice/);
    await expect(writeTfBundle(out, 'x', [f32('', [1])])).rejects.toThrow(/empty name/);
    await expect(writeTfBundle(out, '../x', [f32('w', [1])])).rejects.toThrow(/not a checkpoint name/);
    await writeFile(path.join(out, 'checkpoint'), 'garbage without a colon\n');
    await expect(writeTfBundle(out, 'y', [f32('w', [1])])).rejects.toThrow(/checkpoint.*left as it is/);
    expect(await readFile(path.join(out, 'checkpoint'), 'utf8')).toBe('garbage without a colon\n');
  });
});
