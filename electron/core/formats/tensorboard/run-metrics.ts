// A TensorBoard run's metrics: its event files read incrementally and merged into one series per
// metric, with the Keras layout (a run written as sibling `train/` and `validation/` folders) shown
// as one run whose validation metrics are named apart.
//
// Names. Keras' TensorBoard callback writes `epoch_loss`, `epoch_accuracy`, … in both folders,
// and TensorBoard shows them as tag `epoch_loss` of runs `train` and `validation`. A person
// comparing with Keras knows them by their History names, `loss` and `val_loss`; our own runs use
// the same names, so "best by val_loss" means one thing everywhere. So: in `train/`, `epoch_x`
// is `x`; in `validation/`, every tag gets `val_` (`epoch_loss` → `val_loss`,
// `evaluation_loss_vs_iterations` → `val_evaluation_loss_vs_iterations`); in the run's own folder
// a tag keeps its name. Each series keeps its original tag and folder beside its name. Two tags
// that would take one name keep the first; the later one is named `<folder>/<tag>`.
//
// Steps. A series counts epochs when its tag starts with `epoch_` (Keras: the step of those
// events is the epoch, from 0), and steps otherwise.
import path from 'node:path';
import { listFiles } from '../../storage/file-access.js';
import { compareEventFileNames, isEventFileName } from './event-file-names.js';
import { EventFileReader, type EventFileProblem, type EventFileReaderOptions, type ScalarPoint, type SessionStart } from './event-file-reader.js';

/** The subfolders of a Keras TensorBoard run, in the order their metrics are listed. */
export const KERAS_FOLDERS = ['train', 'validation'] as const;

export interface MetricPoint {
  readonly step: number;
  readonly wallTime: number;
  readonly value: number;
}

export interface MetricSeries {
  /** The name shown and matched by (`loss`, `val_loss`, `my_metric`). */
  readonly name: string;
  /** The tag as the event file has it. */
  readonly tag: string;
  /** The subfolder of the run the tag came from: '' for the run's own folder, `train`, `validation`. */
  readonly folder: string;
  /** What the points' steps count. */
  readonly counts: 'step' | 'epoch';
  /** In the order the files were read (by name) and, in each, written. */
  readonly points: readonly MetricPoint[];
}

/** The name a tag of `folder` is shown by (see the top of this file). */
export function seriesName(folder: string, tag: string): string {
  if (folder === '') return tag;
  const bare = tag.startsWith('epoch_') ? tag.slice('epoch_'.length) : tag;
  if (folder === 'train') return bare;
  if (folder === 'validation') return `val_${bare}`;
  return `${folder}/${tag}`;
}

export function seriesCounts(tag: string): 'step' | 'epoch' {
  return tag.startsWith('epoch_') ? 'epoch' : 'step';
}

export interface RunEventFile {
  readonly file: string;
  /** '' for the run's own folder, else the subfolder's name (`train`, `validation`). */
  readonly folder: string;
}

async function eventFilesIn(dir: string, folder: string): Promise<RunEventFile[]> {
  return (await listFiles(dir))
    .filter((e) => e.kind === 'file' && isEventFileName(e.name))
    .map((e) => e.name)
    .sort(compareEventFileNames)
    .map((name) => ({ file: path.join(dir, name), folder }));
}

/** A run folder's event files, its own then those of its Keras `train/` and `validation/`, each folder's in TensorBoard's order. */
export async function listRunEventFiles(runDir: string): Promise<RunEventFile[]> {
  const own = await eventFilesIn(runDir, '');
  const keras = await Promise.all(KERAS_FOLDERS.map((folder) => eventFilesIn(path.join(runDir, folder), folder)));
  return [own, ...keras].flat();
}

interface FileState {
  readonly folder: string;
  readonly reader: EventFileReader;
  points: ScalarPoint[];
  sessionStart: SessionStart | null;
}

export interface RunMetricsUpdate {
  /** Points that arrived with this update, by series name (a reset file's points come again in full). */
  readonly added: ReadonlyMap<string, readonly MetricPoint[]>;
  /** Some file was replaced or went away: the series were rebuilt, not only added to. */
  readonly rebuilt: boolean;
  readonly problems: readonly EventFileProblem[];
  /** What was passed over in this update, by kind (`histograms`, `graphs`, `plugin "x"`, …). */
  readonly skipped: Readonly<Record<string, number>>;
}

/** A run's metrics kept current: `update` reads what each of its event files gained since the last one. */
export class RunMetrics {
  private readonly files = new Map<string, FileState>();
  private built: MetricSeries[] = [];
  private byName = new Map<string, { series: MetricSeries; points: MetricPoint[] }>();
  private byKey = new Map<string, string>();

  constructor(private readonly options: EventFileReaderOptions = {}) {}

  /** Every series, in the order their tags first appeared (files in name order, own folder first). */
  get series(): readonly MetricSeries[] {
    return this.built;
  }

  /** The hparams session record of the run: the last file's that has one (hparams become the run's configuration). */
  get sessionStart(): SessionStart | null {
    let found: SessionStart | null = null;
    for (const state of this.files.values()) found = state.sessionStart ?? found;
    return found;
  }

  /** Reads each of `files` (the run's event files now: listRunEventFiles) from where it was left. */
  async update(files: readonly RunEventFile[]): Promise<RunMetricsUpdate> {
    let rebuilt = this.forgetGone(files);
    const problems: EventFileProblem[] = [];
    const skipped = new Map<string, number>();
    const fresh: { state: FileState; points: readonly ScalarPoint[] }[] = [];
    for (const { file, folder } of files) {
      let state = this.files.get(file);
      if (!state) this.files.set(file, (state = { folder, reader: new EventFileReader(file, this.options), points: [], sessionStart: null }));
      const read = await state.reader.readNew();
      problems.push(...read.problems);
      for (const [kind, count] of Object.entries(read.skipped)) skipped.set(kind, (skipped.get(kind) ?? 0) + count);
      if (read.reset) {
        state.points = [];
        state.sessionStart = null;
        rebuilt = true;
      }
      state.points.push(...read.points);
      state.sessionStart = read.sessionStart ?? state.sessionStart;
      fresh.push({ state, points: read.points });
    }
    const added = new Map<string, MetricPoint[]>();
    if (rebuilt) this.rebuild(added);
    else for (const { state, points } of fresh) this.append(state.folder, points, added);
    return { added, rebuilt, problems, skipped: Object.fromEntries(skipped) };
  }

  /** Drops files no longer listed; true when one had points. */
  private forgetGone(files: readonly RunEventFile[]): boolean {
    const listed = new Set(files.map((f) => f.file));
    let gone = false;
    for (const [file, state] of this.files) {
      if (listed.has(file)) continue;
      gone ||= state.points.length > 0;
      this.files.delete(file);
    }
    return gone;
  }

  private rebuild(added: Map<string, MetricPoint[]>): void {
    this.built = [];
    this.byName = new Map();
    this.byKey = new Map();
    const ordered = [...this.files.values()];
    for (const state of ordered) this.append(state.folder, state.points, added);
  }

  private append(folder: string, points: readonly ScalarPoint[], added: Map<string, MetricPoint[]>): void {
    // Where each tag's points go, found once per call: a name built and looked up per point was a third of reading a run.
    const targets = new Map<string, { readonly all: MetricPoint[]; readonly added: MetricPoint[] }>();
    for (const { tag, step, wallTime, value } of points) {
      let target = targets.get(tag);
      if (!target) {
        const name = this.nameOf(folder, tag);
        let list = added.get(name);
        if (!list) added.set(name, (list = []));
        targets.set(tag, (target = { all: (this.byName.get(name) as { points: MetricPoint[] }).points, added: list }));
      }
      const point: MetricPoint = { step, wallTime, value };
      target.all.push(point);
      target.added.push(point);
    }
  }

  private nameOf(folder: string, tag: string): string {
    const key = `${folder}\0${tag}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    let name = seriesName(folder, tag);
    if (this.byName.has(name)) name = `${folder === '' ? '.' : folder}/${tag}`;
    const points: MetricPoint[] = [];
    const series: MetricSeries = { name, tag, folder, counts: seriesCounts(tag), points };
    this.byName.set(name, { series, points });
    this.byKey.set(key, name);
    this.built.push(series);
    return name;
  }
}

/** A checkpoint's place in training: its step, and its epoch where known (as the event file counts it: Keras' first epoch is 0). */
export interface TrainingPosition {
  readonly step?: number | null;
  readonly epoch?: number | null;
}

export interface MetricsAt {
  /** Each series' value at the position: the last point written at that step or epoch. */
  readonly metrics: Readonly<Record<string, number>>;
  /** The series with no point there, each with why, in words. */
  readonly unmatched: readonly { readonly name: string; readonly why: string }[];
}

/** The series of a run, indexed by step and epoch, for finding many checkpoints' metrics. */
export class MetricsIndex {
  private readonly indexed: { readonly series: MetricSeries; readonly at: Map<number, number> }[];

  constructor(series: readonly MetricSeries[]) {
    this.indexed = series.map((s) => {
      const at = new Map<number, number>();
      // A step written twice (a restarted writer) keeps its last value, as the latest file says it.
      for (const point of s.points) at.set(point.step, point.value);
      return { series: s, at };
    });
  }

  /** Exact matches only: a checkpoint between two logged steps has no metric, and is said to have none. */
  at(position: TrainingPosition): MetricsAt {
    const metrics: Record<string, number> = {};
    const unmatched: { name: string; why: string }[] = [];
    for (const { series, at } of this.indexed) {
      const wanted = series.counts === 'epoch' ? position.epoch : position.step;
      if (wanted === undefined || wanted === null) {
        unmatched.push({ name: series.name, why: `"${series.name}" counts ${series.counts}s and the checkpoint's ${series.counts} is not known` });
        continue;
      }
      const value = at.get(wanted);
      if (value === undefined) unmatched.push({ name: series.name, why: `"${series.name}" has no point at ${series.counts} ${wanted}${rangeOf(series)}` });
      else Object.defineProperty(metrics, series.name, { value, enumerable: true, writable: false });
    }
    return { metrics, unmatched };
  }
}

function rangeOf(series: MetricSeries): string {
  if (series.points.length === 0) return ' (it has none yet)';
  let low = Infinity;
  let high = -Infinity;
  for (const { step } of series.points) [low, high] = [Math.min(low, step), Math.max(high, step)];
  return ` (it has ${series.points.length} between ${series.counts}s ${low} and ${high})`;
}

/** The metrics at one checkpoint's step or epoch (for many, build a MetricsIndex once). */
export function metricsAt(series: readonly MetricSeries[], position: TrainingPosition): MetricsAt {
  return new MetricsIndex(series).at(position);
}
