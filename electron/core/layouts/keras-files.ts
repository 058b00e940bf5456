// Keras weight files as ModelCheckpoint and save_weights leave them: `.h5`/`.hdf5` (HDF5, judged by
// its signature) and Keras 3's `.keras` (a zip). A ModelCheckpoint name such as
// `weights.{epoch:02d}-{val_loss:.2f}.hdf5` carries the epoch; a number whose meaning the name does
// not say is reported as a guess.
import path from 'node:path';
import type { FolderListing, InPlaceRun } from '../checkpoint/in-place.js';
import { nameNotes, parseKerasCheckpointName } from '../formats/keras/checkpoint-names.js';
import { FORMAT_NAMES } from '../formats/registry.js';
import { type LooseFile, type NamedNumbers, looseFileRuns } from './file-runs.js';
import { HDF5_SIGNATURE, ZIP_SIGNATURE, fileStartsWith } from './sniff.js';

const H5_NAME = /\.(h5|hdf5)$/i;
const KERAS_NAME = /\.keras$/i;
/** h5py may put a user block before the signature: at 512, 1024, 2048… (the HDF5 spec's places). */
const HDF5_OFFSETS = [0, 512, 1024, 2048];

async function isHdf5(file: string): Promise<boolean> {
  for (const offset of HDF5_OFFSETS) if (await fileStartsWith(file, HDF5_SIGNATURE, offset)) return true;
  return false;
}

/** The epoch (or step) a ModelCheckpoint name shows, and the metrics it names (formats/keras/checkpoint-names.ts). */
export function kerasNameNumbers(name: string): NamedNumbers {
  const parsed = parseKerasCheckpointName(name);
  if (!parsed) return { step: null, epoch: null, source: null, metrics: {} };
  const told =
    parsed.epoch !== null ? `epoch ${parsed.epoch} from the name ${name}` : parsed.step !== null ? `step ${parsed.step} from the name ${name}` : null;
  // Each its own note: a source and a sentence run together read as one garbled sentence.
  const notes = nameNotes(parsed).filter((note) => note !== parsed.guess);
  return { step: parsed.step ?? parsed.batch, epoch: parsed.epoch, source: parsed.guess ?? told, metrics: { ...parsed.metrics }, notes };
}

export async function scanKerasFiles(listing: FolderListing): Promise<InPlaceRun[]> {
  const files: LooseFile[] = [];
  for (const entry of listing.entries) {
    if (entry.kind !== 'file') continue;
    const file = path.join(listing.dir, entry.name);
    if (H5_NAME.test(entry.name) && (await isHdf5(file))) files.push({ entry, format: 'keras-h5', formatLabel: FORMAT_NAMES['keras-h5'] });
    else if (KERAS_NAME.test(entry.name) && (await fileStartsWith(file, ZIP_SIGNATURE)))
      files.push({ entry, format: 'keras-v3', formatLabel: FORMAT_NAMES['keras-v3'] });
  }
  return looseFileRuns(files, (e) => kerasNameNumbers(e.name), { layout: 'keras-files', label: 'Keras weight files' });
}
