// Exports a checkpoint to another program's format: a TensorFlow tensor bundle, a TensorFlow.js
// layers model, or one safetensors file. The source is any checkpoint we read: one of ours, an
// imported one, or another program's read in place. What is written appears whole or not at
// all: it is built under a temporary name beside OUT and renamed into place, and OUT is never
// overwritten.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ExportFormat, ExportResult } from '../../contract.js';
import { type Dtype, isDtype } from '../base/dtypes.js';
import { writeAtomically, writeFileDurably } from '../base/durable-fs.js';
import { statIfPresent } from '../base/path-state.js';
import { RefusedError } from '../base/errors.js';
import { MANIFEST_FILE } from '../checkpoint/layout.js';
import { readManifest } from '../checkpoint/manifest.js';
import { loadCheckpoint } from '../checkpoint/reader.js';
import { encodeSafetensors } from '../checkpoint/safetensors.js';
import { temporaryName } from '../base/temporaries.js';
import type { ExportTensor, ForeignTensorData } from '../formats/foreign.js';
import { hasForeignPart } from '../checkpoint/foreign-part.js';
import { readStoredForeign } from '../formats/stored-foreign.js';
import { writeTfBundle } from '../formats/tf/tf-writer.js';
import { writeTfjsModel } from '../formats/tfjs/exporter.js';
import { type ModelSpec, TrainingConfigSchema, StudioError } from '../../contract.js';
import { STUDIO_VERSION } from '../version.js';
import { presetTopology } from './preset-topology.js';
import { type TargetLocator, readInPlace } from '../studio/locate.js';
import { mapFileOf, planMapping, presetWeights, type SourceTensor } from '../training/foreign-mapping.js';

/** A checkpoint's tensors as the exporters take them, with what is known about it. */
interface ExportSource {
  readonly label: string;
  readonly step: number;
  /** Model weights under our preset's names, when known (ours, or a foreign checkpoint a preset takes). */
  readonly spec: ModelSpec | null;
  readonly model: readonly ExportTensor[];
  /** Everything else: optimizer state and counters (ours), or a foreign checkpoint's other tensors. */
  readonly other: readonly ExportTensor[];
  readonly notes: readonly string[];
}

/** Our optimizer state under the names TensorFlow's (TF1) optimizers give it, so TensorFlow and our importer read it as slots. */
function tfOptimizerName(name: string): string | null {
  const slot = /^(.*)\/(m|v|velocity|ms)$/.exec(name);
  if (slot) return `${slot[1]}/${{ m: 'Adam', v: 'Adam_1', velocity: 'Momentum', ms: 'RMSProp' }[slot[2] as 'm' | 'v' | 'velocity' | 'ms']}`;
  if (name === 'optimizer/beta1_power' || name === 'optimizer/beta2_power') return name.slice('optimizer/'.length);
  // The step is written as global_step; the optimizer's own counter repeats it.
  if (name === 'optimizer/iterations') return null;
  return name;
}

function fromForeign(items: readonly ForeignTensorData[], notes: string[]): { model: ExportTensor[]; other: ExportTensor[]; all: SourceTensor[] } {
  const model: ExportTensor[] = [];
  const other: ExportTensor[] = [];
  const skipped: string[] = [];
  for (const { tensor, data } of items) {
    if (tensor.dtype === 'STRING' || !isDtype(tensor.dtype)) {
      skipped.push(tensor.name);
      continue;
    }
    const out = { name: tensor.name, dtype: tensor.dtype as Dtype, shape: [...tensor.shape], data };
    (tensor.role === 'model' && !tensor.slot ? model : other).push(out);
  }
  if (skipped.length > 0) notes.push(`not exported (string tensors, such as TensorFlow's object graph): ${skipped.join(', ')}`);
  return { model, other, all: items.map((i) => i.tensor) };
}

/** A foreign checkpoint's weights under our names, when a preset takes them; else null. */
function asPreset(all: readonly SourceTensor[], model: readonly ExportTensor[], where: string): { spec: ModelSpec; model: ExportTensor[] } | null {
  try {
    const plan = planMapping(all, { where, optimizer: 'sgd' });
    const byName = new Map(model.map((t) => [t.name, t]));
    const map = mapFileOf(plan);
    return { spec: plan.spec, model: presetWeights(plan.spec).map((w) => ({ ...(byName.get(map[w.name] as string) as ExportTensor), name: w.name })) };
  } catch (error) {
    // No preset takes these tensors: they are exported under their own names.
    if (error instanceof StudioError) return null;
    throw error;
  }
}

async function ourCheckpoint(dir: string, label: string): Promise<ExportSource> {
  const manifest = await readManifest(path.join(dir, MANIFEST_FILE));
  const notes: string[] = [];
  if (hasForeignPart(manifest)) {
    const items: ForeignTensorData[] = [];
    for await (const item of readStoredForeign(dir, manifest)) items.push(item);
    const { model, other, all } = fromForeign(items, notes);
    const preset = asPreset(all, model, label);
    return { label, step: manifest.step, spec: preset?.spec ?? null, model: preset ? preset.model : model, other, notes };
  }
  const loaded = await loadCheckpoint(dir);
  const config = TrainingConfigSchema.safeParse(loaded.manifest.extra.config);
  return { label, step: loaded.manifest.step, spec: config.success ? config.data.model : null, model: loaded.model, other: loaded.optimizer, notes };
}

async function inPlace(located: Extract<Awaited<ReturnType<TargetLocator['locate']>>, { kind: 'foreign' }>): Promise<ExportSource> {
  const source = await located.reader.open(located.path);
  const checkpoint = source.checkpoints.find((c) => c.name === source.latest) ?? source.checkpoints.at(-1);
  if (!checkpoint) throw new RefusedError(located.path, 'holds no checkpoint to export');
  const items: ForeignTensorData[] = [];
  for await (const item of located.reader.read(checkpoint)) items.push(item);
  const notes: string[] =
    source.checkpoints.length > 1
      ? [
          `exported ${checkpoint.name}, the ${source.latest === checkpoint.name ? 'latest' : 'last'} of the ${source.checkpoints.length} checkpoints at ${located.path}`,
        ]
      : [];
  const label = path.join(checkpoint.dir, checkpoint.name);
  const { model, other, all } = fromForeign(items, notes);
  const preset = asPreset(all, model, label);
  return { label, step: checkpoint.step ?? 0, spec: preset?.spec ?? null, model: preset ? preset.model : model, other, notes };
}

async function gather(locator: TargetLocator, target: string): Promise<ExportSource> {
  const located = readInPlace(await locator.locate(target));
  if (located.kind === 'foreign') return inPlace(located);
  if (located.kind === 'checkpoint') return ourCheckpoint(located.checkpoint.path, located.checkpoint.id);
  if (located.kind === 'folder') return ourCheckpoint(located.path, located.path);
  throw new RefusedError(located.path, 'is not a checkpoint this program reads');
}

/** Writes `source` as `format` into `temporary` (a folder for tf and tfjs, a file for safetensors); returns the names written. */
async function write(format: ExportFormat, source: ExportSource, temporary: string, out: string, notes: string[]): Promise<string[]> {
  if (format === 'safetensors') {
    const tensors = [...source.model, ...source.other];
    const encoded = encodeSafetensors(out, tensors, {
      format: 'pt',
      step: String(source.step),
      exported_by: `checkpoint-studio ${STUDIO_VERSION}`,
      source: source.label,
    });
    await writeFileDurably(temporary, [encoded.header, ...encoded.payloads]);
    return [path.basename(out)];
  }
  await mkdir(temporary);
  if (format === 'tf') {
    const renamed: ExportTensor[] = [...source.model];
    for (const tensor of source.other) {
      const name = tfOptimizerName(tensor.name);
      if (name !== null) renamed.push({ ...tensor, name });
    }
    const written = await writeTfBundle(temporary, `model.ckpt-${source.step}`, renamed, { step: source.step });
    return [written.indexFile, written.dataFile, written.stateFile].map((f) => path.basename(f));
  }
  if (!source.spec)
    throw new RefusedError(
      source.label,
      'its tensors match none of our model presets, so there is no TensorFlow.js topology to export them with; export it as safetensors or tf',
    );
  const topology = await presetTopology(source.spec);
  if (source.other.length > 0) notes.push('optimizer state is not exported to TensorFlow.js (tf.loadLayersModel loads the model and its weights)');
  const files = await writeTfjsModel(temporary, {
    modelTopology: topology,
    weights: source.model,
    userDefinedMetadata: { step: source.step, source: source.label },
  });
  return files.map((f) => path.relative(temporary, path.resolve(temporary, f)));
}

const EXPORT_TAKEN = 'already exists; exports never overwrite: name a new path';

export async function exportCheckpoint(
  locator: TargetLocator,
  params: { readonly target: string; readonly format: ExportFormat; readonly out: string },
): Promise<ExportResult> {
  const out = path.resolve(params.out);
  const parent = path.dirname(out);
  if (!(await statIfPresent(parent, { follow: true }))?.isDirectory()) throw new StudioError('not-found', `${parent}: no such folder to export into`);
  const temporary = path.join(parent, temporaryName(path.basename(out)));
  return writeAtomically(
    temporary,
    out,
    async (stage) => {
      const source = await gather(locator, params.target);
      const notes = [...source.notes];
      const files = await write(params.format, source, stage, out, notes);
      return { out, format: params.format, files, tensors: source.model.length + source.other.length, step: source.step, notes };
    },
    { taken: EXPORT_TAKEN },
  );
}
