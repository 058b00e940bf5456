// The Keras HDF5 reader. HDF5 is read by h5wasm in a worker (h5-file.ts); this file finds the
// file, recognises it by its signature, and maps Keras's layout to checkpoints. HDF5 keeps
// checksums of its own metadata only (and of raw data only under the rarely used Fletcher-32
// filter, which h5wasm checks itself while reading): `read` reports the CRC-32C of the bytes read.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ForeignCheckpoint, ForeignReader, ForeignSource, ForeignTensorData } from '../foreign.js';
import { crc32c } from '../../base/crc32c.js';
import { DamagedTensorError } from '../../base/errors.js';
import { openRegular } from '../../base/regular-file.js';
import { H5File } from './h5-file.js';
import { kerasLayout } from './keras-layout.js';

/** HDF5's format signature (HDF5 File Format Specification, "Format Signature"). */
const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A user block moves the superblock to 512, 1024, 2048, … bytes; no real file has one this large. */
const MAX_SIGNATURE_OFFSET = 1 << 30;

async function sniff(target: string): Promise<boolean> {
  try {
    const { handle, stats } = await openRegular(target);
    try {
      const probe = Buffer.alloc(SIGNATURE.length);
      for (let offset = 0; offset + SIGNATURE.length <= stats.size && offset <= MAX_SIGNATURE_OFFSET; offset = offset === 0 ? 512 : offset * 2) {
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

async function open(target: string): Promise<ForeignSource> {
  const file = path.resolve(target);
  const name = path.basename(file);
  const h5 = await H5File.open(file);
  let listing;
  try {
    listing = await h5.list();
  } finally {
    await h5.close();
  }
  const { label, tensors, notes } = kerasLayout(file, name, listing);
  const bytes = (await stat(file)).size;
  const checkpoint: ForeignCheckpoint = {
    format: 'keras-h5',
    formatLabel: label,
    dir: path.dirname(file),
    name,
    step: null,
    stepSource: null,
    savedAt: null,
    files: [{ name, bytes, role: 'tensors' }],
    tensors,
    metrics: {},
    notes: [
      ...notes,
      'Keras HDF5 weights record no training step',
      'HDF5 stores no checksum of tensor data that we check: the CRC-32C recorded is of the bytes as read',
    ],
  };
  return { format: 'keras-h5', path: file, checkpoints: [checkpoint], latest: name, notes: [] };
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
    for (const tensor of wanted) {
      options.signal?.throwIfAborted();
      const data = await h5.read(tensor.name);
      if (data.byteLength !== tensor.bytes)
        throw new DamagedTensorError(file, tensor.name, `holds ${data.byteLength} bytes, not the ${tensor.bytes} its shape needs`);
      yield { tensor, data, storedCrc32c: crc32c(data) };
    }
  } finally {
    await h5.close();
  }
}

export const kerasH5Reader: ForeignReader = { format: 'keras-h5', sniff, open, read };
