// What a training session is given by whoever runs it (the trainer process, or a test): the
// store, the request, the controls the supervisor's commands set, and where its events go.
import type { S3Connection, SessionEvent } from '../../../contract.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import type { S3Storage } from '../../storage/s3-storage.js';
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

/**
 * A workspace on S3: the session writes its run there through the seam (no catalog, no
 * retention: the lead's workspace store lists it by polling). The worker reopens the store from
 * the address and `connection`.
 */
export interface StoredTrainingWorkspace {
  readonly kind: 'storage';
  readonly storage: S3Storage;
  readonly connection: S3Connection;
}

export function isStoredWorkspace(store: CheckpointStore | StoredTrainingWorkspace): store is StoredTrainingWorkspace {
  return 'kind' in store && store.kind === 'storage';
}

/** The local store, or null when the session trains into storage. */
export function localStore(store: CheckpointStore | StoredTrainingWorkspace): CheckpointStore | null {
  return isStoredWorkspace(store) ? null : store;
}

export interface SessionOptions {
  readonly store: CheckpointStore | StoredTrainingWorkspace;
  /** Resolved and checked by the Studio; checked again here, where it is executed. */
  readonly request: TrainRequest;
  readonly control: SessionControl;
  readonly onEvent: (event: SessionEvent) => void;
  /** Progress events at most this often (the loop itself is not throttled). */
  readonly progressIntervalMs?: number;
  /** How long saves still failing on an unreachable store are retried once the session ends (default 15 s). */
  readonly finalRetryMs?: number;
}
