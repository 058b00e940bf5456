// The Keras HDF5 reader. HDF5 is read by h5wasm in a worker (h5-file.ts); this file finds the
// file, recognises it by its signature, and maps Keras's layout to checkpoints. HDF5 keeps
// checksums of its own metadata only (and of raw data only under the rarely used Fletcher-32
// filter, which h5wasm checks itself while reading): `read` reports the CRC-32C of the bytes read.
import path from 'node:path';
import type { ForeignCheckpoint, ForeignReader, ForeignSource, ForeignTensorData } from '../foreign.js';
import { crc32c } from '../../base/crc32c.js';
import { DamagedTensorError } from '../../base/errors.js';
import { openFile, resolveFilePath, statFile } from '../../storage/file-access.js';
import { metricsFromName, nameNotes, parseKerasCheckpointName } from '../keras/checkpoint-names.js';
import { H5File } from './h5-file.js';
import type { H5Listing } from './h5-protocol.js';
import { type KerasLayout, kerasLayout } from './keras-layout.js';
import { readKerasStep } from './keras-step.js';

/** HDF5's format signature (HDF5 File Format Specification, "Format Signature"). */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A user block moves the superblock to 512, 1024, 2048, … bytes; no real file has one this large. */
const MAX_SIGNATURE_OFFSET = 1 << 30;

async function sniff(target: string): Promise<boolean> {
  try {
    const { file: handle, size } = await openFile(target);
    try {
      const probe = Buffer.alloc(SIGNATURE.length);
      for (let offset = 0; offset + SIGNATURE.length <= size && offset <= MAX_SIGNATURE_OFFSET; offset = offset === 0 ? 512 : offset * 2) {
        const { bytesRead } = await handle.read(probe, 0, probe.length, offset);
        if (bytesRead === probe.length && probe.equals(SIGNATURE)) return true;
      }
      return false;
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
}

/** What an opened Keras weights file holds: its layout and the step its optimizer counted, if any. */
export async function describeKerasH5(
  h5: H5File,
  file: string,
  tensorFile: string,
): Promise<KerasLayout & { step: { step: number; stepSource: string } | null }> {
  const listing: H5Listing = await h5.list();
  const layout = kerasLayout(file, tensorFile, listing);
  return { ...layout, step: await readKerasStep(h5, layout.tensors) };
}

/** The checkpoint a Keras file is, with what its name says (epoch, named metrics) as metrics. */
export function kerasCheckpoint(
  parts: Pick<ForeignCheckpoint, 'format' | 'formatLabel' | 'dir' | 'name' | 'files' | 'tensors'> & {
    readonly step: { step: number; stepSource: string } | null;
    readonly notes: readonly string[];
  },
): ForeignCheckpoint {
  const fromName = parseKerasCheckpointName(parts.name);
  return {
    format: parts.format,
    formatLabel: parts.formatLabel,
    dir: parts.dir,
    name: parts.name,
    step: parts.step?.step ?? null,
    stepSource: parts.step?.stepSource ?? null,
    savedAt: null,
    files: parts.files,
    tensors: parts.tensors,
    metrics: fromName === null ? {} : metricsFromName(fromName),
    notes: [
      ...parts.notes,
      ...(parts.step === null ? ['Keras weights record no training step here (no optimizer iteration counter)'] : []),
      ...(fromName ? nameNotes(fromName) : []),
    ],
  };
}

async function open(target: string): Promise<ForeignSource> {
  const file = resolveFilePath(target);
  const name = path.basename(file);
  const h5 = await H5File.open(file);
  let described;
  try {
    described = await describeKerasH5(h5, file, name);
  } finally {
    await h5.close();
  }
  const bytes = (await statFile(file))?.bytes ?? 0;
  const checkpoint = kerasCheckpoint({
    format: 'keras-h5',
    formatLabel: described.label,
    dir: path.dirname(file),
    name,
    files: [{ name, bytes, role: 'tensors' }],
    tensors: described.tensors,
    step: described.step,
    notes: [...described.notes, 'HDF5 stores no checksum of tensor data that we check: the CRC-32C recorded is of the bytes as read'],
  });
  return { format: 'keras-h5', path: file, checkpoints: [checkpoint], latest: name, notes: [] };
}

/** Reads `wanted` tensors of an opened Keras weights file, checking each one's size; `file` is named in errors. */
export async function* readKerasTensors(
  h5: H5File,
  file: string,
  wanted: readonly ForeignCheckpoint['tensors'][number][],
  signal?: AbortSignal,
): AsyncIterable<ForeignTensorData> {
  for (const tensor of wanted) {
    signal?.throwIfAborted();
    const data = await h5.read(tensor.name);
    if (data.byteLength !== tensor.bytes)
      throw new DamagedTensorError(file, tensor.name, `holds ${data.byteLength} bytes, not the ${tensor.bytes} its shape needs`);
    yield { tensor, data, storedCrc32c: crc32c(data) };
  }
}

async function* read(
  checkpoint: ForeignCheckpoint,
  options: { readonly names?: ReadonlySet<string>; readonly signal?: AbortSignal } = {},
): AsyncIterable<ForeignTensorData> {
  const file = path.join(checkpoint.dir, checkpoint.name);
  const wanted = checkpoint.tensors.filter((t) => !options.names || options.names.has(t.name));
  if (wanted.length === 0) return;
  const h5 = await H5File.open(file);
  try {
    yield* readKerasTensors(h5, file, wanted, options.signal);
  } finally {
    await h5.close();
  }
}

export const kerasH5Reader: ForeignReader = { format: 'keras-h5', sniff, open, read };
