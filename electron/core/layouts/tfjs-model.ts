// A TensorFlow.js layers model saved to a folder: model.json and the weight shards its manifest
// names; one checkpoint, whole when every shard is there.
import path from 'node:path';
import { shown } from '../base/describe-value.js';
import type { FolderListing, InPlaceRun } from '../checkpoint/in-place.js';
import { FORMAT_NAMES } from '../formats/registry.js';
import { MAX_MODEL_JSON_BYTES, parseModelJson } from '../formats/tfjs/model-json.js';
import { readText } from '../storage/file-access.js';

const MODEL_JSON = 'model.json';

export async function scanTfjsModel(listing: FolderListing): Promise<InPlaceRun | null> {
  const model = listing.entries.find((e) => e.name === MODEL_JSON && e.kind === 'file');
  if (!model) return null;
  const file = path.join(listing.dir, MODEL_JSON);
  let paths: string[];
  try {
    const parsed = parseModelJson(file, await readText(file, MAX_MODEL_JSON_BYTES));
    paths = parsed.weightsManifest.flatMap((group) => group.paths);
  } catch {
    // A model.json of something else (a web app's, say) is not a checkpoint; inspect and verify say what is wrong with a damaged one.
    return null;
  }
  const byName = new Map(listing.entries.map((e) => [e.name, e]));
  const shards = [...new Set(paths)].map((name) => ({ name, entry: byName.get(name) }));
  const missing = shards.find((s) => s.entry?.kind !== 'file');
  const files = [model, ...shards.flatMap((s) => (s.entry ? [s.entry] : []))].map((e) => ({ name: e.name, bytes: e.bytes, mtimeMs: e.mtimeMs }));
  return {
    file: null,
    layout: 'tfjs-model',
    label: 'TensorFlow.js model folder',
    checkpoints: [
      {
        name: MODEL_JSON,
        folder: null,
        step: null,
        epoch: null,
        stepSource: 'a TensorFlow.js model records no step',
        files,
        complete: missing === undefined,
        incompleteReason: missing ? `${shown(missing.name)}, which ${MODEL_JSON} names, is not there` : null,
        format: 'tfjs-layers',
        formatLabel: FORMAT_NAMES['tfjs-layers'],
        savedAt: Math.max(...files.map((f) => f.mtimeMs)),
        metrics: {},
        notes: [],
      },
    ],
    latest: null,
    claimed: [],
    config: null,
    series: [],
    notes: [],
  };
}
