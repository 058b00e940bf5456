// What the name of a Keras checkpoint file says. Keras's ModelCheckpoint fills its `filepath` with
// str.format(epoch=epoch + 1, batch=batch + 1, **logs) (keras/src/callbacks/model_checkpoint.py,
// _get_file_path): `weights.{epoch:02d}-{val_loss:.2f}.hdf5` becomes `weights.05-0.35.hdf5`. The
// epoch there counts from 1. The name keeps the numbers but not, unless the template wrote them,
// the names of what they are: a number is taken for the epoch only where the name or a template
// Keras documents makes that clear, and a metric only where its name appears beside it. Anything
// else is a guess, and said to be one.

/** The file kinds Keras saves, by how their names end. */
const EXTENSIONS = [
  { suffix: '.weights.h5', kind: 'weights.h5' },
  { suffix: '.keras', kind: 'keras' },
  { suffix: '.hdf5', kind: 'h5' },
  { suffix: '.h5', kind: 'h5' },
] as const;
export type KerasFileKind = (typeof EXTENSIONS)[number]['kind'];

export interface KerasCheckpointName {
  readonly name: string;
  readonly kind: KerasFileKind;
  /** The epoch (counted from 1, as ModelCheckpoint writes it), or null when the name does not tell. */
  readonly epoch: number | null;
  /** The batch (from `{batch}`, counted from 1) or step the name shows with its word (`batch_200`, `step-1000`). */
  readonly batch: number | null;
  readonly step: number | null;
  /** Metrics whose names appear beside their values (`val_loss0.35`, `acc-0.91`). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Numbers whose meaning the name does not say. */
  readonly unnamed: readonly number[];
  /** The sentence to show when the epoch is a guess; null when the name makes it clear (or gives none). */
  readonly guess: string | null;
  /** The name with its numbers as `{epoch}` or `{#}`: files written by one ModelCheckpoint share it. */
  readonly template: string;
}

/** Words that name what a metric is, beside `val_` and anything starting with it. */
const METRIC_WORDS = new Set([
  'loss',
  'acc',
  'accuracy',
  'binary_accuracy',
  'categorical_accuracy',
  'sparse_categorical_accuracy',
  'top_k_categorical_accuracy',
  'mae',
  'mse',
  'mape',
  'msle',
  'rmse',
  'mean_absolute_error',
  'mean_squared_error',
  'root_mean_squared_error',
  'auc',
  'precision',
  'recall',
  'f1',
  'f1_score',
  'iou',
  'mean_io_u',
  'dice',
  'perplexity',
  'lr',
  'learning_rate',
]);
/** Prefixes of the templates Keras and TensorFlow document (`weights.{epoch:02d}…`, `model-{epoch:03d}…`, `ckpt-{epoch}…`, `cp-{epoch:04d}…`). */
const TEMPLATE_WORDS = new Set(['weights', 'model', 'ckpt', 'checkpoint', 'cp']);

interface Token {
  readonly kind: 'word' | 'number' | 'separator';
  readonly text: string;
}

const TOKEN = /([A-Za-z]+(?:_[A-Za-z]+)*)|(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(.)/gs;

function tokens(stem: string): Token[] {
  return [...stem.matchAll(TOKEN)].map((m) => ({ kind: m[1] !== undefined ? 'word' : m[2] !== undefined ? 'number' : 'separator', text: m[0] }));
}

/** The word a number follows, directly or across one separator (`epoch_10`, `val_loss=0.3`, `weights.05`). */
function labelOf(list: readonly Token[], index: number): { word: string; separator: string } | null {
  const before = list[index - 1];
  if (before?.kind === 'word') return { word: before.text, separator: '' };
  const word = list[index - 2];
  if (before?.kind === 'separator' && /^[-_=:.]$/.test(before.text) && word?.kind === 'word') return { word: word.text, separator: before.text };
  return null;
}

/** The metric a word names (`val_loss`, and in `run_val_loss` too), or null. */
function metricName(word: string): string | null {
  const parts = word.split('_');
  for (let i = 0; i < parts.length; i += 1) {
    const suffix = parts.slice(i).join('_');
    const lower = suffix.toLowerCase();
    if (METRIC_WORDS.has(lower) || /^val_[a-z]/.test(lower)) return suffix;
  }
  return null;
}

function isInteger(text: string): boolean {
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

/** What `name` (a file name, no folder) says, or null when it is not a Keras file's name. */
export function parseKerasCheckpointName(name: string): KerasCheckpointName | null {
  const extension = EXTENSIONS.find((e) => name.toLowerCase().endsWith(e.suffix) && name.length > e.suffix.length);
  if (extension === undefined) return null;
  const stem = name.slice(0, -extension.suffix.length);
  const list = tokens(stem);
  const numbers = list.flatMap((token, index) => (token.kind === 'number' ? [{ index, text: token.text, label: labelOf(list, index) }] : []));
  const metrics: Record<string, number> = {};
  let epochAt: number | null = null;
  let batch: number | null = null;
  let step: number | null = null;
  const unlabeled: typeof numbers = [];
  for (const number of numbers) {
    const word = number.label?.word.toLowerCase() ?? '';
    const integer = isInteger(number.text);
    const metric = metricName(number.label?.word ?? '');
    if (integer && epochAt === null && /(^|_)epochs?$/.test(word)) epochAt = number.index;
    else if (integer && /(^|_)batch$/.test(word)) batch = Number(number.text);
    else if (integer && /(^|_)(step|steps|iter|iteration)$/.test(word)) step = Number(number.text);
    else if (metric !== null) metrics[metric] = Number(number.text);
    else unlabeled.push(number);
  }
  let guess: string | null = null;
  // The documented templates: the epoch right after weights./model-/ckpt-…, or first of all (`{epoch:02d}-{val_loss:.2f}.keras`).
  const first = unlabeled[0];
  const documented =
    first !== undefined &&
    isInteger(first.text) &&
    (first.index === 0 || (first.label !== null && TEMPLATE_WORDS.has(first.label.word.toLowerCase()) && /^[.-]$/.test(first.label.separator)));
  if (epochAt === null && documented) epochAt = first.index;
  else if (epochAt === null && batch === null && step === null) {
    const integers = unlabeled.filter((n) => isInteger(n.text));
    if (integers.length === 1) {
      const only = integers[0] as (typeof unlabeled)[number];
      epochAt = only.index;
      guess = `The number ${only.text} in ${name} is taken for the epoch, but the name does not say what it counts.`;
    }
  }
  const epoch = epochAt === null ? null : Number(list[epochAt]?.text);
  const unnamed = unlabeled.filter((n) => n.index !== epochAt).map((n) => Number(n.text));
  const template = list.map((token, index) => (token.kind !== 'number' ? token.text : index === epochAt ? '{epoch}' : '{#}')).join('') + extension.suffix;
  return { name, kind: extension.kind, epoch, batch, step, metrics, unnamed, guess, template };
}

export interface KerasFileRun {
  /** The files' common template (`weights.{epoch}-{#}.hdf5`), or the file's name for a run of one file. */
  readonly label: string;
  /** Oldest first: by epoch (then batch, step), then by name. */
  readonly files: readonly KerasCheckpointName[];
}

function order(a: KerasCheckpointName, b: KerasCheckpointName): number {
  const keys: [number | null, number | null][] = [
    [a.epoch, b.epoch],
    [a.batch, b.batch],
    [a.step, b.step],
  ];
  for (const [x, y] of keys) if (x !== null && y !== null && x !== y) return x - y;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * How the Keras files of one folder form runs: files whose names share a template and carry an
 * epoch, batch or step are one run with a checkpoint each; every other file is a run of its own.
 * Names that are not Keras files' names are left out. Runs come in the order of their first file's name.
 */
export function groupKerasCheckpoints(names: Iterable<string>): KerasFileRun[] {
  const byTemplate = new Map<string, KerasCheckpointName[]>();
  const single: KerasCheckpointName[] = [];
  for (const name of names) {
    const parsed = parseKerasCheckpointName(name);
    if (parsed === null) continue;
    if (parsed.epoch === null && parsed.batch === null && parsed.step === null) single.push(parsed);
    else byTemplate.set(parsed.template, [...(byTemplate.get(parsed.template) ?? []), parsed]);
  }
  const runs: KerasFileRun[] = single.map((file) => ({ label: file.name, files: [file] }));
  for (const [template, files] of byTemplate) {
    if (files.length === 1) runs.push({ label: (files[0] as KerasCheckpointName).name, files });
    else runs.push({ label: template, files: files.sort(order) });
  }
  const firstName = (run: KerasFileRun): string => [...run.files.map((f) => f.name)].sort()[0] ?? '';
  return runs.sort((a, b) => (firstName(a) < firstName(b) ? -1 : firstName(a) > firstName(b) ? 1 : 0));
}

/** The checkpoint's metrics as the name gives them: the epoch (a guessed one too: its sentence goes with it as a note) and the named metrics. */
export function metricsFromName(parsed: KerasCheckpointName): Record<string, number> {
  return { ...(parsed.epoch === null ? {} : { epoch: parsed.epoch }), ...parsed.metrics };
}

/** What a reader says about the name: the guess, if the epoch is one, and numbers left unnamed. */
export function nameNotes(parsed: KerasCheckpointName): string[] {
  const notes: string[] = [];
  if (parsed.guess !== null) notes.push(parsed.guess);
  if (parsed.unnamed.length > 0)
    notes.push(
      `${parsed.unnamed.join(', ')} in the name ${parsed.name} ${parsed.unnamed.length === 1 ? 'is' : 'are'} not named there; which metric ${parsed.unnamed.length === 1 ? 'it is' : 'they are'} is not known.`,
    );
  return notes;
}
