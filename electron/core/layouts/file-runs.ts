// Loose checkpoint files (Keras `.h5`/`.keras`, `.safetensors`): a folder of several whose names
// carry a step or an epoch is one run with a checkpoint each; otherwise every file is a run of its
// own, named by its path.
import type { FolderEntry, InPlaceCheckpoint, InPlaceRun } from '../checkpoint/in-place.js';

/** What a name says of its checkpoint: a step or an epoch, where they came from, metrics the name shows. */
export interface NamedNumbers {
  readonly step: number | null;
  readonly epoch: number | null;
  /** Said to the user: where the number came from, or that its meaning is a guess. */
  readonly source: string | null;
  readonly metrics: Readonly<Record<string, number>>;
  /** What else the name leaves unclear (a number it does not name), said beside the source. */
  readonly notes?: readonly string[];
}

/** A loose file and the format it was found to be. */
export interface LooseFile {
  readonly entry: FolderEntry;
  readonly format: string;
  readonly formatLabel: string;
}

function checkpointOf({ entry, format, formatLabel }: LooseFile, numbers: NamedNumbers): InPlaceCheckpoint {
  return {
    name: entry.name,
    folder: null,
    step: numbers.step,
    epoch: numbers.epoch,
    stepSource: numbers.source,
    files: [{ name: entry.name, bytes: entry.bytes, mtimeMs: entry.mtimeMs }],
    // A file is written whole or not at all by these programs' savers (h5py, safetensors write then close).
    complete: entry.bytes > 0,
    incompleteReason: entry.bytes > 0 ? null : 'the file is empty',
    format,
    formatLabel,
    savedAt: entry.mtimeMs,
    metrics: numbers.metrics,
    notes: [...(numbers.notes ?? [])],
  };
}

export function looseFileRuns(
  files: readonly LooseFile[],
  name: (entry: FolderEntry) => NamedNumbers,
  kind: { readonly layout: InPlaceRun['layout']; readonly label: string },
): InPlaceRun[] {
  const read = files.map((file) => ({ file, numbers: name(file.entry) }));
  const numbered = read.filter((r) => r.numbers.step !== null || r.numbers.epoch !== null);
  const together = numbered.length >= 2 ? numbered : [];
  const alone = read.filter((r) => !together.includes(r));
  const run = (file: string | null, members: typeof read): InPlaceRun => {
    const checkpoints = members
      .map((m) => checkpointOf(m.file, m.numbers))
      .sort((a, b) => (a.step ?? a.epoch ?? 0) - (b.step ?? b.epoch ?? 0) || a.name.localeCompare(b.name));
    return { file, layout: kind.layout, label: kind.label, checkpoints, latest: null, claimed: [], config: null, series: [], notes: [] };
  };
  return [...(together.length > 0 ? [run(null, together)] : []), ...alone.map((m) => run(m.file.entry.name, [m]))];
}
