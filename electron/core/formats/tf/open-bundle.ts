// One bundle prefix (`<dir>/<prefix>.index` and its `.data-*` shards) described as a
// ForeignCheckpoint: the index decoded and checked against the shards' real sizes, names and roles
// worked out, and the step found. Only a few scalar bytes of tensor data are read (step counters
// and the object graph).
import path from 'node:path';
import { crc32c } from '../../base/crc32c.js';
import { quoted, shown } from '../../base/describe-value.js';
import { CheckpointFormatError, DamagedTensorError } from '../../base/errors.js';
import type { ForeignCheckpoint, ForeignFile, ForeignTensor } from '../foreign.js';
import { type BundleIndex, type IndexedTensor, decodeBundleIndex } from './bundle-index.js';
import { dataFileName, indexFileName } from './bundle-files.js';
import { type StepDecision, decideStep, stepCandidates } from './checkpoint-step.js';
import { fileSize, readRange, readWholeFile } from './file-reads.js';
import { unmaskCrc } from './masked-crc.js';
import { OBJECT_GRAPH_KEY, type TrackableNode, decodeObjectGraph } from './object-graph.js';
import { stringTensorChecksum, stringTensorElements } from './string-tensor.js';
import { nameTensors } from './tensor-names.js';

/** Far beyond any real index (a few hundred bytes per tensor); a larger file is refused before it is read. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;
/** The object graph of a large Keras model is a few MB; it is read whole in open(). */
const MAX_GRAPH_BYTES = 256 * 1024 * 1024;

export interface BundleContext {
  /** Unix ms from the folder's `checkpoint` file, when it lists this prefix with a timestamp. */
  readonly savedAt: number | null;
  /** The folder's `checkpoint` file name, when there is one (listed among the files as metadata). */
  readonly stateFile: { readonly name: string; readonly bytes: number } | null;
}

export async function openBundle(dir: string, prefix: string, context: BundleContext): Promise<ForeignCheckpoint> {
  const { index, indexFile } = await readIndex(dir, prefix);
  const files = [indexFile, ...(await dataFiles(dir, prefix, index))];
  const metaSize = await fileSize(path.join(dir, `${prefix}.meta`));
  if (metaSize !== null) files.push({ name: `${prefix}.meta`, bytes: metaSize, role: 'kept' });
  if (context.stateFile !== null) files.push({ name: context.stateFile.name, bytes: context.stateFile.bytes, role: 'metadata' });
  const { naming, decision, notes } = await nameAndStep(dir, prefix, index);
  return {
    format: 'tf-bundle',
    formatLabel: formatLabel(dir, prefix, naming.style),
    dir,
    name: prefix,
    step: decision.step,
    stepSource: decision.stepSource,
    savedAt: context.savedAt,
    files,
    tensors: describeTensors(prefix, index, naming, decision),
    metrics: {},
    notes,
  };
}

async function readIndex(dir: string, prefix: string): Promise<{ index: BundleIndex; indexFile: ForeignFile }> {
  const name = indexFileName(prefix);
  const bytes = await readWholeFile(path.join(dir, name), MAX_INDEX_BYTES);
  return { index: decodeBundleIndex(bytes, path.join(dir, name)), indexFile: { name, bytes: bytes.length, role: 'index' } };
}

/** The data shards the index says there are, each present and long enough for the tensors it holds. */
async function dataFiles(dir: string, prefix: string, index: BundleIndex): Promise<ForeignFile[]> {
  const numShards = index.header.numShards;
  const files: ForeignFile[] = [];
  for (let shard = 0; shard < numShards; shard++) {
    const name = dataFileName(prefix, shard, numShards);
    const size = await fileSize(path.join(dir, name));
    if (size === null) {
      const user = index.tensors.find((t) => t.shardId === shard);
      throw new CheckpointFormatError(
        path.join(dir, name),
        `is missing: shard ${shard + 1} of ${numShards} of ${prefix}${user === undefined ? '' : `, holding tensor ${quoted(user.name)}`}`,
      );
    }
    files.push({ name, bytes: size, role: 'tensors' });
  }
  for (const t of index.tensors) {
    const shardSize = files[t.shardId]?.bytes ?? 0;
    if (t.offset + t.size > shardSize) {
      throw new CheckpointFormatError(
        path.join(dir, indexFileName(prefix)),
        `tensor ${quoted(t.name)}: bytes ${t.offset}…${t.offset + t.size} run past the end of ${dataFileName(prefix, t.shardId, numShards)} (${shardSize} bytes)`,
        t.at,
      );
    }
  }
  return files;
}

type Naming = ReturnType<typeof nameTensors>;

/** The tensors' readable names and roles (from the object graph when there is one), and the step. */
async function nameAndStep(dir: string, prefix: string, index: BundleIndex): Promise<{ naming: Naming; decision: StepDecision; notes: string[] }> {
  const numShards = index.header.numShards;
  const graphTensor = index.tensors.find((t) => t.name === OBJECT_GRAPH_KEY && t.dtype === 'STRING' && t.elements === 1);
  const graph = graphTensor === undefined ? null : await readObjectGraph(dir, prefix, numShards, graphTensor);
  const naming = nameTensors(index.tensors, graph);
  const notes = [...naming.notes];
  // Only a scalar can hold the step: the rest are not looked at again here.
  const scalars = index.tensors.filter((t) => t.shape.length === 0);
  const described = scalars.map((t) => {
    const named = naming.names.get(t.name);
    return { ...t, displayName: named?.displayName ?? t.name, role: named?.role ?? 'model' };
  });
  const candidates = stepCandidates(described, naming.style, prefix);
  const candidateNames = new Set(candidates.map((c) => c.name));
  const values = await readScalars(
    dir,
    prefix,
    numShards,
    scalars.filter((t) => candidateNames.has(t.name)),
    notes,
  );
  const decision = decideStep(prefix, naming.style, candidates, values);
  notes.push(...decision.notes);
  return { naming, decision, notes };
}

function describeTensors(prefix: string, index: BundleIndex, naming: Naming, decision: StepDecision): ForeignTensor[] {
  const numShards = index.header.numShards;
  return index.tensors.map((t) => {
    const named = naming.names.get(t.name);
    let role = named?.role ?? 'model';
    // A step-like variable that was not taken as the step (a user's `step` that never moved) is just state.
    if (t.name === decision.stepTensor) role = 'step';
    else if (role === 'step') role = 'other';
    return {
      name: t.name,
      displayName: named?.displayName ?? t.name,
      dtype: t.dtype,
      shape: t.shape,
      file: dataFileName(prefix, t.shardId, numShards),
      offset: t.offset,
      bytes: t.size,
      role,
      ...(named?.slot === undefined ? {} : { slot: named.slot }),
      storedCrc32c: unmaskCrc(t.maskedCrc32c),
    };
  });
}

function formatLabel(dir: string, prefix: string, style: 'tf1' | 'tf2'): string {
  const names = style === 'tf1' ? 'TF1 Saver names' : 'TF2 object-based names';
  if (prefix === 'variables' && path.basename(dir) === 'variables') return `TensorFlow SavedModel variables (${names})`;
  return `TensorFlow checkpoint (${names})`;
}

async function readObjectGraph(dir: string, prefix: string, numShards: number, t: IndexedTensor): Promise<TrackableNode[]> {
  const file = path.join(dir, dataFileName(prefix, t.shardId, numShards));
  if (t.size > MAX_GRAPH_BYTES) throw new CheckpointFormatError(file, `the object graph claims ${t.size} bytes, more than ${MAX_GRAPH_BYTES}`, t.offset);
  const stored = await readRange(file, t.offset, t.size);
  const actual = stringTensorChecksum(stored, 1, file, t.name);
  if (actual !== unmaskCrc(t.maskedCrc32c)) throw new DamagedTensorError(file, t.name, `the object graph's ${t.size} bytes at ${t.offset} fail their CRC-32C`);
  const [graphBytes] = stringTensorElements(stored, 1);
  const graphOffset = t.offset + t.size - (graphBytes?.length ?? 0);
  return decodeObjectGraph(graphBytes ?? new Uint8Array(0), file, graphOffset);
}

async function readScalars(dir: string, prefix: string, numShards: number, tensors: readonly IndexedTensor[], notes: string[]): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  for (const t of tensors) {
    const file = path.join(dir, dataFileName(prefix, t.shardId, numShards));
    const bytes = Buffer.from(await readRange(file, t.offset, t.size));
    if (crc32c(bytes) !== unmaskCrc(t.maskedCrc32c)) {
      notes.push(`${shown(t.name)} fails its checksum, so its value is not used as the step.`);
      continue;
    }
    const value = scalarValue(bytes, t.dtype);
    if (value !== null) values.set(t.name, value);
  }
  return values;
}

function scalarValue(bytes: Buffer, dtype: string): number | null {
  switch (dtype) {
    case 'I8':
      return bytes.readInt8(0);
    case 'U8':
      return bytes.readUInt8(0);
    case 'I16':
      return bytes.readInt16LE(0);
    case 'U16':
      return bytes.readUInt16LE(0);
    case 'I32':
      return bytes.readInt32LE(0);
    case 'U32':
      return bytes.readUInt32LE(0);
    case 'I64':
      return Number(bytes.readBigInt64LE(0));
    case 'U64':
      return Number(bytes.readBigUInt64LE(0));
    case 'F32':
      return bytes.readFloatLE(0);
    case 'F64':
      return bytes.readDoubleLE(0);
    default:
      return null;
  }
}
