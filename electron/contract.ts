// The one definition of the data the core hands to its hosts: the CLI prints it with --json,
// the app's renderer receives it through StudioApi. Later issues add the StudioApi methods here.

export type CheckpointStatus = 'verified' | 'unverified' | 'damaged' | 'incomplete';

export interface CheckpointRef {
  readonly run: string;
  readonly step: number;
}

export interface CheckpointInfo {
  /** `<run>/ckpt-<step>`: stable, and what lineage pointers and the CLI use. */
  readonly id: string;
  readonly run: string;
  readonly step: number;
  readonly path: string;
  readonly status: CheckpointStatus;
  /** Why it is damaged or incomplete; null otherwise. */
  readonly statusReason: string | null;
  readonly bytes: number;
  readonly epoch: number | null;
  readonly batchInEpoch: number | null;
  readonly createdAt: string | null;
  readonly trainingTimeMs: number | null;
  readonly metrics: Readonly<Record<string, number | null>>;
  readonly backend: string | null;
  readonly parent: CheckpointRef | null;
  /** `trained` by this program; `imported` or `foreign` (another writer) are never pruned by policy. */
  readonly origin: 'trained' | 'imported' | 'foreign';
  /** The folder is a symbolic link (a linked checkpoint): never pruned by policy. */
  readonly linked: boolean;
  readonly pinned: boolean;
  /**
   * Ids of other folders of the same run that hold the same step (`ckpt-12` beside
   * `ckpt-000000012`). Non-empty means ambiguous: it is never resumed from or pruned until a
   * person removes or renames one of them.
   */
  readonly sameStepAs: readonly string[];
}

export interface RunInfo {
  readonly name: string;
  readonly path: string;
  readonly createdAt: string | null;
  /** The checkpoint this run was continued from. */
  readonly parent: CheckpointRef | null;
  readonly checkpointCount: number;
  readonly bytes: number;
  /** The live process writing this run, if any. */
  readonly writer: { readonly pid: number; readonly host: string; readonly since: string } | null;
}

export interface CatalogSnapshot {
  readonly workspace: string;
  readonly runs: readonly RunInfo[];
  readonly checkpoints: readonly CheckpointInfo[];
}

export type CatalogEvent =
  | { readonly type: 'added'; readonly checkpoint: CheckpointInfo }
  | { readonly type: 'changed'; readonly checkpoint: CheckpointInfo }
  | { readonly type: 'removed'; readonly id: string; readonly run: string; readonly step: number };

export type MetricMode = 'min' | 'max';

export interface RetentionPolicy {
  readonly keepLast?: number;
  readonly keepBest?: { readonly k: number; readonly metric: string; readonly mode: MetricMode };
  readonly keepEverySteps?: number;
  readonly keepEveryHours?: number;
  /** Disk budget for the run, in bytes. */
  readonly maxBytes?: number;
}

export interface RetentionDecision {
  readonly id: string;
  readonly step: number;
  readonly bytes: number;
  readonly reasons: readonly string[];
}

export interface RetentionPlan {
  readonly run: string;
  /** The policy this plan was made with; applying re-checks against the same one. */
  readonly policy: RetentionPolicy;
  readonly keep: readonly RetentionDecision[];
  readonly delete: readonly RetentionDecision[];
  readonly bytesFreed: number;
  /** Things the user should know, e.g. a disk budget that protected checkpoints alone exceed. */
  readonly warnings: readonly string[];
}

export interface TrashEntry {
  readonly id: string;
  /** What was deleted together (one bulk delete or one policy pass); undo restores a batch. */
  readonly batch: string;
  readonly originalPath: string;
  readonly checkpointId: string;
  readonly deletedAt: string;
  readonly bytes: number;
  readonly reason: string;
}
