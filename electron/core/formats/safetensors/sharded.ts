// A sharded checkpoint: `model.safetensors.index.json` (transformers modeling_utils.py,
// SAFE_WEIGHTS_INDEX_NAME) maps every tensor to the shard holding it:
//   { "metadata": { "total_size": <bytes of all tensors> }, "weight_map": { "<tensor>": "<shard file>" } }
// The index is trusted for nothing: each shard's own header says what it holds, and the two must agree.
import path from 'node:path';
import { z } from 'zod';
import { quoted, shown } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import type { ForeignTensor } from '../foreign.js';
import { fileInsideFolder } from './inside-folder.js';
import { readJson } from './json-file.js';
import { type TensorFile, listNames, metadataNote, readTensorFile, tensorsOf } from './tensor-file.js';

export const INDEX_SUFFIX = '.safetensors.index.json';

export function isIndexName(name: string): boolean {
  return name.endsWith(INDEX_SUFFIX) && name.length > INDEX_SUFFIX.length;
}

const IndexSchema = z.object({
  metadata: z.looseObject({ total_size: z.number().nullable().optional() }).nullable().optional(),
  weight_map: z.record(z.string(), z.string()),
});

export interface ShardedIndex {
  /** The index's name relative to the checkpoint folder. */
  readonly name: string;
  readonly bytes: number;
  readonly shards: readonly TensorFile[];
  readonly tensors: readonly ForeignTensor[];
  readonly notes: readonly string[];
}

/** Reads `dir`/`name` and the headers of every shard it names, and checks that they agree. */
export async function readShardedIndex(dir: string, name: string, bytes: number): Promise<ShardedIndex> {
  const indexFile = path.join(dir, name);
  const index = await readJson(indexFile, IndexSchema);
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(indexFile, problem);
  };
  const weightMap = Object.entries(index.weight_map);
  if (weightMap.length === 0) fail('weight_map names no tensors');

  const shardNames = new Map<string, string>(); // as written → checked, `/`-separated
  for (const [, shard] of weightMap) {
    if (!shardNames.has(shard)) shardNames.set(shard, await fileInsideFolder(indexFile, dir, shard));
  }
  const distinct = [...new Set(shardNames.values())].sort();
  const shards: TensorFile[] = [];
  for (const shard of distinct) shards.push(await readTensorFile(dir, shard));

  const holder = new Map<string, string>();
  const tensors: ForeignTensor[] = [];
  for (const shard of shards) {
    for (const tensor of tensorsOf(shard)) {
      const first = holder.get(tensor.name);
      if (first !== undefined) fail(`tensor ${quoted(tensor.name)} is in two shards, ${first} and ${shard.name}`);
      holder.set(tensor.name, shard.name);
      tensors.push(tensor);
    }
  }
  for (const [tensor, shard] of weightMap) {
    const named = shardNames.get(shard) ?? shard;
    const actual = holder.get(tensor);
    if (actual === undefined) fail(`tensor ${quoted(tensor)} is mapped to ${named}, which does not hold it`);
    if (actual !== named) fail(`tensor ${quoted(tensor)} is mapped to ${named} but is in ${actual}`);
  }

  const notes: string[] = [];
  const unmapped = tensors.filter((t) => !Object.hasOwn(index.weight_map, t.name)).map((t) => t.name);
  if (unmapped.length > 0)
    notes.push(`${name}: tensors in its shards that its weight_map does not name (read all the same): ${listNames(unmapped.map(shown))}`);
  const totalSize = index.metadata?.total_size;
  const stored = tensors.reduce((sum, t) => sum + t.bytes, 0);
  if (typeof totalSize === 'number' && totalSize !== stored) {
    notes.push(`${name}: metadata.total_size says ${totalSize} bytes, but its shards hold ${stored} bytes of tensors`);
  }
  for (const shard of shards) {
    const note = metadataNote(shard);
    if (note !== null) notes.push(note);
  }
  return { name, bytes, shards, tensors, notes };
}
