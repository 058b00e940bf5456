// The tf-bundle reader on the real fixtures: what open() reports (checkpoints, latest, steps,
// timestamps, roles, slots) and that read() yields every tensor with its checksum passing and the
// values SOURCES.md quotes.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExportTensor, ForeignCheckpoint, ForeignTensorData } from '../../electron/core/formats/foreign.js';
import { tfBundleReader } from '../../electron/core/formats/tf/tf-reader.js';
import { writeTfBundle } from '../../electron/core/formats/tf/tf-writer.js';
import { sharedFixture, testData } from '../fixtures.js';
import { copyOf, temporaryDir } from './tf-helpers.js';

async function readAll(checkpoint: ForeignCheckpoint, names?: ReadonlySet<string>): Promise<ForeignTensorData[]> {
  const out: ForeignTensorData[] = [];
  for await (const item of tfBundleReader.read(checkpoint, names === undefined ? {} : { names })) out.push(item);
  return out;
}

function f32(data: Uint8Array): number[] {
  return Array.from(new Float32Array(Uint8Array.from(data).buffer));
}

const mnist = sharedFixture('tf1-saver', 'mnist-softmax-10steps');
const tictactoe = sharedFixture('tf2-checkpoint', 'tictactoe-manager');
const sharded = sharedFixture('sharded', 'overtopping-savedmodel', 'variables');

describe.skipIf(mnist === null)('TF1 Saver folder (MNIST, 10 checkpoints)', () => {
  it('lists the 10 checkpoints of the checkpoint file, oldest first, with model-10000 latest', async () => {
    const source = await tfBundleReader.open(mnist as string);
    expect(source.format).toBe('tf-bundle');
    expect(source.path).toBe(mnist);
    expect(source.latest).toBe('model-10000');
    expect(source.checkpoints.map((c) => c.name)).toEqual(Array.from({ length: 10 }, (_, i) => `model-${(i + 1) * 1000}`));
    expect(source.checkpoints.map((c) => c.savedAt)).toEqual(Array(10).fill(null));
    expect(source.notes).toEqual([]);
  });

  it('takes each step from the name and the int32 Variable holding the same number', async () => {
    const source = await tfBundleReader.open(mnist as string);
    for (const [i, checkpoint] of source.checkpoints.entries()) {
      expect(checkpoint.step).toBe((i + 1) * 1000);
      expect(checkpoint.stepSource).toContain(`model-${(i + 1) * 1000}`);
      expect(checkpoint.stepSource).toContain('Variable');
      const stepTensor = checkpoint.tensors.find((t) => t.role === 'step');
      expect(stepTensor?.name).toBe('Variable');
      const [data] = await readAll(checkpoint, new Set(['Variable']));
      expect(Buffer.from(data?.data ?? []).readInt32LE(0)).toBe((i + 1) * 1000);
    }
  });

  it('describes the files and reads every tensor with its CRC passing', async () => {
    const source = await tfBundleReader.open(mnist as string);
    const last = source.checkpoints.at(-1) as ForeignCheckpoint;
    expect(last.files).toEqual([
      { name: 'model-10000.index', bytes: 176, role: 'index' },
      { name: 'model-10000.data-00000-of-00001', bytes: 31404, role: 'tensors' },
      { name: 'model-10000.meta', bytes: 18723, role: 'kept' },
      { name: 'checkpoint', bytes: 448, role: 'metadata' },
    ]);
    expect(last.formatLabel).toBe('TensorFlow checkpoint (TF1 Saver names)');
    expect(last.tensors.map((t) => [t.name, t.dtype, t.shape, t.role])).toEqual([
      ['Variable', 'I32', [], 'step'],
      ['Variable_1', 'F32', [784, 10], 'model'],
      ['Variable_2', 'F32', [10], 'model'],
    ]);
    for (const checkpoint of source.checkpoints) {
      const read = await readAll(checkpoint);
      expect(read.map((r) => r.tensor.name)).toEqual(['Variable', 'Variable_1', 'Variable_2']);
      for (const r of read) {
        expect(r.data.length).toBe(r.tensor.bytes);
        expect(r.storedCrc32c).toBe(r.tensor.storedCrc32c);
      }
    }
  });

  it('opens one prefix, its .index and its data shard alike', async () => {
    for (const target of ['model-3000', 'model-3000.index', 'model-3000.data-00000-of-00001']) {
      expect(await tfBundleReader.sniff(path.join(mnist as string, target))).toBe(true);
      const source = await tfBundleReader.open(path.join(mnist as string, target));
      expect(source.path).toBe(mnist);
      expect(source.checkpoints.map((c) => [c.name, c.step])).toEqual([['model-3000', 3000]]);
    }
  });

  it('falls back to the basename for absolute paths written on another machine, and notes a listed prefix that is gone', async () => {
    const dir = await copyOf(mnist as string);
    const lines = ['model_checkpoint_path: "/Users/someone/ckpt/model-10000"'];
    for (const n of [1000, 2000, 42000]) lines.push(`all_model_checkpoint_paths: "/Users/someone/ckpt/model-${n}"`);
    lines.push('all_model_checkpoint_paths: "/Users/someone/ckpt/model-10000"');
    await writeFile(path.join(dir, 'checkpoint'), `${lines.join('\n')}\n`);
    const source = await tfBundleReader.open(dir);
    expect(source.latest).toBe('model-10000');
    expect(source.checkpoints.map((c) => c.name)).toContain('model-5000');
    expect(source.checkpoints).toHaveLength(10);
    expect(source.notes.some((n) => n.includes('model-42000') && n.includes('not in the folder'))).toBe(true);
    expect(source.notes.some((n) => n.includes('model-5000') && n.includes('not in its checkpoint file'))).toBe(true);
  });
});

describe.skipIf(tictactoe === null)('TF2 CheckpointManager folder (tictactoe, 3 checkpoints)', () => {
  it('lists ckpt-17…19 with their timestamps and ckpt-19 latest', async () => {
    const source = await tfBundleReader.open(tictactoe as string);
    expect(source.latest).toBe('ckpt-19');
    expect(source.checkpoints.map((c) => c.name)).toEqual(['ckpt-17', 'ckpt-18', 'ckpt-19']);
    expect(source.checkpoints.map((c) => c.savedAt)).toEqual([1673735799686, 1673735913343, 1673736140597]);
  });

  it('takes the step from the optimizer counter and says the ckpt-N number counts saves', async () => {
    const source = await tfBundleReader.open(tictactoe as string);
    expect(source.checkpoints.map((c) => c.step)).toEqual([116, 216, 316]);
    const first = source.checkpoints[0] as ForeignCheckpoint;
    expect(first.stepSource).toContain('_iterations');
    expect(first.notes.some((n) => n.includes('17') && n.includes('116') && n.includes('save'))).toBe(true);
    const values = new Map((await readAll(first)).map((r) => [r.tensor.displayName, r.data]));
    expect(Buffer.from(values.get('save_counter') ?? []).readBigInt64LE(0)).toBe(17n);
    expect(Buffer.from(values.get('net/optimizer/_iterations') ?? []).readBigInt64LE(0)).toBe(116n);
  });

  it('names tensors by object path, with roles, and maps the Keras optimizer list to m and v slots', async () => {
    const checkpoint = (await tfBundleReader.open(tictactoe as string)).checkpoints[2] as ForeignCheckpoint;
    expect(checkpoint.formatLabel).toBe('TensorFlow checkpoint (TF2 object-based names)');
    const byName = new Map(checkpoint.tensors.map((t) => [t.displayName, t]));
    expect(byName.get('_CHECKPOINTABLE_OBJECT_GRAPH')?.role).toBe('other');
    expect(byName.get('save_counter')?.role).toBe('other');
    expect(byName.get('net/optimizer/_iterations')?.role).toBe('step');
    expect(byName.get('optimizer/_iterations')?.role).toBe('optimizer');
    expect(byName.get('net/optimizer/_learning_rate')?.role).toBe('optimizer');
    expect(byName.get('net/layer_with_weights-0/kernel')?.name).toBe('net/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE');
    expect(byName.get('net/layer_with_weights-0/kernel')?.role).toBe('model');
    const slots = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => byName.get(`net/optimizer/_variables/${n}`)?.slot);
    const v = (layer: number, weight: string): string => `net/layer_with_weights-${layer}/${weight}/.ATTRIBUTES/VARIABLE_VALUE`;
    expect(slots).toEqual([
      { variable: v(0, 'kernel'), name: 'm' },
      { variable: v(0, 'kernel'), name: 'v' },
      { variable: v(0, 'bias'), name: 'm' },
      { variable: v(0, 'bias'), name: 'v' },
      { variable: v(1, 'kernel'), name: 'm' },
      { variable: v(1, 'kernel'), name: 'v' },
      { variable: v(1, 'bias'), name: 'm' },
      { variable: v(1, 'bias'), name: 'v' },
    ]);
    expect(checkpoint.notes.some((n) => n.includes('net/optimizer/_variables') && n.includes('build order'))).toBe(true);
    const read = await readAll(checkpoint);
    expect(read).toHaveLength(19);
  });
});

describe.skipIf(sharded === null)('two-shard SavedModel variables (TF1 names, Adam and EMA slots)', () => {
  it('follows shard ids, maps every slot to its variable, and takes the float global_step', async () => {
    const source = await tfBundleReader.open(sharded as string);
    const [checkpoint] = source.checkpoints;
    if (checkpoint === undefined) throw new Error('no checkpoint');
    expect(checkpoint.formatLabel).toBe('TensorFlow SavedModel variables (TF1 Saver names)');
    expect(checkpoint.step).toBe(58554);
    expect(checkpoint.stepSource).toContain('global_step');
    expect(checkpoint.files.filter((f) => f.role === 'tensors').map((f) => f.name)).toEqual(['variables.data-00000-of-00002', 'variables.data-00001-of-00002']);
    const slots = checkpoint.tensors.filter((t) => t.slot !== undefined);
    expect(slots).toHaveLength(72);
    const names = new Set(checkpoint.tensors.map((t) => t.name));
    for (const t of slots) {
      expect(names.has(t.slot?.variable ?? '')).toBe(true);
      expect(t.name).toBe(`${t.slot?.variable}/${t.slot?.name}`);
      expect(t.role).toBe(t.slot?.name === 'ExponentialMovingAverage' ? 'other' : 'optimizer');
    }
    expect(checkpoint.tensors.filter((t) => t.role === 'model')).toHaveLength(48);
    expect(checkpoint.tensors.find((t) => t.name === 'beta1_power')?.role).toBe('optimizer');
    expect(checkpoint.tensors.find((t) => t.name === 'global_step')).toMatchObject({ role: 'step', file: 'variables.data-00000-of-00002', offset: 648900 });
    const read = await readAll(checkpoint);
    expect(read).toHaveLength(123);
    expect(read.map((r) => r.tensor.file).indexOf('variables.data-00001-of-00002')).toBe(25);
    expect(f32(read.find((r) => r.tensor.name === 'global_step')?.data ?? new Uint8Array(4))).toEqual([58554]);
  });
});

describe('serving fixtures (Apache copies in test/data)', () => {
  it('half_plus_two SavedModel v1 (Snappy index): a=0.5 b=2 c=3', async () => {
    const source = await tfBundleReader.open(testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables'));
    const [checkpoint] = source.checkpoints;
    expect(checkpoint?.step).toBeNull();
    const values = Object.fromEntries((await readAll(checkpoint as ForeignCheckpoint)).map((r) => [r.tensor.name, f32(r.data)[0]]));
    expect(values).toEqual({ a: 0.5, a2: 0.5, b: 2, c: 3, c2: 3 });
  });

  it('a SavedModel folder is read as its variables/ (what a person drops), named for the model', async () => {
    const model = testData('tf-serving', 'saved-model-v1-half-plus-two');
    expect(await tfBundleReader.sniff(model)).toBe(true);
    const source = await tfBundleReader.open(model);
    expect(source.path).toBe(path.join(model, 'variables'));
    expect(source.checkpoints.map((c) => c.name)).toEqual(['variables']);
    expect(source.checkpoints[0]?.formatLabel).toMatch(/^TensorFlow SavedModel variables/);
  });

  it('half_plus_two SavedModel v2: the object graph and a, b, c', async () => {
    const [checkpoint] = (await tfBundleReader.open(testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'))).checkpoints;
    const read = await readAll(checkpoint as ForeignCheckpoint);
    // File order: the writer added the graph last.
    expect(read.map((r) => [r.tensor.displayName, r.tensor.dtype, r.tensor.role, r.tensor.offset])).toEqual([
      ['a', 'F32', 'model', 0],
      ['b', 'F32', 'model', 4],
      ['c', 'F32', 'model', 8],
      ['_CHECKPOINTABLE_OBJECT_GRAPH', 'STRING', 'other', 12],
    ]);
    expect(read.slice(0, 3).map((r) => f32(r.data)[0])).toEqual([0.5, 2, 3]);
  });

  it('the session_bundle exporter: Variable=0.5, Variable_1=2.0, its .meta kept, no step', async () => {
    const source = await tfBundleReader.open(testData('tf-serving', 'half-plus-two-exporter', 'export'));
    const [checkpoint] = source.checkpoints;
    expect(checkpoint?.files.map((f) => [f.name, f.role])).toEqual([
      ['export.index', 'index'],
      ['export.data-00000-of-00001', 'tensors'],
      ['export.meta', 'kept'],
    ]);
    expect(checkpoint?.step).toBeNull();
    expect((await readAll(checkpoint as ForeignCheckpoint)).map((r) => f32(r.data)[0])).toEqual([0.5, 2]);
  });

  it('a bundle holding only the object graph is a checkpoint with one tensor', async () => {
    const [checkpoint] = (await tfBundleReader.open(testData('tf-serving', 'keras-text-regression', 'variables'))).checkpoints;
    expect(checkpoint?.tensors.map((t) => [t.name, t.dtype, t.bytes])).toEqual([['_CHECKPOINTABLE_OBJECT_GRAPH', 'STRING', 927]]);
    expect(await readAll(checkpoint as ForeignCheckpoint)).toHaveLength(1);
  });

  it('reads only the named tensors', async () => {
    const [checkpoint] = (await tfBundleReader.open(testData('tf-serving', 'saved-model-v1-half-plus-two', 'variables'))).checkpoints;
    expect((await readAll(checkpoint as ForeignCheckpoint, new Set(['c', 'a']))).map((r) => r.tensor.name)).toEqual(['a', 'c']);
  });

  it('sniffs bundles and nothing else, without throwing', async () => {
    expect(await tfBundleReader.sniff(testData('tf-serving', 'saved-model-v2-half-plus-two', 'variables'))).toBe(true);
    // A SavedModel folder is its variables/ (see above); a folder holding a bundle deeper down is not.
    expect(await tfBundleReader.sniff(testData('tf-serving'))).toBe(false);
    expect(await tfBundleReader.sniff(testData('tf-serving', 'half-plus-two-exporter', 'export.meta'))).toBe(false);
    expect(await tfBundleReader.sniff(testData('hf-safetensors-samples', 'f.safetensors'))).toBe(false);
    expect(await tfBundleReader.sniff(testData('hf-safetensors-samples'))).toBe(false);
    expect(await tfBundleReader.sniff(testData('no', 'such', 'thing'))).toBe(false);
    expect(await tfBundleReader.sniff('/dev/null')).toBe(false);
  });
});

describe('reading in grouped, prefetched reads', () => {
  const big = (name: string, fill: number): ExportTensor => ({ name, dtype: 'U8', shape: [3 * 1024 * 1024], data: new Uint8Array(3 * 1024 * 1024).fill(fill) });

  it('reads several read groups, finds damage in a later one, stops early cleanly, and honours an abort', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'ckpt', [big('a', 1), big('b', 2), big('c', 3), { name: 'd', dtype: 'F32', shape: [1], data: new Uint8Array(4) }]);
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'ckpt'))).checkpoints;
    if (checkpoint === undefined) throw new Error('not written');
    const read = await readAll(checkpoint);
    expect(read.map((r) => [r.tensor.name, r.data.length, r.data[0]])).toEqual([
      ['a', 3145728, 1],
      ['b', 3145728, 2],
      ['c', 3145728, 3],
      ['d', 4, 0],
    ]);

    for await (const item of tfBundleReader.read(checkpoint)) {
      expect(item.tensor.name).toBe('a');
      break;
    }
    const controller = new AbortController();
    controller.abort();
    await expect(
      (async () => {
        for await (const _item of tfBundleReader.read(checkpoint, { signal: controller.signal })) void _item;
      })(),
    ).rejects.toThrow(/abort/i);

    const data = path.join(out, 'ckpt.data-00000-of-00001');
    const bytes = await readFile(data);
    bytes[2 * 3145728 + 100] = 9;
    await writeFile(data, bytes);
    await expect(readAll(checkpoint)).rejects.toThrow(/ckpt\.data-00000-of-00001: tensor "c": CRC-32C/);
  });
});

describe('steps of TF1-style bundles written here', () => {
  const w: ExportTensor = { name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) };

  it('takes the step from the name when nothing else records it', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'model.ckpt-500', [w]);
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'model.ckpt-500'))).checkpoints;
    expect([checkpoint?.step, checkpoint?.stepSource, checkpoint?.notes]).toEqual([500, 'the name model.ckpt-500', []]);
  });

  it('prefers global_step to the name and says so with both numbers', async () => {
    const out = await temporaryDir();
    await writeTfBundle(out, 'model.ckpt-500', [w], { step: 700 });
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'model.ckpt-500'))).checkpoints;
    expect(checkpoint?.step).toBe(700);
    expect(checkpoint?.stepSource).toBe('the variable global_step');
    expect(checkpoint?.notes).toEqual(["The name model.ckpt-500 says step 500, but the variable global_step holds 700; the variable's 700 is used."]);
  });

  it('does not take an integer scalar as the step when its value differs from the name', async () => {
    const out = await temporaryDir();
    const counter: ExportTensor = { name: 'Variable', dtype: 'I32', shape: [], data: Uint8Array.of(7, 0, 0, 0) };
    await writeTfBundle(out, 'model-8', [counter, w]);
    const [checkpoint] = (await tfBundleReader.open(path.join(out, 'model-8'))).checkpoints;
    expect(checkpoint?.step).toBe(8);
    expect(checkpoint?.tensors.find((t) => t.name === 'Variable')?.role).toBe('model');
  });
});
