// Sharded safetensors: a model.safetensors.index.json (transformers modeling_utils.py writes
// {"metadata": {"total_size": …}, "weight_map": {tensor: shard file}}) over shards that are
// copies of the real sample files, each holding one tensor named by its numpy type letter.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { safetensorsReader } from '../../electron/core/formats/safetensors/reader.js';
import { EXPECTED_SAMPLE_VALUES, copySample, formatErrorOf, openOne, readAll, sampleValues, useTempDirs } from './safetensors-helpers.js';

const tempDir = useTempDirs();
const INDEX = 'model.safetensors.index.json';
const SHARD_1 = 'model-00001-of-00003.safetensors';
const SHARD_2 = 'model-00002-of-00003.safetensors';
const SHARD_3 = 'model-00003-of-00003.safetensors';

/** A model folder as save_pretrained writes it when sharding: three shards (U8, F32, F16), index, config. */
function shardedModel(weightMap: Record<string, string> = { B: SHARD_1, f: SHARD_2, e: SHARD_3 }, totalSize = 6 + 24 + 12): string {
  const dir = tempDir();
  copySample('B', dir, SHARD_1);
  copySample('f', dir, SHARD_2);
  copySample('e', dir, SHARD_3);
  writeIndex(dir, { metadata: { total_size: totalSize }, weight_map: weightMap });
  fs.writeFileSync(path.join(dir, 'config.json'), '{"model_type": "bert"}');
  return dir;
}

function writeIndex(dir: string, index: unknown): string {
  const file = path.join(dir, INDEX);
  fs.writeFileSync(file, typeof index === 'string' ? index : JSON.stringify(index, null, 2));
  return file;
}

describe('a sharded checkpoint', () => {
  it('opened by its index file: one checkpoint over all shards, every tensor where the index says', async () => {
    const dir = shardedModel();
    const index = path.join(dir, INDEX);
    expect(await safetensorsReader.sniff(index)).toBe(true);
    const checkpoint = await openOne(index);
    expect(checkpoint).toMatchObject({ name: INDEX, dir, step: null, savedAt: null });
    expect(checkpoint.files).toEqual([
      { name: INDEX, bytes: fs.statSync(index).size, role: 'index' },
      { name: SHARD_1, bytes: 95, role: 'tensors' },
      { name: SHARD_2, bytes: 115, role: 'tensors' },
      { name: SHARD_3, bytes: 103, role: 'tensors' },
    ]);
    expect(checkpoint.tensors.map((t) => [t.name, t.file, t.dtype])).toEqual([
      ['B', SHARD_1, 'U8'],
      ['f', SHARD_2, 'F32'],
      ['e', SHARD_3, 'F16'],
    ]);
    const reads = await readAll(checkpoint);
    expect(reads.map((r) => sampleValues(r.tensor.dtype, r.data))).toEqual([
      EXPECTED_SAMPLE_VALUES['U8'],
      EXPECTED_SAMPLE_VALUES['F32'],
      EXPECTED_SAMPLE_VALUES['F16'],
    ]);
  });

  it('opened as its folder: the same tensors, with config.json kept and named in a note', async () => {
    const dir = shardedModel();
    expect(await safetensorsReader.sniff(dir)).toBe(true);
    const source = await safetensorsReader.open(dir);
    expect(source.latest).toBe(path.basename(dir));
    const [checkpoint] = source.checkpoints;
    expect(checkpoint?.name).toBe(path.basename(dir));
    expect(checkpoint?.tensors.map((t) => t.name)).toEqual(['B', 'f', 'e']);
    expect(checkpoint?.files.find((f) => f.name === 'config.json')?.role).toBe('kept');
    expect(checkpoint?.notes).toContain('kept, not read: config.json');
    expect(checkpoint?.formatLabel).toBe(`sharded safetensors (${INDEX}, 3 shards)`);
  });

  it('a shard the index does not name is kept with a note; a wrong total_size is a note', async () => {
    const dir = shardedModel(undefined, 99);
    copySample('h', dir, 'model-00004-of-00003.safetensors');
    const checkpoint = await openOne(dir);
    expect(checkpoint.tensors.map((t) => t.name)).toEqual(['B', 'f', 'e']);
    expect(checkpoint.files.find((f) => f.name === 'model-00004-of-00003.safetensors')?.role).toBe('kept');
    expect(checkpoint.notes).toContain('safetensors files no index names (kept, not read): model-00004-of-00003.safetensors');
    expect(checkpoint.notes).toContain(`${INDEX}: metadata.total_size says 99 bytes, but its shards hold 42 bytes of tensors`);
  });

  it('a tensor in a shard that the weight_map leaves out is read, with a note', async () => {
    const checkpoint = await openOne(path.join(shardedModel({ B: SHARD_1, f: SHARD_2 }), INDEX));
    expect(checkpoint.tensors.map((t) => t.name)).toEqual(['B', 'f']);
    const dir = shardedModel({ B: SHARD_1, f: SHARD_2, e: SHARD_3 });
    copySample('overall', dir, SHARD_3);
    writeIndex(dir, { weight_map: { B: SHARD_1, f: SHARD_2, e: SHARD_3, H: SHARD_3 } });
    // overall holds B and f too: they would be in two shards.
    await expect(safetensorsReader.open(path.join(dir, INDEX))).rejects.toThrow(`tensor "B" is in two shards, ${SHARD_1} and ${SHARD_3}`);
  });
});

describe('a bad index is refused, naming the index file and the tensor or file', () => {
  async function refused(dir: string, problem: string | RegExp): Promise<void> {
    const index = path.join(dir, INDEX);
    const error = await formatErrorOf(safetensorsReader.open(index), index);
    if (typeof problem === 'string') expect(error.problem).toBe(problem);
    else expect(error.problem).toMatch(problem);
  }

  it('a tensor mapped to a shard that does not hold it', async () => {
    await refused(shardedModel({ B: SHARD_2, f: SHARD_1, e: SHARD_3 }), `tensor "B" is mapped to ${SHARD_2} but is in ${SHARD_1}`);
    await refused(shardedModel({ B: SHARD_2, f: SHARD_2, e: SHARD_3 }), `tensor "B" is mapped to ${SHARD_2}, which does not hold it`);
    await refused(shardedModel({ B: SHARD_1, f: SHARD_2, e: SHARD_3, ghost: SHARD_3 }), `tensor "ghost" is mapped to ${SHARD_3}, which does not hold it`);
  });

  it('the same tensor in two shards', async () => {
    const dir = shardedModel();
    copySample('B', dir, SHARD_2);
    await refused(dir, `tensor "B" is in two shards, ${SHARD_1} and ${SHARD_2}`);
  });

  it('a shard outside the folder: "..", an absolute path, a symbolic link, a link to a folder outside', async () => {
    const dir = shardedModel();
    const outside = copySample('f', path.dirname(dir), `outside-${path.basename(dir)}.safetensors`);
    try {
      await refused(shardedModel({ B: SHARD_1, f: `../${path.basename(outside)}` }), `names "../${path.basename(outside)}", which leads outside its folder`);
      await refused(shardedModel({ B: SHARD_1, f: outside }), `names ${JSON.stringify(outside)}, which is not a file name inside its folder`);
      // A backslash keeps a name from being shown (base/describe-value.ts): it is described by its length.
      await refused(shardedModel({ B: SHARD_1, f: 'sub\\f.safetensors' }), 'names (17 characters, not shown), which is not a file name inside its folder');
      const linked = shardedModel({ B: SHARD_1, f: 'link.safetensors' });
      fs.symlinkSync(outside, path.join(linked, 'link.safetensors'));
      await refused(linked, 'names "link.safetensors", which is a symbolic link (links are not followed)');
      const viaFolder = shardedModel({ B: SHARD_1, f: `sub/${path.basename(outside)}` });
      fs.symlinkSync(path.dirname(outside), path.join(viaFolder, 'sub'));
      await refused(viaFolder, `names "sub/${path.basename(outside)}", which leads outside its folder through a symbolic link`);
    } finally {
      fs.rmSync(outside);
    }
  });

  it('a missing shard, or a folder in its place', async () => {
    const dir = shardedModel();
    fs.rmSync(path.join(dir, SHARD_2));
    await refused(dir, `names "${SHARD_2}", which is missing`);
    fs.mkdirSync(path.join(dir, SHARD_2));
    await refused(dir, `names "${SHARD_2}", which is a folder, not a regular file`);
  });

  it('an index that is not JSON, not UTF-8, or of the wrong shape', async () => {
    const dir = shardedModel();
    writeIndex(dir, '{"weight_map": {');
    await refused(dir, /^not valid JSON/);
    fs.writeFileSync(path.join(dir, INDEX), Buffer.from([0x7b, 0xff, 0x7d]));
    await refused(dir, 'is not UTF-8 text');
    writeIndex(dir, { weight_map: ['B'] });
    await refused(dir, /^weight_map: /);
    writeIndex(dir, { weight_map: { B: 7 } });
    await refused(dir, /^weight_map\.B: /);
    writeIndex(dir, { metadata: { total_size: 'big' }, weight_map: { B: SHARD_1 } });
    await refused(dir, /^metadata\.total_size: /);
    writeIndex(dir, { weight_map: {} });
    await refused(dir, 'weight_map names no tensors');
    writeIndex(dir, [1, 2]);
    await refused(dir, /^file: /);
  });

  it('a damaged shard is named by its own path', async () => {
    const dir = shardedModel();
    fs.truncateSync(path.join(dir, SHARD_2), 100);
    const error = await formatErrorOf(safetensorsReader.open(path.join(dir, INDEX)), path.join(dir, SHARD_2));
    expect(error.problem).toMatch(/truncated/);
  });

  it('sniff says no to an index without a weight_map and to an index of bad JSON', async () => {
    const dir = shardedModel();
    writeIndex(dir, { metadata: { total_size: 1 } });
    expect(await safetensorsReader.sniff(path.join(dir, INDEX))).toBe(false);
    writeIndex(dir, '{');
    expect(await safetensorsReader.sniff(path.join(dir, INDEX))).toBe(false);
  });
});
