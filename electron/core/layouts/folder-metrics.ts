// A folder's metrics over training, as other programs log them: TensorBoard event files (the
// folder's own, or Keras' `train/` and `validation/` beside each other), Keras CSVLogger files and
// a Hugging Face Trainer's log history. Event files are read incrementally: each scan reads only
// what they gained since the last (formats/tensorboard/run-metrics.ts).
import path from 'node:path';
import { errorMessage } from '../base/errors.js';
import type { FolderListing, InPlaceCheckpoint, InPlaceSeries } from '../checkpoint/in-place.js';
import { readCsvLog } from '../formats/keras/csv-log.js';
import type { MetricSeries } from '../formats/metric-series.js';
import { compareEventFileNames, isEventFileName } from '../formats/tensorboard/event-file-names.js';
import { KERAS_FOLDERS, MetricsIndex, type RunEventFile, RunMetrics, listRunEventFiles } from '../formats/tensorboard/run-metrics.js';
import { logHistorySeries, readTrainerState } from '../formats/safetensors/trainer-state.js';

export interface FolderMetrics {
  readonly series: InPlaceSeries[];
  /** The hparams a TensorBoard session recorded: the run's configuration. */
  readonly config: Record<string, unknown> | null;
  /** Subfolders whose event files are this run's (Keras' train/ and validation/). */
  readonly claimed: string[];
  readonly notes: string[];
}

const NONE: FolderMetrics = { series: [], config: null, claimed: [], notes: [] };

function fromLog(series: MetricSeries): InPlaceSeries {
  return series.by === 'epoch'
    ? { name: series.name, counts: 'epoch', points: series.points.map((p) => ({ step: p.epoch, time: null, value: p.value })) }
    : { name: series.name, counts: 'step', points: series.points.map((p) => ({ step: p.step, time: null, value: p.value })) };
}

/** The event files of the folder itself, in TensorBoard's order (run-metrics.ts listRunEventFiles, from the listing). */
function ownEventFiles(listing: FolderListing): RunEventFile[] {
  return listing.entries
    .filter((e) => e.kind === 'file' && isEventFileName(e.name))
    .map((e) => e.name)
    .sort(compareEventFileNames)
    .map((name) => ({ file: path.join(listing.dir, name), folder: '' }));
}

/** The metrics a checkpoint carries at its step (or epoch), and a note when it matches none of the series. */
export function attachMetrics(checkpoint: InPlaceCheckpoint, series: readonly InPlaceSeries[]): InPlaceCheckpoint {
  if (series.length === 0 || (checkpoint.step === null && checkpoint.epoch === null)) return checkpoint;
  const index = new MetricsIndex(
    series.map((s) => ({
      name: s.name,
      tag: s.name,
      folder: '',
      counts: s.counts,
      points: s.points.flatMap((p) => (p.value === null ? [] : [{ step: p.step, wallTime: 0, value: p.value }])),
    })),
  );
  // ModelCheckpoint counts epochs from 1 in its names; logs count them from 0.
  const { metrics, unmatched } = index.at({ step: checkpoint.step, epoch: checkpoint.epoch === null ? null : checkpoint.epoch - 1 });
  const notes = [...checkpoint.notes];
  if (Object.keys(metrics).length === 0 && unmatched.length > 0)
    notes.push(
      `no metric of its run is logged at its ${checkpoint.step !== null ? `step ${checkpoint.step}` : `epoch ${checkpoint.epoch}`}: ${unmatched[0]?.why}`,
    );
  return { ...checkpoint, metrics: { ...metrics, ...checkpoint.metrics }, notes };
}

/** Reads the metrics of each folder it is asked about, keeping one incremental reader per run of event files. */
export class FolderMetricsReader {
  private readonly runs = new Map<string, RunMetrics>();
  /** What each run's event files said was wrong: an incremental read says it once, the run keeps saying it. */
  private readonly problems = new Map<string, string[]>();

  async read(listing: FolderListing, trainerStates: readonly string[] = []): Promise<FolderMetrics> {
    const own = listing.entries.some((e) => e.kind === 'file' && isEventFileName(e.name));
    const keras = own ? [] : listing.entries.filter((e) => e.kind === 'folder' && (KERAS_FOLDERS as readonly string[]).includes(e.name)).map((e) => e.name);
    const csvs = listing.entries.filter((e) => e.kind === 'file' && e.name.toLowerCase().endsWith('.csv'));
    if (!own && keras.length === 0 && csvs.length === 0 && trainerStates.length === 0) return NONE;
    const series: InPlaceSeries[] = [];
    const notes: string[] = [];
    let config: Record<string, unknown> | null = null;
    const claimed: string[] = [];
    // The folder's own files are in its listing already: read again for each of a thousand runs, they cost a tenth of an open.
    const files = own ? ownEventFiles(listing) : (await listRunEventFiles(listing.dir)).filter((f) => f.folder !== '');
    if (files.length > 0) {
      let reader = this.runs.get(listing.dir);
      if (!reader) this.runs.set(listing.dir, (reader = new RunMetrics()));
      const update = await reader.update(files);
      const said = update.rebuilt ? [] : (this.problems.get(listing.dir) ?? []);
      for (const problem of update.problems) if (problem.kind !== 'replaced' && !said.includes(problem.message)) said.push(problem.message);
      this.problems.set(listing.dir, said);
      notes.push(...said);
      for (const s of reader.series)
        series.push({ name: s.name, counts: s.counts, points: s.points.map((p) => ({ step: p.step, time: p.wallTime * 1000, value: p.value })) });
      config = reader.sessionStart ? { ...reader.sessionStart.hparams } : null;
      if (!own) claimed.push(...new Set(files.map((f) => f.folder)));
    }
    for (const csv of csvs) {
      try {
        const log = await readCsvLog(path.join(listing.dir, csv.name));
        series.push(...log.series.filter((s) => !series.some((other) => other.name === s.name)).map(fromLog));
        notes.push(...log.notes);
      } catch {
        // Not a CSVLogger file (any .csv may be something else): not ours to report.
      }
    }
    for (const state of trainerStates) {
      try {
        series.push(...logHistorySeries(await readTrainerState(path.join(listing.dir, state))).map(fromLog));
        break;
      } catch (error) {
        notes.push(`${state} cannot be read for the run's metrics: ${errorMessage(error)}`);
      }
    }
    return { series, config, claimed, notes };
  }

  /** Forgets the readers of folders no longer listed. */
  keepOnly(dirs: ReadonlySet<string>): void {
    for (const dir of this.runs.keys()) {
      if (dirs.has(dir)) continue;
      this.runs.delete(dir);
      this.problems.delete(dir);
    }
  }
}
