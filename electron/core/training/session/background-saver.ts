// Persists snapshots in a worker thread so the training loop only pays for the in-memory copy.
// Bounded: one snapshot being written and at most one waiting; a third save waits for room
// (back-pressure) rather than dropping a checkpoint or growing memory without limit.
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../base/module-worker.js';
import type { SaveCost } from '../../checkpoint/manifest.js';
import type { TrainingState } from '../../checkpoint/writer.js';
import type { WorkerRequest, WorkerResponse } from './checkpoint-writer-protocol.js';

export interface SavedCheckpoint {
  readonly step: number;
  readonly dir: string;
  readonly bytes: number;
  readonly blockedMs: number;
  readonly writeMs: number;
  readonly weightsHash: string;
  readonly reason: string;
}

interface Job {
  readonly request: WorkerRequest;
  readonly reason: string;
  readonly transfer: ArrayBuffer[];
  /** Settles (never rejects) once the job is written and its onSaved work is done, or failed. */
  readonly finished: Promise<void>;
  resolve(saved: SavedCheckpoint): void;
  reject(error: Error): void;
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

  constructor(
    private readonly runDir: string,
    private readonly run: string,
    private readonly onSaved: (saved: SavedCheckpoint) => void | Promise<void>,
    private readonly onError: (error: Error) => void,
    /** Called at once when a checkpoint is on disk, before the (serialised) onSaved work. */
    private readonly onWritten: (saved: SavedCheckpoint) => void = () => undefined,
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
      request: { id: this.nextId++, runDir: this.runDir, run: this.run, state, cost },
      reason,
      transfer: [...new Set(transfer)],
      finished,
      resolve: resolveJob,
      reject: rejectJob,
    };
    if (this.writing) this.waiting = job;
    else this.start(job);
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
    this.writing = null;
    if (this.waiting) {
      const next = this.waiting;
      this.waiting = null;
      this.start(next);
    }
    for (const listener of this.roomListeners.splice(0)) listener();
    this.recycle(response.buffers);
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
