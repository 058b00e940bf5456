// Loose safetensors files and sharded safetensors checkpoints (`model.safetensors.index.json` and
// the shards it names) in a folder that is not a Hugging Face checkpoint folder of its own.
import path from 'node:path';
import type { FolderEntry, FolderListing, InPlaceCheckpoint, InPlaceRun } from '../checkpoint/in-place.js';
import { FORMAT_NAMES } from '../formats/registry.js';
import { INDEX_SUFFIX, isIndexName } from '../formats/safetensors/sharded.js';
import { looksLikeIndex, looksLikeSafetensors } from '../formats/safetensors/sniff.js';
import { SAFETENSORS_SUFFIX } from '../formats/safetensors/tensor-file.js';
import { type LooseFile, type NamedNumbers, looseFileRuns } from './file-runs.js';

const SHARD_NAME = /-(\d{5})-of-(\d{5})\.safetensors$/;

/** A step in a safetensors file's name: `model-1000.safetensors`, `step_500.safetensors`. */
export function safetensorsNameNumbers(name: string): NamedNumbers {
  const stem = name.slice(0, -SAFETENSORS_SUFFIX.length);
  const match = /(?:^|[-_.])(?:step|steps|iter|it|global_step)?[-_]?(\d+)$/i.exec(stem);
  if (!match) return { step: null, epoch: null, source: null, metrics: {} };
  const step = Number(match[1]);
  return Number.isSafeInteger(step)
    ? { step, epoch: null, source: `step ${step} from the name ${name}`, metrics: {} }
    : { step: null, epoch: null, source: null, metrics: {} };
}

/** A sharded checkpoint: its index and the shards named like it (`model-00001-of-00002.safetensors`). */
function shardedCheckpoint(index: FolderEntry, shards: readonly FolderEntry[]): InPlaceCheckpoint {
  const counts = new Set(shards.map((s) => Number(SHARD_NAME.exec(s.name)?.[2])));
  const count = counts.size === 1 ? ([...counts][0] as number) : null;
  const present = new Set(shards.map((s) => Number(SHARD_NAME.exec(s.name)?.[1])));
  const missing = count === null ? null : Array.from({ length: count }, (_, i) => i + 1).find((i) => !present.has(i));
  const reason = count === null ? 'its shards disagree on how many there are' : missing !== undefined ? `shard ${missing} of ${count} is not there` : null;
  const files = [index, ...shards].map((e) => ({ name: e.name, bytes: e.bytes, mtimeMs: e.mtimeMs }));
  return {
    name: index.name,
    folder: null,
    step: null,
    epoch: null,
    stepSource: null,
    files,
    complete: reason === null,
    incompleteReason: reason,
    format: 'safetensors',
    formatLabel: FORMAT_NAMES.safetensors,
    savedAt: Math.max(...files.map((f) => f.mtimeMs)),
    metrics: {},
    notes: [],
  };
}

export async function scanSafetensorsFiles(listing: FolderListing): Promise<InPlaceRun[]> {
  const files = listing.entries.filter((e) => e.kind === 'file');
  const runs: InPlaceRun[] = [];
  const sharded = new Set<string>();
  for (const index of files.filter((e) => isIndexName(e.name))) {
    if (!(await looksLikeIndex(path.join(listing.dir, index.name)))) continue;
    const base = index.name.slice(0, -INDEX_SUFFIX.length);
    const shards = files.filter((e) => e.name.startsWith(`${base}-`) && SHARD_NAME.test(e.name));
    for (const shard of shards) sharded.add(shard.name);
    runs.push({
      file: index.name,
      layout: 'safetensors-files',
      label: 'safetensors files',
      checkpoints: [shardedCheckpoint(index, shards)],
      latest: null,
      claimed: [],
      config: null,
      series: [],
      notes: [],
    });
  }
  const loose: LooseFile[] = [];
  for (const entry of files) {
    if (!entry.name.endsWith(SAFETENSORS_SUFFIX) || sharded.has(entry.name)) continue;
    if (await looksLikeSafetensors(path.join(listing.dir, entry.name))) loose.push({ entry, format: 'safetensors', formatLabel: FORMAT_NAMES.safetensors });
  }
  return [...runs, ...looseFileRuns(loose, (e) => safetensorsNameNumbers(e.name), { layout: 'safetensors-files', label: 'safetensors files' })];
}
