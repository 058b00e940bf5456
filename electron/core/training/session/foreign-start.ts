// The trainer's side of continuing from another program's checkpoint: the tensors the Studio's
// mapping named are read (every one checked against its CRC-32C) and handed over under our
// names, ready for TrainingLoop.startFrom.
import { StudioError } from '../../../contract.js';
import path from 'node:path';
import type { CheckpointInfo, TrainingConfig } from '../../../contract.js';
import { MANIFEST_FILE } from '../../checkpoint/layout.js';
import { type Manifest, readManifest } from '../../checkpoint/manifest.js';
import type { Tensor } from '../../checkpoint/safetensors.js';
import { hasForeignPart } from '../../checkpoint/foreign-part.js';
import { readStoredForeign } from '../../formats/stored-foreign.js';
import { type MappingPlan, planMapping } from '../foreign-mapping.js';
import type { ForeignTensorData } from '../../formats/foreign.js';
import { isForeignFormat, readerFor } from '../../formats/registry.js';

/** What a continued run needs of the checkpoint it continues: ours, or another program's. */
export type ParentCheckpoint = Pick<CheckpointInfo, 'id' | 'run' | 'step' | 'path' | 'trainingTimeMs'>;

export interface ForeignStart {
  readonly where: string;
  readonly model: readonly Tensor[];
  readonly optimizer: readonly Tensor[];
  readonly step: number;
}

function scalarF32(name: string, value: number): Tensor {
  return { name, dtype: 'F32', shape: [], data: new Uint8Array(new Float32Array([value]).buffer) };
}

export async function loadForeignStart(parent: ParentCheckpoint, config: TrainingConfig, map: Readonly<Record<string, string>>): Promise<ForeignStart> {
  return loadImportedStart(parent, parent.path, await readManifest(path.join(parent.path, MANIFEST_FILE)), config, map);
}

/** The same, from the manifest of an imported checkpoint whose files are in `dir` (a folder, or an address in a mounted bucket). */
export function loadImportedStart(
  parent: ParentCheckpoint,
  dir: string,
  manifest: Manifest,
  config: TrainingConfig,
  map: Readonly<Record<string, string>>,
): Promise<ForeignStart> {
  if (!hasForeignPart(manifest)) throw new StudioError('refused', `${parent.id}: not imported from another program's format`);
  const plan = planMapping(manifest.foreign.tensors, { where: parent.id, spec: config.model, map, optimizer: config.optimizer.name });
  const wanted = new Set([...plan.weights.map((w) => w.theirs), ...plan.optimizer.map((o) => o.theirs)]);
  return startFrom(parent, config, plan, readStoredForeign(dir, manifest, wanted));
}

/** The same, from another program's checkpoint read where it lies (through its format's reader, which checks the format's own checksums). */
export async function loadInPlaceStart(
  parent: ParentCheckpoint,
  where: { readonly path: string; readonly format: string; readonly name: string },
  config: TrainingConfig,
  map: Readonly<Record<string, string>>,
): Promise<ForeignStart> {
  if (!isForeignFormat(where.format)) throw new StudioError('refused', `${parent.id}: no reader for its format`);
  const reader = readerFor(where.format);
  const source = await reader.open(where.path);
  const checkpoint = source.checkpoints.find((c) => c.name === where.name) ?? (source.checkpoints.length === 1 ? source.checkpoints[0] : undefined);
  if (!checkpoint) throw new StudioError('not-found', `${where.path}: no longer holds the checkpoint ${parent.id}`);
  const plan = planMapping(checkpoint.tensors, { where: parent.id, spec: config.model, map, optimizer: config.optimizer.name });
  const wanted = new Set([...plan.weights.map((w) => w.theirs), ...plan.optimizer.map((o) => o.theirs)]);
  return startFrom(parent, config, plan, reader.read(checkpoint, { names: wanted }));
}

/** Our weights and optimizer slots, taken from the tensors `read` yields as the plan maps them. */
async function startFrom(
  parent: ParentCheckpoint,
  config: TrainingConfig,
  plan: MappingPlan,
  tensors: AsyncIterable<ForeignTensorData>,
): Promise<ForeignStart> {
  const read = new Map<string, Tensor>();
  for await (const item of tensors) {
    if (item.tensor.dtype === 'STRING') continue;
    read.set(item.tensor.name, { name: item.tensor.name, dtype: item.tensor.dtype, shape: item.tensor.shape, data: item.data });
  }
  const take = (theirs: string, ours: string): Tensor => {
    const tensor = read.get(theirs);
    if (!tensor) throw new StudioError('damaged', `${parent.id}: tensor "${theirs}" could not be read`);
    return { ...tensor, name: ours };
  };
  const model = plan.weights.map((w) => take(w.theirs, w.ours));
  const optimizer = plan.optimizer.map((o) => take(o.theirs, o.ours));
  const { optimizer: spec } = config;
  // Adam's moments carried over without the bias-correction powers that go with them: the powers
  // after `step` updates, as TensorFlow's Adam would hold them.
  if (spec.name === 'adam' && optimizer.length > 0) {
    for (const [power, beta] of [
      ['optimizer/beta1_power', spec.beta1],
      ['optimizer/beta2_power', spec.beta2],
    ] as const) {
      if (!optimizer.some((t) => t.name === power)) optimizer.push(scalarF32(power, beta ** (parent.step + 1)));
    }
  }
  return { where: parent.id, model, optimizer, step: parent.step };
}
