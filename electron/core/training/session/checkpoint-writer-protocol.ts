// Messages between the training thread and the checkpoint-writing worker.
import type { SaveCost } from '../../checkpoint/manifest.js';
import type { TrainingState } from '../../checkpoint/writer.js';

export interface WorkerRequest {
  readonly id: number;
  readonly runDir: string;
  readonly run: string;
  readonly state: TrainingState;
  /** blockedMs is known; writeMs is filled in by the worker. */
  readonly cost: SaveCost;
}

export type WorkerResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly dir: string;
      readonly bytes: number;
      readonly writeMs: number;
      readonly weightsHash: string;
      readonly buffers: ArrayBuffer[];
    }
  | { readonly id: number; readonly ok: false; readonly error: string; readonly buffers: ArrayBuffer[] };
