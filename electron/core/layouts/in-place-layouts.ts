// The layouts a store is opened with (checkpoint/in-place.ts): a folder's checkpoints are read by
// the layouts that recognise them, by content, and its metrics from the logs beside them. A folder
// is at most one run of its own (TensorBoard's rule: the folder is the run); loose files that do not
// belong to it are runs of their own. Each store gets its own, because the metrics readers keep
// their place in each growing log.
import { RefusedError } from '../base/errors.js';
import type { FolderListing, InPlaceLayouts, InPlaceRun } from '../checkpoint/in-place.js';
import { TRAINER_STATE_FILE } from '../formats/safetensors/trainer-state.js';
import { type FolderMetrics, FolderMetricsReader, attachMetrics } from './folder-metrics.js';
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
  return run.checkpoints.map((checkpoint) => ({ ...run, file: checkpoint.name, checkpoints: [checkpoint], latest: null, claimed: [], series: [] }));
}

/** The folder's run with its metrics: on each checkpoint at its step, the series for the charts, hparams as its configuration. */
function withMetrics(run: InPlaceRun, metrics: FolderMetrics): InPlaceRun {
  return {
    ...run,
    checkpoints: run.checkpoints.map((c) => attachMetrics(c, metrics.series)),
    series: metrics.series,
    config: metrics.config ?? run.config,
    claimed: [...run.claimed, ...metrics.claimed],
    notes: [...run.notes, ...metrics.notes],
  };
}

/** Where a Trainer's log history is: the newest checkpoint folder's trainer_state.json (it holds the whole history so far), or the folder's own. */
function trainerStates(run: InPlaceRun | undefined, listing: FolderListing): string[] {
  const own = listing.entries.some((e) => e.kind === 'file' && e.name === TRAINER_STATE_FILE) ? [TRAINER_STATE_FILE] : [];
  if (run?.layout !== 'hf-trainer') return own;
  const newest = [...run.checkpoints].reverse().find((c) => c.complete);
  return [...own, ...(newest ? [`${newest.name}/${TRAINER_STATE_FILE}`] : [])];
}

async function scanFolder(listing: FolderListing, metricsReader: FolderMetricsReader): Promise<InPlaceRun[]> {
  const folderRuns = [await scanTfFolder(listing), await scanHfTrainer(listing), await scanTfjsModel(listing)].filter((r): r is InPlaceRun => r !== null);
  const loose = [...(await scanKerasFiles(listing)), ...(await scanSafetensorsFiles(listing))];
  let folder: InPlaceRun | undefined = folderRuns[0];
  const runs: InPlaceRun[] = [];
  for (const run of loose) {
    if (run.file === null && folder === undefined) folder = run;
    else runs.push(...eachFileAlone(run));
  }
  const metrics = await metricsReader.read(listing, trainerStates(folder, listing));
  if (folder) return [withMetrics(folder, metrics), ...runs];
  // TensorBoard's rule: a folder holding event files is a run, even with no checkpoint in it.
  if (metrics.series.length > 0 || metrics.claimed.length > 0) {
    const board: InPlaceRun = {
      file: null,
      layout: 'tensorboard',
      label: 'TensorBoard run',
      checkpoints: [],
      latest: null,
      claimed: [],
      config: null,
      series: [],
      notes: [],
    };
    return [withMetrics(board, metrics), ...runs];
  }
  return runs;
}

export function createInPlaceLayouts(): InPlaceLayouts {
  const metricsReader = new FolderMetricsReader();
  return {
    scanFolder: (listing) => scanFolder(listing, metricsReader),
    verify: verifyInPlace,
    async rewritesForDelete(dir, run, names) {
      return run.layout === 'tf-folder' ? tfRewritesForDelete(dir, run, names) : [];
    },
    async rewritesForLatest(dir, run, name) {
      if (run.layout !== 'tf-folder') throw new RefusedError(dir, `${run.label} keep no state that names a latest checkpoint; the latest is the highest step`);
      return tfRewritesForLatest(dir, run, name);
    },
  };
}
