// Keras weight files as ModelCheckpoint and save_weights leave them: `.h5`/`.hdf5` (HDF5, judged by
// its signature) and Keras 3's `.keras` (a zip). A ModelCheckpoint name such as
// `weights.{epoch:02d}-{val_loss:.2f}.hdf5` carries the epoch; a number whose meaning the name does
// not say is reported as a guess.
import path from 'node:path';
import type { FolderListing, InPlaceRun } from '../checkpoint/in-place.js';
import { FORMAT_NAMES, isForeignFormat } from '../formats/registry.js';
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

/** The epoch a ModelCheckpoint name shows, and any metric value it names. */
export function kerasNameNumbers(name: string): NamedNumbers {
  const stem = name.replace(/(\.weights)?\.(h5|hdf5|keras)$/i, '');
  const metrics: Record<string, number> = {};
  for (const match of stem.matchAll(/(val_[a-z_]+|loss|accuracy|acc)[=_-]?(\d+\.\d+)/gi)) metrics[(match[1] as string).toLowerCase()] = Number(match[2]);
  const named = /epoch[_-]?(\d+)/i.exec(stem);
  if (named) return { step: null, epoch: Number(named[1]), source: `epoch ${Number(named[1])} from the name ${name}`, metrics };
  const leading = /^(?:weights|model|ckpt|checkpoint|cp)?[._-]?(\d+)(?:[._-](\d+\.\d+))?/i.exec(stem);
  if (!leading) return { step: null, epoch: null, source: null, metrics };
  const epoch = Number(leading[1]);
  const other =
    leading[2] !== undefined && Object.keys(metrics).length === 0 ? `; ${leading[2]} after it is presumably a metric, which the name does not name` : '';
  return { step: null, epoch, source: `epoch ${epoch} from the name ${name} (ModelCheckpoint's {epoch} comes first in its usual templates)${other}`, metrics };
}

export async function scanKerasFiles(listing: FolderListing): Promise<InPlaceRun[]> {
  const files: LooseFile[] = [];
  for (const entry of listing.entries) {
    if (entry.kind !== 'file') continue;
    const file = path.join(listing.dir, entry.name);
    if (H5_NAME.test(entry.name) && (await isHdf5(file))) files.push({ entry, format: 'keras-h5', formatLabel: FORMAT_NAMES['keras-h5'] });
    // Keras 3's zip is listed once a reader for it is built in.
    else if (KERAS_NAME.test(entry.name) && isForeignFormat('keras-v3') && (await fileStartsWith(file, ZIP_SIGNATURE)))
      files.push({ entry, format: 'keras-v3', formatLabel: 'Keras 3 file (.keras)' });
  }
  return looseFileRuns(files, (e) => kerasNameNumbers(e.name), { layout: 'keras-files', label: 'Keras weight files' });
}
