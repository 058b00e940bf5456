// Persists snapshots in a worker thread so the training loop only pays for the in-memory copy.
// Bounded: one snapshot being written and at most one waiting; a third save waits for room
// (back-pressure) rather than dropping a checkpoint or growing memory without limit. A save the
// worker keeps retrying because the store cannot be reached (S3) is given up as soon as a newer
// snapshot waits (it supersedes it) or the session stops retrying: training never waits on an
// unreachable store.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../base/module-worker.js';
import type { SaveCost } from '../../checkpoint/manifest.js';
import type { SaveTarget } from '../../checkpoint/training-run-writer.js';
import type { TrainingState } from '../../checkpoint/writer.js';
import type { SaveRequest, WorkerRequest, WorkerResponse } from './checkpoint-writer-protocol.js';

export interface SavedCheckpoint {
  readonly step: number;
  readonly dir: string;
  readonly bytes: number;
  readonly blockedMs: number;
  readonly writeMs: number;
  readonly weightsHash: string;
  readonly reason: string;
}

/** A save given up while the store could not be reached: not written, and training went on. */
export interface UnsavedCheckpoint {
  readonly step: number;
  readonly reason: string;
  /** The last failure, one sentence naming the address. */
  readonly error: string;
}

/** What the saver tells besides saves and fatal failures. */
export interface SaverNotices {
  /** The store could not be reached: the save will be tried again after `retryInMs`. */
  readonly onRetrying?: (step: number, error: string, retryInMs: number) => void;
  readonly onAbandoned?: (unsaved: UnsavedCheckpoint) => void;
}

interface Job {
  readonly request: SaveRequest;
  readonly reason: string;
  readonly transfer: ArrayBuffer[];
  /** Settles (never rejects) once the job is written and its onSaved work is done, or failed. */
  readonly finished: Promise<void>;
  resolve(saved: SavedCheckpoint): void;
  reject(error: Error): void;
  /** The worker said the store is unreachable and it is waiting to retry; the failure it gave. */
  retrying: string | null;
  abandonSent: boolean;
}

/** The worker is this folder's checkpoint-writer-worker module. */
function startWorker(): Worker {
  return startModuleWorker('checkpoint-writer-worker', import.meta.url);
}

export class BackgroundSaver {
  private readonly worker: Worker;
  private writing: Job | null = null;
  private waiting: Job | null = null;
  private roomListeners: (() => void)[] = [];
  private nextId = 1;
  private failed: Error | null = null;
  /** Snapshot memory returned by the worker, by size, for the next snapshots to reuse. */
  private readonly pool = new Map<number, ArrayBuffer[]>();
  private pooledBytes = 0;
  private poolLimit = 0;
  /** onSaved work still running for checkpoints already written. */
  private readonly settling = new Set<Promise<void>>();
  private callbacks: Promise<void> = Promise.resolve();
  /** Set by stopRetrying: saves still failing then are given up. */
  private retriesOver = false;

  constructor(
    private readonly target: SaveTarget,
    private readonly run: string,
    private readonly onSaved: (saved: SavedCheckpoint) => void | Promise<void>,
    private readonly onError: (error: Error) => void,
    /** Called at once when a checkpoint is on disk, before the (serialised) onSaved work. */
    private readonly onWritten: (saved: SavedCheckpoint) => void = () => undefined,
    private readonly notices: SaverNotices = {},
  ) {
    this.worker = startWorker();
    this.worker.on('message', (response: WorkerResponse) => this.finish(response));
    this.worker.on('error', (error) => this.fail(error));
  }

  get pending(): number {
    return (this.writing ? 1 : 0) + (this.waiting ? 1 : 0);
  }

  /**
   * Memory for the next snapshot: recycled from earlier ones when the sizes match. At most
   * two snapshots' worth is kept (one being written, one waiting), so memory stays bounded.
   */
  readonly allocate = (bytes: number): ArrayBuffer => {
    const reusable = this.pool.get(bytes)?.pop();
    if (reusable) {
      this.pooledBytes -= bytes;
      return reusable;
    }
    return new ArrayBuffer(bytes);
  };

  private recycle(buffers: readonly ArrayBuffer[]): void {
    const total = buffers.reduce((s, b) => s + b.byteLength, 0);
    this.poolLimit = Math.max(this.poolLimit, 2 * total);
    for (const buffer of buffers) {
      if (this.pooledBytes + buffer.byteLength > this.poolLimit) break;
      const list = this.pool.get(buffer.byteLength) ?? [];
      list.push(buffer);
      this.pool.set(buffer.byteLength, list);
      this.pooledBytes += buffer.byteLength;
    }
  }

  /** Resolves once a snapshot can be accepted: call it before taking the snapshot, so memory stays bounded. */
  async waitForRoom(): Promise<void> {
    if (this.failed) throw this.failed;
    // Behind a save stuck on an unreachable store, the snapshot waiting is given up for the newer
    // one rather than training waiting on the store.
    if (this.waiting && this.writing?.retrying) this.dropWaiting(this.writing.retrying);
    while (this.waiting) await new Promise<void>((resolve) => this.roomListeners.push(resolve));
    if (this.failed) throw this.failed;
  }

  /** Hands a snapshot over (after waitForRoom); `done` settles when it is on disk. */
  submit(state: TrainingState, blockedMs: number, reason: string): { done: Promise<SavedCheckpoint> } {
    if (this.failed) throw this.failed;
    if (this.waiting) throw new Error('a snapshot is already waiting: call waitForRoom() first');
    const cost: SaveCost = { blockedMs, writeMs: 0, bytes: 0 };
    const transfer = [...state.model, ...state.optimizer].map((t) => t.data.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    let resolveJob!: (saved: SavedCheckpoint) => void;
    let rejectJob!: (error: Error) => void;
    const done = new Promise<SavedCheckpoint>((resolve, reject) => {
      resolveJob = resolve;
      rejectJob = reject;
    });
    const finished = done.then(
      () => undefined,
      () => undefined,
    );
    const job: Job = {
      request: { type: 'save', id: this.nextId++, target: this.target, run: this.run, state, cost },
      reason,
      transfer: [...new Set(transfer)],
      finished,
      resolve: resolveJob,
      reject: rejectJob,
      retrying: null,
      abandonSent: false,
    };
    if (this.writing) {
      this.waiting = job;
      // The newer snapshot supersedes one stuck on an unreachable store.
      if (this.writing.retrying) this.abandon(this.writing);
    } else this.start(job);
    return { done };
  }

  /** Waits for every accepted snapshot to be on disk and its onSaved work (retention, logs) done. */
  async drain(): Promise<void> {
    for (;;) {
      const inFlight = [this.writing?.finished, this.waiting?.finished, ...this.settling].filter((p): p is Promise<void> => p !== undefined);
      if (inFlight.length === 0) break;
      await Promise.all(inFlight);
    }
    if (this.failed) throw this.failed;
  }

  /**
   * After `graceMs`, saves the worker is retrying (the store unreachable) are given up, and so
   * are later ones at their first failure: a session that ends does not wait on the store forever.
   */
  stopRetrying(graceMs: number): void {
    setTimeout(() => {
      this.retriesOver = true;
      if (this.writing?.retrying) this.abandon(this.writing);
    }, graceMs).unref();
  }

  private dropWaiting(error: string): void {
    const job = this.waiting;
    if (!job) return;
    this.waiting = null;
    this.recycle(job.transfer);
    this.notices.onAbandoned?.({ step: job.request.state.step, reason: job.reason, error });
    job.reject(new Error(`step ${job.request.state.step} was not saved: ${error}`));
  }

  private abandon(job: Job): void {
    if (job.abandonSent) return;
    job.abandonSent = true;
    const message: WorkerRequest = { type: 'abandon', id: job.request.id };
    this.worker.postMessage(message);
  }

  async close(): Promise<void> {
    await this.drain().catch(() => undefined);
    await this.worker.terminate();
  }

  private start(job: Job): void {
    this.writing = job;
    // Ownership of the buffers moves to the worker: the snapshot was a private copy.
    this.worker.postMessage(job.request, job.transfer);
  }

  private finish(response: WorkerResponse): void {
    const job = this.writing;
    if (!job || job.request.id !== response.id) return;
    if ('retrying' in response) {
      job.retrying = response.error;
      this.notices.onRetrying?.(job.request.state.step, response.error, response.retryInMs);
      if (this.waiting || this.retriesOver) this.abandon(job);
      return;
    }
    this.writing = null;
    if (this.waiting) {
      const next = this.waiting;
      this.waiting = null;
      this.start(next);
    }
    for (const listener of this.roomListeners.splice(0)) listener();
    this.recycle(response.buffers);
    if (!response.ok && response.abandoned) {
      this.notices.onAbandoned?.({ step: job.request.state.step, reason: job.reason, error: response.error });
      job.reject(new Error(`step ${job.request.state.step} was not saved: ${response.error}`));
      return;
    }
    if (!response.ok) {
      const error = new Error(`saving step ${job.request.state.step} failed: ${response.error}`);
      this.onError(error);
      job.reject(error);
      return;
    }
    const saved: SavedCheckpoint = {
      step: job.request.state.step,
      dir: response.dir,
      bytes: response.bytes,
      blockedMs: job.request.cost.blockedMs,
      writeMs: response.writeMs,
      weightsHash: response.weightsHash,
      reason: job.reason,
    };
    this.onWritten(saved);
    // onSaved work (catalog refresh, retention) runs one checkpoint at a time, in order: two
    // retention passes at once would race to move the same folders.
    const settling = this.callbacks
      .then(() => this.onSaved(saved))
      .then(
        () => job.resolve(saved),
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          this.onError(failure);
          job.reject(failure);
        },
      );
    this.callbacks = settling;
    this.settling.add(settling);
    void settling.finally(() => this.settling.delete(settling));
  }

  private fail(error: Error): void {
    this.failed = error;
    this.onError(error);
    for (const job of [this.writing, this.waiting]) job?.reject(error);
    this.writing = null;
    this.waiting = null;
    for (const listener of this.roomListeners.splice(0)) listener();
  }
}
