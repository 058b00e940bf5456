// The layouts the store is opened with (checkpoint/in-place.ts): a folder's checkpoints are read by
// the layouts that recognise them, by content. A folder is at most one run of its own (TensorBoard's
// rule: the folder is the run); loose files that do not belong to it are runs of their own.
import { RefusedError } from '../base/errors.js';
import type { FolderListing, InPlaceLayouts, InPlaceRun } from '../checkpoint/in-place.js';
import { scanHfTrainer } from './hf-trainer.js';
import { scanKerasFiles } from './keras-files.js';
import { scanSafetensorsFiles } from './safetensors-files.js';
import { scanTfFolder } from './tf-folder.js';
import { tfRewritesForDelete, tfRewritesForLatest } from './tf-state-rewrites.js';
import { scanTfjsModel } from './tfjs-model.js';
import { verifyInPlace } from './verify-in-place.js';

/** A run of several loose files, when the folder is already another run: each file a run of its own. */
function eachFileAlone(run: InPlaceRun): InPlaceRun[] {
  if (run.file !== null) return [run];
  return run.checkpoints.map((checkpoint) => ({ ...run, file: checkpoint.name, checkpoints: [checkpoint], latest: null, claimed: [] }));
}

async function scanFolder(listing: FolderListing): Promise<InPlaceRun[]> {
  const folderRuns = [await scanTfFolder(listing), await scanHfTrainer(listing), await scanTfjsModel(listing)].filter((r): r is InPlaceRun => r !== null);
  const folder = folderRuns[0];
  const loose = [...(await scanKerasFiles(listing)), ...(await scanSafetensorsFiles(listing))];
  const runs: InPlaceRun[] = folder ? [folder] : [];
  let folderTaken = folder !== undefined;
  for (const run of loose) {
    if (run.file === null && !folderTaken) {
      runs.push(run);
      folderTaken = true;
    } else runs.push(...eachFileAlone(run));
  }
  return runs;
}

export const inPlaceLayouts: InPlaceLayouts = {
  scanFolder,
  verify: verifyInPlace,
  async rewritesForDelete(dir, run, names) {
    return run.layout === 'tf-folder' ? tfRewritesForDelete(dir, run, names) : [];
  },
  async rewritesForLatest(dir, run, name) {
    if (run.layout !== 'tf-folder') throw new RefusedError(dir, `${run.label} keep no state that names a latest checkpoint; the latest is the highest step`);
    return tfRewritesForLatest(dir, run, name);
  },
};
