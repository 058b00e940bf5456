// What a training session is given by whoever runs it (the trainer process, or a test): the
// store, the request, the controls the supervisor's commands set, and where its events go.
import type { SessionEvent } from '../../../contract.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import type { TrainRequest } from '../process/train-request.js';

export interface SessionControl {
  stopRequested: boolean;
  paused: boolean;
  saveRequested: boolean;
  /** Called when paused or stopRequested change, to wake a paused loop. */
  wake?: () => void;
}

export function newControl(): SessionControl {
  return { stopRequested: false, paused: false, saveRequested: false };
}

export interface SessionOptions {
  readonly store: CheckpointStore;
  /** Resolved and checked by the Studio; checked again here, where it is executed. */
  readonly request: TrainRequest;
  readonly control: SessionControl;
  readonly onEvent: (event: SessionEvent) => void;
  /** Progress events at most this often (the loop itself is not throttled). */
  readonly progressIntervalMs?: number;
}
