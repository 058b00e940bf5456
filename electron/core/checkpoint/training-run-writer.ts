// What a training session writes a run through, wherever the run lives: RunWriter for a folder on
// disk, StoredRunWriter for an S3 prefix. The checkpoints themselves are written in the session's
// worker thread, which is told where by a SaveTarget (plain data: it crosses into the worker).
import type { S3Connection } from '../../contract.js';
import type { LeaseHolder } from '../storage/lease-lock.js';
import type { MetricsLog } from './run-writer.js';
import type { MetricsRecord } from './run-files.js';

export type SaveTarget =
  | { readonly kind: 'folder'; readonly runDir: string }
  | {
      readonly kind: 'storage';
      /** The workspace, s3://bucket/prefix/: the worker opens its own client on it (credentials from its process's AWS chain). */
      readonly address: string;
      readonly connection: S3Connection;
      /** The run's key prefix, ending in '/'. */
      readonly runKey: string;
      /** The lease the run's writer holds: the worker checks it before each commit. */
      readonly lease: { readonly prefix: string; readonly generation: number; readonly holder: LeaseHolder };
    };

export interface TrainingRunWriter {
  readonly run: string;
  /** Where the run is, as a user would find it (a folder's path, an s3:// address). */
  readonly location: string;
  /** Where the session's worker writes this run's checkpoints. */
  readonly saveTarget: SaveTarget;
  /** The writer's hold on the run (a lock's or a lease's token): retention proves with it that it may delete. */
  readonly lockToken: string;
  appendMetrics(record: MetricsRecord): Promise<void>;
  addMetricsLog(log: MetricsLog): void;
  close(): Promise<void>;
}
