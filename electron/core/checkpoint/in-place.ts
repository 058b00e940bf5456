// The layouts seam (DESIGN.md, "Workspaces beyond our own format"): how the files of a folder that
// another program wrote form runs and checkpoints, read where they lie. The store walks the
// workspace and hands each folder's listing to the layouts it was opened with; a layout says which
// files make each checkpoint, what is known of it without reading tensors, and what else must change
// when one is deleted or made latest (TensorFlow's `checkpoint` state file). The store knows no
// format: the layouts (electron/core/layouts/) are supplied by the layer above, as the foreign-part
// verifier is.
import type { RunLayout } from '../../contract.js';
import type { Problem } from './problem.js';

/** One entry of a folder, as the walk saw it (links are followed for files, never for folders). */
export interface FolderEntry {
  readonly name: string;
  readonly kind: 'file' | 'folder' | 'other';
  /** Size of a file, 0 otherwise. */
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface FolderListing {
  /** Absolute, real path of the folder. */
  readonly dir: string;
  /** Relative to the workspace, with `/` between names; '' for the workspace itself. */
  readonly relative: string;
  readonly entries: readonly FolderEntry[];
}

/** A file of a checkpoint: its path relative to the run's folder (`model-100.index`, `checkpoint-500/model.safetensors`). */
export interface InPlaceFile {
  readonly name: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

export interface InPlaceCheckpoint {
  /** Its name in the folder: a TensorFlow prefix, a file's name, a checkpoint folder's name. */
  readonly name: string;
  /** When the checkpoint is a folder of its own (`checkpoint-500/`), that folder (relative to the run's): it is moved whole. */
  readonly folder: string | null;
  readonly step: number | null;
  readonly epoch: number | null;
  /** Where the step or epoch came from, or why it is a guess: said to the user. */
  readonly stepSource: string | null;
  readonly files: readonly InPlaceFile[];
  /** Whole: every file its format needs is there (a TensorFlow group's index and every data shard). */
  readonly complete: boolean;
  readonly incompleteReason: string | null;
  readonly format: string;
  readonly formatLabel: string;
  /** Unix milliseconds: the folder's own record (a state file's timestamp), else its newest file's mtime. */
  readonly savedAt: number;
  /** Metrics the files themselves record at this checkpoint (a Keras name's val_loss, trainer_state.json). */
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly notes: readonly string[];
}

/** One metric of a run read in place, over training (TensorBoard's scalars, a CSV log, a Trainer's log history). */
export interface InPlaceSeries {
  /** The name shown and matched by: `loss`, `val_loss` (Keras' validation folder), a tag. */
  readonly name: string;
  /** What the points' `step` counts. */
  readonly counts: 'step' | 'epoch';
  /** Oldest first; `time` in Unix ms where known; `value` null where the log had NaN or an infinity. */
  readonly points: readonly { readonly step: number; readonly time: number | null; readonly value: number | null }[];
}

export interface InPlaceRun {
  /**
   * Null: the run is the folder (TensorBoard's rule). A file's name: the run is that one file of the
   * folder (a lone `.h5` beside unrelated others), named by the folder and the file.
   */
  readonly file: string | null;
  /** Which layout read it. */
  readonly layout: Exclude<RunLayout, 'studio'>;
  /** For people: "TensorFlow checkpoint folder", "Keras ModelCheckpoint files", … */
  readonly label: string;
  readonly checkpoints: readonly InPlaceCheckpoint[];
  /** The name the folder's own state calls latest (TensorFlow's model_checkpoint_path), when it names a present one. */
  readonly latest: string | null;
  /** Subfolders that belong to this run (`checkpoint-500/`, Keras' `train/` and `validation/`): not walked as runs of their own. */
  readonly claimed: readonly string[];
  /** What the run was configured with, where the folder says (TensorBoard's hparams, a Trainer's arguments). */
  readonly config: Readonly<Record<string, unknown>> | null;
  /** Its metrics over training, kept current by reading only what the logs gained since the last scan. */
  readonly series: readonly InPlaceSeries[];
  readonly notes: readonly string[];
}

/** A file to replace, beside a change to a folder's checkpoints: its path relative to the run's folder, and its new text. */
export interface Rewrite {
  readonly name: string;
  /** What the file held when the rewrite was computed: the change is refused if it holds something else by then. */
  readonly before: string | null;
  /** Null: the file is removed. */
  readonly after: string | null;
}

/** What a full read of a checkpoint read in place found. */
export interface InPlaceVerification {
  readonly problems: readonly Problem[];
  /** Each tensor's CRC-32C as read: kept by the store where the format stores no checksum of its own, to compare next time. */
  readonly crcs: Readonly<Record<string, number>>;
  /** Whether the format's own checksums were checked (TensorFlow's); if not, only ours can tell a later change. */
  readonly ownChecksums: boolean;
}

export interface InPlaceLayouts {
  /** The runs one folder holds, judged by content; none when it holds no run of another program's. */
  scanFolder(listing: FolderListing): Promise<InPlaceRun[]>;
  /** Reads every byte of one checkpoint (`path` and `format` as the catalog lists it). */
  verify(checkpoint: { readonly path: string; readonly format: string; readonly name: string }): Promise<InPlaceVerification>;
  /** The files to rewrite when `names` leave the run in `dir` (TensorFlow's state file, as TensorFlow would write it). */
  rewritesForDelete(dir: string, run: InPlaceRun, names: readonly string[]): Promise<Rewrite[]>;
  /** The files to rewrite to make `name` the run's latest; refused (throws) where the layout has no such notion. */
  rewritesForLatest(dir: string, run: InPlaceRun, name: string): Promise<Rewrite[]>;
}

/** For stores opened without layouts (a trainer's own workspace): other programs' folders are not listed. */
export const NO_IN_PLACE_LAYOUTS: InPlaceLayouts = {
  scanFolder: async () => [],
  verify: async (checkpoint) => ({
    problems: [{ file: checkpoint.path, problem: "this store was opened without the readers of other programs' formats" }],
    crcs: {},
    ownChecksums: false,
  }),
  rewritesForDelete: async () => [],
  rewritesForLatest: async (dir) => {
    throw new Error(`${dir}: this store was opened without the layouts of other programs' folders`);
  },
};

/**
 * The run name of a folder read in place: its path relative to the workspace, `.` for the
 * workspace itself (TensorBoard's rule); a run that is one file is named by its path.
 */
export function inPlaceRunName(relative: string, file: string | null = null): string {
  if (file !== null) return relative === '' ? file : `${relative}/${file}`;
  return relative === '' ? '.' : relative;
}

/** A checkpoint's id: its run and its name (only its name in the workspace's own folder); a one-file run's only checkpoint is the run's name. */
export function inPlaceCheckpointId(run: string, name: string, file: string | null = null): string {
  if (file !== null) return run;
  return run === '.' ? name : `${run}/${name}`;
}
