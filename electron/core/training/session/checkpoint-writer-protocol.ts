// Messages between the training thread and the checkpoint-writing worker.
import type { SaveCost } from '../../checkpoint/manifest.js';
import type { SaveTarget } from '../../checkpoint/training-run-writer.js';
import type { TrainingState } from '../../checkpoint/writer.js';

export type WorkerRequest =
  | {
      readonly type: 'save';
      readonly id: number;
      readonly target: SaveTarget;
      readonly run: string;
      readonly state: TrainingState;
      /** blockedMs is known; writeMs is filled in by the worker. */
      readonly cost: SaveCost;
    }
  /** A newer snapshot supersedes this one, or the session ends: stop retrying it. */
  | { readonly type: 'abandon'; readonly id: number };

export type SaveRequest = Extract<WorkerRequest, { type: 'save' }>;

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
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: string;
      /** Given up while retrying an unreachable store: the step is not saved, training goes on. */
      readonly abandoned?: boolean;
      readonly buffers: ArrayBuffer[];
    }
  /** The store could not be reached: the save is tried again after `retryInMs` (not an answer: one still follows). */
  | { readonly id: number; readonly retrying: true; readonly error: string; readonly retryInMs: number };
