// The foreign formats this program reads, and which one a path is. Judged by content: each
// reader's sniff looks at magic numbers and headers, never at a file name alone.
import { NotFoundError } from '../base/errors.js';
import type { ForeignFormat, ForeignReader } from './foreign.js';
import { kerasH5Reader } from './keras-h5/reader.js';
import { kerasV3Reader } from './keras-v3/reader.js';
import { safetensorsReader } from './safetensors/reader.js';
import { tfBundleReader } from './tf/tf-reader.js';
import { tfjsLayersReader } from './tfjs/reader.js';

/**
 * Most specific first: a TensorFlow bundle folder is recognised by its SSTable magic before a
 * stray .json in it could look like a TF.js model; safetensors and HDF5 have magic numbers of
 * their own, and a .keras file is a zip archive holding Keras's metadata.json and config.json.
 */
export const FOREIGN_READERS: readonly ForeignReader[] = [tfBundleReader, tfjsLayersReader, safetensorsReader, kerasH5Reader, kerasV3Reader];

export function readerFor(format: ForeignFormat): ForeignReader {
  const reader = FOREIGN_READERS.find((r) => r.format === format);
  if (!reader) throw new NotFoundError(format, 'no reader for this format is built in');
  return reader;
}

/** The reader for `target`, or null when no format recognises it. */
export async function sniffForeign(target: string): Promise<ForeignReader | null> {
  for (const reader of FOREIGN_READERS) if (await reader.sniff(target)) return reader;
  return null;
}

/** Whether an importer's format is another program's (ours are `checkpoint-studio …`). */
export function isForeignFormat(format: string): format is ForeignFormat {
  return Object.hasOwn(FORMAT_NAMES, format);
}

export const FORMAT_NAMES: Readonly<Record<ForeignFormat, string>> = {
  'tf-bundle': 'a TensorFlow checkpoint (checkpoint + .index + .data-*)',
  'tfjs-layers': 'a TensorFlow.js model (model.json)',
  safetensors: 'safetensors (a file, a sharded index, or a Hugging Face checkpoint folder)',
  'keras-h5': 'Keras HDF5 weights (.h5)',
  'keras-v3': 'a Keras 3 model (.keras)',
};
