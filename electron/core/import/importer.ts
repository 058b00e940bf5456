// What an importer is: one per source format. It recognises a folder, then writes what the folder
// holds, in our own format, into a staging folder it is given. Everything after that (verifying
// every copied byte, choosing the run, making it visible atomically, cleaning up) is shared, in
// import-folder.ts, so a new format (TensorFlow, TF.js, safetensors) adds only its own reading.
import type { ImportPhase, RunMeta } from '../../contract.js';
import type { CheckpointRef } from '../checkpoint/manifest.js';
import type { SourceFolder } from './source-folder.js';

/** What the staging folder holds when an importer is done. */
export interface StagedSource {
  /** Checkpoint folders written into the staging folder (`ckpt-<step>`), and where each came from. */
  readonly checkpoints: readonly {
    readonly dirName: string;
    readonly step: number;
    readonly from: string;
    /** Every byte was already read back from the staged copy. */ readonly verified?: boolean;
  }[];
  /** For a whole run: its run.json fields to keep (parent already checked); null for loose checkpoints. */
  readonly runMeta: Pick<RunMeta, 'parent' | 'config'> | null;
  readonly notes: readonly string[];
}

export interface StageContext {
  /** The run the checkpoints will belong to (manifests record it). */
  readonly run: string;
  /** Cancels the import: checked between chunks and files. */
  readonly signal: AbortSignal;
  /** When the import started (recorded in what it writes). */
  readonly at: string;
  /** Whether a lineage pointer names a checkpoint of this workspace (else it is dropped). */
  parentResolves(ref: CheckpointRef): boolean;
  /** Says how many bytes the import will copy (once, before copying). */
  setTotal(bytes: number): void;
  phase(phase: ImportPhase): void;
  /** Copies one regular file of the source into the staging folder, durably, counting progress. */
  copyFile(from: string, to: string): Promise<number>;
  /** Counts bytes read (not copied) as progress: reading a linked source, or reading back a copy. */
  readBytes(bytes: number): void;
  /** copy: the source's files are copied into the workspace; link: they are read in place, never written. */
  readonly mode: 'copy' | 'link';
}

export interface Importer {
  /** Shown to users and recorded: `checkpoint-studio run`. */
  readonly format: string;
  /** A whole run (becomes a new run) or loose checkpoints (go into a run). */
  readonly kind: 'run' | 'checkpoints';
  /** Cheap: from the folder's listing alone. */
  matches(source: SourceFolder): boolean;
  /** Writes the source's checkpoints into `stageDir` (empty, ours); throws naming the file and what is wrong. */
  stage(source: SourceFolder, stageDir: string, context: StageContext): Promise<StagedSource>;
}
