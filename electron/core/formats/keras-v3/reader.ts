// Keras 3's `.keras` file (keras/src/saving/saving_lib.py, _save_model_to_fileobj): a zip archive
// written by Python's zipfile (stored, not compressed) holding metadata.json (`keras_version`,
// `date_saved`), config.json (the serialized model: `class_name`, `config`, …), model.weights.h5
// (H5IOStore: the weights as keras-layout reads them) and, for some layers, assets/. It is read in
// place, on disk or in a bucket (zip-archive.ts): model.weights.h5 is taken out of the zip into memory, its CRC-32 checked,
// and handed to the HDF5 library in a worker (h5-file.ts openBytes), never written to disk.
import path from 'node:path';
import { z } from 'zod';
import { shown } from '../../base/describe-value.js';
import { CheckpointFormatError } from '../../base/errors.js';
import { resolveFilePath, statFile } from '../../storage/file-access.js';
import type { ForeignCheckpoint, ForeignReader, ForeignSource, ForeignTensorData } from '../foreign.js';
import { H5File } from '../keras-h5/h5-file.js';
import { describeKerasH5, kerasCheckpoint, readKerasTensors } from '../keras-h5/reader.js';
import { pythonJsonToJson } from '../safetensors/python-json.js';
import { ZipArchive, zipEntryNames } from './zip-archive.js';

export const KERAS_METADATA = 'metadata.json';
export const KERAS_CONFIG = 'config.json';
export const KERAS_WEIGHTS = 'model.weights.h5';
/** saving_lib's other weights format (weights_format="npz"), recognised to be refused by name. */
const KERAS_NPZ_WEIGHTS = 'model.weights.npz';

/**
 * The weights are held in memory while HDF5 reads them (the zip is not unpacked to disk): a .keras
 * file whose model.weights.h5 is larger than this is refused. Models that size are saved with
 * save_weights to a .weights.h5, which is read from disk.
 */
export const MAX_KERAS_WEIGHTS_BYTES = 1024 * 1024 * 1024;
/** config.json of the largest models is a few megabytes. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** A model's assets (vocabularies, lookup tables) are a few files per layer. */
const MAX_ENTRIES = 100_000;
/** Keras writes metadata.json and config.json first: a sniff looks no further than this. */
const MAX_SNIFFED_ENTRIES = 64;

const MetadataSchema = z.looseObject({ keras_version: z.string(), date_saved: z.string().optional() });
const ConfigSchema = z.looseObject({ class_name: z.string(), module: z.string().nullable().optional() });

/** A zip archive holding Keras's metadata.json and config.json; a hostile one is recognised too, for open to refuse by name. */
async function sniff(target: string): Promise<boolean> {
  try {
    const names = await zipEntryNames(target, MAX_SNIFFED_ENTRIES);
    return names !== null && names.includes(KERAS_METADATA) && names.includes(KERAS_CONFIG);
  } catch {
    return false;
  }
}

async function readJsonEntry<T>(archive: ZipArchive, name: string, schema: z.ZodType<T>): Promise<T> {
  const bytes = await archive.read(name, MAX_JSON_BYTES, 'a .keras file');
  let value: unknown;
  try {
    value = JSON.parse(pythonJsonToJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).json);
  } catch {
    throw new CheckpointFormatError(archive.file, `its entry ${name} is not JSON text`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new CheckpointFormatError(
      archive.file,
      `its entry ${name} is not what Keras writes there (${parsed.error.issues[0]?.path.join('.') || 'the whole'} is not as expected)`,
    );
  return parsed.data;
}

/** Opens the archive and checks it is a .keras file with HDF5 weights. */
async function openKeras(file: string): Promise<ZipArchive> {
  const archive = await ZipArchive.open(file, MAX_ENTRIES);
  try {
    const missing = [KERAS_METADATA, KERAS_CONFIG, KERAS_WEIGHTS].filter((name) => !archive.has(name));
    if (missing.includes(KERAS_WEIGHTS) && archive.has(KERAS_NPZ_WEIGHTS))
      throw new CheckpointFormatError(
        file,
        `holds its weights as ${KERAS_NPZ_WEIGHTS} (saved with weights_format="npz"), which is not read; only ${KERAS_WEIGHTS} is`,
      );
    if (missing.length > 0)
      throw new CheckpointFormatError(
        file,
        `is a zip archive but not a Keras 3 model: it has no ${missing.join(', ')} (a .keras file holds ${KERAS_METADATA}, ${KERAS_CONFIG} and ${KERAS_WEIGHTS})`,
      );
    return archive;
  } catch (error) {
    archive.close();
    throw error;
  }
}

/** model.weights.h5 opened in the HDF5 worker, its bytes checked against the zip's CRC-32 first. */
async function openWeights(archive: ZipArchive): Promise<H5File> {
  const bytes = await archive.read(KERAS_WEIGHTS, MAX_KERAS_WEIGHTS_BYTES, 'a .keras file (its weights are read into memory)');
  return H5File.openBytes(archive.file, `its entry ${KERAS_WEIGHTS}`, bytes);
}

async function open(target: string): Promise<ForeignSource> {
  const file = resolveFilePath(target);
  const name = path.basename(file);
  const archive = await openKeras(file);
  let described;
  let metadata;
  let config;
  try {
    metadata = await readJsonEntry(archive, KERAS_METADATA, MetadataSchema);
    config = await readJsonEntry(archive, KERAS_CONFIG, ConfigSchema);
    const h5 = await openWeights(archive);
    try {
      described = await describeKerasH5(h5, file, name);
    } finally {
      await h5.close();
    }
  } finally {
    archive.close();
  }
  const stats = await statFile(file);
  if (stats === null) throw new CheckpointFormatError(file, 'is gone (it was read a moment ago)');
  const checkpoint = kerasCheckpoint({
    format: 'keras-v3',
    formatLabel: `Keras 3 model (.keras: ${shown(config.class_name)}, Keras ${shown(metadata.keras_version)})`,
    dir: path.dirname(file),
    name,
    files: [{ name, bytes: stats.bytes, role: 'tensors' }],
    tensors: described.tensors,
    step: described.step,
    notes: [
      ...described.notes,
      `The zip's CRC-32 of ${KERAS_WEIGHTS} is checked on every read; HDF5 keeps no checksum of tensor data, so the CRC-32C recorded is of the bytes as read`,
    ],
  });
  return { format: 'keras-v3', path: file, checkpoints: [checkpoint], latest: name, notes: [] };
}

async function* read(
  checkpoint: ForeignCheckpoint,
  options: { readonly names?: ReadonlySet<string>; readonly signal?: AbortSignal } = {},
): AsyncIterable<ForeignTensorData> {
  const file = path.join(checkpoint.dir, checkpoint.name);
  const wanted = checkpoint.tensors.filter((t) => !options.names || options.names.has(t.name));
  if (wanted.length === 0) return;
  const archive = await openKeras(file);
  let h5: H5File;
  try {
    h5 = await openWeights(archive);
  } finally {
    archive.close();
  }
  try {
    yield* readKerasTensors(h5, file, wanted, options.signal);
  } finally {
    await h5.close();
  }
}

export const kerasV3Reader: ForeignReader = { format: 'keras-v3', sniff, open, read };
