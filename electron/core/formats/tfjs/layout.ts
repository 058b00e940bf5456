// Where each weight of a TF.js weights manifest lies: tfjs concatenates a group's files in
// `paths` order and lays the group's weights back to back in manifest order (io_utils.ts
// decodeWeights), so a weight's place follows from the sizes of those before it — and a weight
// may start in one shard and end in the next. Sizes are checked against the files' real sizes
// before anything is allocated, so a hostile shape cannot make us read or allocate past them.
import type { ForeignDtype, ForeignTensor, TensorRole } from '../foreign.js';
import { quoted } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { ConcatenatedFiles, type ShardFile } from './shard-files.js';
import { TFJS_VALUE_BYTES, type TfjsWeightEntry } from './model-json.js';

/** Bytes of the u32 length before each element of a string weight (io_utils.ts NUM_BYTES_STRING_LENGTH). */
const STRING_LENGTH_BYTES = 4;
/** String weights' lengths are scanned in chunks of this many bytes. */
const SCAN_CHUNK = 1024 * 1024;

/** Optimizer slot suffixes tfjs's optimizers give their weights (`${variable}/${slot}`, tfjs-core/src/optimizers). */
const SLOT_NAMES = new Set(['m', 'v', 'momentum', 'rms', 'mg', 'accumulator', 'accum_grad', 'accum_var']);
/** The iteration counter every tfjs optimizer saves first (optimizer.ts saveIterations). */
const ITERATIONS_NAME = 'iter';

function logicalDtype(entry: TfjsWeightEntry): ForeignDtype {
  if (entry.quantization) return entry.dtype === 'int32' ? 'I32' : 'F32';
  switch (entry.dtype) {
    case 'float32':
      return 'F32';
    case 'float16':
      return 'F16';
    case 'int32':
      return 'I32';
    case 'bool':
      return 'BOOL';
    case 'complex64':
      return 'C64';
    case 'string':
      return 'STRING';
  }
}

/** Product of a shape, refusing one whose element count is past what a double holds exactly. */
export function checkedElementCount(file: string, name: string, shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (!Number.isSafeInteger(count))
      throw new CheckpointFormatError(file, `weight ${quoted(name)}: shape [${shape.join(', ')}] has more elements than can be addressed`);
  }
  return count;
}

async function stringBytes(files: ConcatenatedFiles, indexFile: string, entry: TfjsWeightEntry, count: number, start: number): Promise<number> {
  // Each element takes at least its length prefix: refuse a count the files cannot hold before scanning.
  if (count * STRING_LENGTH_BYTES > files.total - start) {
    throw new CheckpointFormatError(
      indexFile,
      `string weight ${quoted(entry.name)} has ${count} elements, more than the ${files.total - start} bytes left in its files can hold`,
    );
  }
  let position = start;
  let chunk: Uint8Array = new Uint8Array(0);
  let chunkStart = start;
  for (let i = 0; i < count; i += 1) {
    if (position + STRING_LENGTH_BYTES > files.total) {
      throw new CheckpointFormatError(
        files.locate(files.total).file.absolute,
        `string weight ${quoted(entry.name)} runs past the end of its files (element ${i} of ${count})`,
      );
    }
    if (position + STRING_LENGTH_BYTES > chunkStart + chunk.byteLength || position < chunkStart) {
      chunkStart = position;
      chunk = await files.read(position, Math.min(SCAN_CHUNK, files.total - position));
    }
    const length = new DataView(chunk.buffer, chunk.byteOffset + (position - chunkStart), STRING_LENGTH_BYTES).getUint32(0, true);
    position += STRING_LENGTH_BYTES + length;
  }
  return position - start;
}

function roleOf(entry: TfjsWeightEntry, modelNames: ReadonlySet<string>): { role: TensorRole; slot?: { variable: string; name: string } } {
  if (entry.group !== 'optimizer') return { role: 'model' };
  if (entry.name === ITERATIONS_NAME) return { role: 'step' };
  const cut = entry.name.lastIndexOf('/');
  const slotName = entry.name.slice(cut + 1);
  if (cut <= 0 || !SLOT_NAMES.has(slotName)) return { role: 'optimizer' };
  // tfjs names a slot after its variable's name in the engine, which is the weight's name with a
  // `_N` suffix when another model in the same process had a layer of the same name.
  const engineName = entry.name.slice(0, cut);
  const variable = modelNames.has(engineName) ? engineName : engineName.replace(/_\d+$/, '');
  if (modelNames.has(variable)) return { role: 'optimizer', slot: { variable, name: slotName } };
  return { role: 'optimizer' };
}

/** Every weight of one group placed in its files; throws naming the file and weight where sizes disagree. */
export async function layOutGroup(
  indexFile: string,
  shards: readonly ShardFile[],
  weights: readonly TfjsWeightEntry[],
  modelNames: ReadonlySet<string>,
  notes: string[],
): Promise<ForeignTensor[]> {
  const files = new ConcatenatedFiles(shards);
  const tensors: ForeignTensor[] = [];
  const shardNames = shards.map((s) => s.name).join(', ');
  try {
    let offset = 0;
    for (const entry of weights) {
      const count = checkedElementCount(indexFile, entry.name, entry.shape);
      let bytes: number;
      if (entry.quantization) bytes = count * TFJS_VALUE_BYTES[entry.quantization.dtype];
      else if (entry.dtype === 'string') bytes = await stringBytes(files, indexFile, entry, count, offset);
      else bytes = count * TFJS_VALUE_BYTES[entry.dtype];
      if (!Number.isSafeInteger(bytes) || offset + bytes > files.total) {
        const where = files.locate(Math.min(offset, files.total));
        throw new CheckpointFormatError(
          where.file.absolute,
          `weight ${quoted(entry.name)} (${entry.dtype} [${entry.shape.join(', ')}]) needs bytes ${offset}..${offset + bytes} of its group's files (${shardNames}), which hold only ${files.total}`,
          where.offset,
        );
      }
      const place = files.locate(offset);
      const { role, slot } = roleOf(entry, modelNames);
      if (entry.group === 'optimizer' && role === 'optimizer' && !slot)
        notes.push(`optimizer weight ${quoted(entry.name)} belongs to no model weight we can name`);
      tensors.push({
        name: entry.name,
        displayName: entry.name,
        dtype: logicalDtype(entry),
        shape: entry.shape,
        file: place.file.name,
        offset: place.offset,
        bytes,
        role,
        ...(slot ? { slot } : {}),
        ...(entry.quantization ? { quantization: entry.quantization } : {}),
      });
      offset += bytes;
    }
    if (offset !== files.total && shards.length > 0) {
      const last = shards[shards.length - 1] as ShardFile;
      throw new CheckpointFormatError(last.absolute, `the group's files (${shardNames}) hold ${files.total} bytes but its weights take ${offset}`);
    }
    return tensors;
  } finally {
    await files.close();
  }
}
