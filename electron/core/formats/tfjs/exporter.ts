// Writes a TF.js layers model that `tf.loadLayersModel` opens: `model.json` as tfjs-layers'
// own `model.save` writes it (models.ts: modelTopology from `toJSON(null, false)`, one weights
// group with the optimizer's weights after the model's, marked `group: "optimizer"`), its bytes
// split into 4 MB shards named as the converter names them (`group1-shardNofM.bin`). Nothing is
// overwritten: every file is created exclusively, and model.json last, so an interrupted export
// leaves no model.json that points at missing shards.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ExportTensor } from '../foreign.js';
import type { Dtype } from '../../base/dtypes.js';
import { tensorByteLength } from '../../base/dtypes.js';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError, RefusedError } from '../../base/errors.js';
import { exists } from '../../base/path-state.js';
import { temporaryName } from '../../base/temporaries.js';
import { writeAtomically, writeFileDurably } from '../../base/durable-fs.js';
import { STUDIO_VERSION } from '../../version.js';

/** The converter's default shard size (tfjs-converter write_weights.py, 4 MiB). */
export const SHARD_BYTES = 4 * 1024 * 1024;

/** Our dtypes tfjs loads, with its names for them. */
const TFJS_DTYPE: Partial<Record<Dtype, 'float32' | 'int32' | 'bool'>> = { F32: 'float32', I32: 'int32', BOOL: 'bool' };

export interface TfjsModelExport {
  /** The Keras JSON of the model: `model.toJSON(null, false)`, as `model.save` stores it. */
  readonly modelTopology: unknown;
  /** Named as the topology's layers name their weights (`dense_0/kernel`), in the model's weight order. */
  readonly weights: readonly ExportTensor[];
  /** Named as tfjs optimizers name them (`iter`, `dense_0/kernel/m`); stored as group "optimizer". */
  readonly optimizerWeights?: readonly ExportTensor[];
  readonly trainingConfig?: unknown;
  readonly userDefinedMetadata?: Readonly<Record<string, unknown>>;
}

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  group?: 'optimizer';
}

function shardName(index: number, count: number): string {
  return `group1-shard${index + 1}of${count}.bin`;
}

/** Cuts the concatenated weight bytes into SHARD_BYTES pieces, as views (no copy of the data). */
function shards(chunks: readonly Uint8Array[], total: number): Uint8Array[][] {
  const count = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const out: Uint8Array[][] = Array.from({ length: count }, () => []);
  let position = 0;
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.byteLength) {
      const shard = Math.floor(position / SHARD_BYTES);
      const take = Math.min(chunk.byteLength - done, SHARD_BYTES - (position % SHARD_BYTES));
      (out[shard] as Uint8Array[]).push(chunk.subarray(done, done + take));
      done += take;
      position += take;
    }
  }
  return out;
}

/** Writes model.json and its shards into `outDir` (created if missing); returns the files written. */
export async function writeTfjsModel(outDir: string, model: TfjsModelExport): Promise<string[]> {
  const modelJson = path.join(outDir, 'model.json');
  const entries: ManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const names = new Set<string>();
  let total = 0;
  const add = (tensor: ExportTensor, group: 'optimizer' | undefined): void => {
    const dtype = TFJS_DTYPE[tensor.dtype];
    if (!dtype)
      throw new CheckpointFormatError(
        modelJson,
        `tensor ${quoted(tensor.name)} is ${tensor.dtype}; TensorFlow.js layers models hold float32, int32 and bool weights`,
      );
    if (names.has(tensor.name)) throw new CheckpointFormatError(modelJson, `tensor ${quoted(tensor.name)} appears twice`);
    names.add(tensor.name);
    const expected = tensorByteLength(tensor.dtype, tensor.shape);
    if (expected !== tensor.data.byteLength) {
      throw new CheckpointFormatError(
        modelJson,
        `tensor ${quoted(tensor.name)} (${tensor.dtype} [${tensor.shape.join(', ')}]) needs ${expected} bytes, got ${tensor.data.byteLength}`,
      );
    }
    entries.push({ name: tensor.name, shape: [...tensor.shape], dtype, ...(group ? { group } : {}) });
    chunks.push(tensor.data);
    total += tensor.data.byteLength;
  };
  for (const tensor of model.weights) add(tensor, undefined);
  for (const tensor of model.optimizerWeights ?? []) add(tensor, 'optimizer');

  const pieces = shards(chunks, total);
  const paths = pieces.map((_, i) => shardName(i, pieces.length));
  const json = {
    modelTopology: model.modelTopology,
    format: 'layers-model',
    generatedBy: `checkpoint-studio ${STUDIO_VERSION}`,
    convertedBy: null,
    weightsManifest: [{ paths, weights: entries }],
    ...(model.trainingConfig === undefined ? {} : { trainingConfig: model.trainingConfig }),
    ...(model.userDefinedMetadata === undefined ? {} : { userDefinedMetadata: model.userDefinedMetadata }),
  };
  await mkdir(outDir, { recursive: true });
  for (const name of [...paths, 'model.json']) {
    if (await exists(path.join(outDir, name))) throw new RefusedError(outDir, `already holds ${name}; export into a folder without a model`);
  }
  const written: string[] = [];
  try {
    for (const [i, piece] of pieces.entries()) {
      const file = path.join(outDir, paths[i] as string);
      await writeFileDurably(file, piece);
      written.push(file);
    }
    // model.json appears whole or not at all, and only once every shard it names is on disk.
    await writeAtomically(
      path.join(outDir, temporaryName('model.json')),
      modelJson,
      (stage) => writeFileDurably(stage, [Buffer.from(JSON.stringify(json), 'utf8')]),
      {
        taken: 'already exists; export into a folder without a model',
      },
    );
  } catch (error) {
    // Only files this call created (each was created exclusively) are removed.
    await Promise.all(written.map((file) => rm(file, { force: true })));
    throw error;
  }
  written.push(modelJson);
  return written;
}
