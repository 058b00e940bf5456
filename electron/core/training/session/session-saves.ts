// A session's checkpoints: each save's in-memory snapshot (the only part that blocks training),
// the background writes, the bookkeeping after each (catalog, metrics log, event), retention
// passes, and what saving has cost training so far. Into S3, a save the store cannot take is
// reported (a warning: training goes on), retried by the worker, and superseded by the next one.
import path from 'node:path';
import { type CheckpointPolicy, type RetentionPolicy, RetentionPolicySchema, type SessionEvent, type TrainingConfig } from '../../../contract.js';
import type { ParentCheckpoint } from './foreign-start.js';
import { isPolicyEmpty } from '../../checkpoint/retention.js';
import type { CheckpointStore } from '../../checkpoint/store.js';
import type { TrainingRunWriter } from '../../checkpoint/training-run-writer.js';
import type { TrainingLoop } from '../engine/training-loop.js';
import { BackgroundSaver, type SavedCheckpoint, type UnsavedCheckpoint } from './background-saver.js';
import { type StoredTrainingWorkspace, isStoredWorkspace, localStore } from './session-control.js';
import { storedWorkspaceOf } from './stored-session.js';
import type { StoredWorkspace } from '../../checkpoint/stored-store.js';
import type { MetricWindow, TrainingClock } from './session-measures.js';
import { overheadWarning } from './session-events.js';

/** Saves a retention pass may fall behind by before the next save waits for it. */
const RETENTION_BACKLOG = 4;
/** How long a save still failing on an unreachable store is retried once the session ends. */
const FINAL_RETRY_MS = 15_000;

/** What the saves of one session need to know of it. */
export interface SavesContext {
  readonly store: CheckpointStore | StoredTrainingWorkspace;
  readonly writer: TrainingRunWriter;
  readonly run: string;
  readonly loop: TrainingLoop;
  readonly config: TrainingConfig;
  readonly parent: ParentCheckpoint | null;
  readonly checkpoints: CheckpointPolicy;
  readonly backendName: string;
  readonly dataFingerprint: string;
  readonly clock: TrainingClock;
  readonly metrics: MetricWindow;
  readonly onEvent: (event: SessionEvent) => void;
  readonly finalRetryMs?: number;
}

export class SessionSaves {
  readonly saved: SavedCheckpoint[] = [];
  /** Saves given up while the store could not be reached. */
  readonly unsaved: UnsavedCheckpoint[] = [];
  /** The store stopped answering and has not taken a save since: one outage is one warning, not one per save or retry. */
  private outage = false;
  private readonly errors: Error[] = [];
  private readonly saver: BackgroundSaver;
  private readonly sessionStartStep: number;
  private blockedMs = 0;
  private lastSavedStep = -1;
  private lastSaveAt = performance.now();
  private overheadWarned = false;
  private savedSinceRetention = 0;
  private retentionPass: Promise<void> | null = null;
  private retentionAgain = false;

  /** `policy` is the run's retention policy, read once: this session owns it while it holds the lock. */
  private constructor(
    private readonly ctx: SavesContext,
    private readonly policy: RetentionPolicy,
  ) {
    this.sessionStartStep = ctx.loop.step;
    this.saver = new BackgroundSaver(
      ctx.writer.saveTarget,
      ctx.run,
      (done) => this.afterSave(done),
      (error) => this.errors.push(error),
      // The event goes out the moment the checkpoint is on disk, not after the bookkeeping of
      // earlier saves (which runs one at a time), so the dashboard never lags a frequent saver.
      (done) => this.announce(done),
      { onRetrying: (step, error, retryInMs) => this.warnRetrying(step, error, retryInMs), onAbandoned: (unsaved) => this.unsaved.push(unsaved) },
    );
  }

  static async open(ctx: SavesContext): Promise<SessionSaves> {
    const store = localStore(ctx.store);
    if (store) return new SessionSaves(ctx, await store.getPolicy(ctx.run));
    // In S3 the policy is the run's retention record too (the session wrote it as it started).
    const policy = isStoredWorkspace(ctx.store) ? (await storedWorkspaceOf(ctx.store)).getPolicy(ctx.run) : RetentionPolicySchema.parse({});
    return new SessionSaves(ctx, policy);
  }

  /** Time the loop was blocked by saves so far, as a share of training time. */
  get overheadShare(): number {
    return this.blockedMs / Math.max(1, this.ctx.clock.trainingMs());
  }

  get msSinceLastSave(): number {
    return performance.now() - this.lastSaveAt;
  }

  /** A background write or its bookkeeping failed: training stops with that error. */
  throwIfFailed(): void {
    if (this.errors.length > 0) throw this.errors[0];
  }

  /** Snapshots the loop's state (at most once per step) and hands it to the background writer. */
  async save(reason: string): Promise<void> {
    const { loop, parent } = this.ctx;
    if (loop.step === this.lastSavedStep) return;
    const before = performance.now();
    // Waiting for room behind a slow disk blocks training too, so it is counted. So does waiting
    // for retention when saves outrun it: the run's folder stays near its policy's size.
    if (this.savedSinceRetention >= RETENTION_BACKLOG && !isPolicyEmpty(this.policy)) {
      await this.saver.drain();
      await this.requestRetention();
      this.savedSinceRetention = 0;
    }
    await this.saver.waitForRoom();
    const snapshot = loop.snapshot(this.saver.allocate);
    const blocked = performance.now() - before;
    this.blockedMs += blocked;
    const state = {
      ...snapshot,
      trainingTimeMs: (parent?.trainingTimeMs ?? 0) + this.ctx.clock.trainingMs(),
      metrics: this.ctx.metrics.metricsAt(loop.step),
      backend: this.ctx.backendName,
      parent: parent ? { run: parent.run, step: parent.step } : null,
      extra: { config: this.ctx.config, parameters: loop.parameterCount, dataFingerprint: this.ctx.dataFingerprint },
    };
    this.saver.submit(state, blocked, reason);
    this.lastSavedStep = loop.step;
    this.savedSinceRetention += 1;
    this.lastSaveAt = performance.now();
    this.warnOfOverhead();
  }

  /** Waits for every write, its bookkeeping and the retention they asked for; rethrows what failed. */
  async settle(): Promise<void> {
    this.saver.stopRetrying(this.ctx.finalRetryMs ?? FINAL_RETRY_MS);
    await this.saver.drain().catch((error: unknown) => this.errors.push(error as Error));
    await this.retentionPass;
    this.throwIfFailed();
  }

  /** The worker keeps the process alive until it is closed, whatever happened. */
  close(): Promise<void> {
    return this.saver.close();
  }

  private warnOfOverhead(): void {
    if (this.overheadWarned) return;
    const warning = overheadWarning(this.overheadShare, this.ctx.loop.step - this.sessionStartStep);
    if (warning === null) return;
    // Once per session: the share is also in every checkpoint event and in the summary.
    this.overheadWarned = true;
    this.ctx.onEvent({ type: 'warning', message: warning });
  }

  private warnRetrying(step: number, error: string, retryInMs: number): void {
    if (this.outage) return;
    this.outage = true;
    this.ctx.onEvent({
      type: 'warning',
      message: `saving step ${step} failed: ${error}; training goes on, and the save is retried (next in ${Math.round(retryInMs / 1000)} s) or replaced by the next one`,
    });
  }

  private announce(done: SavedCheckpoint): void {
    this.saved.push(done);
    const { run, onEvent } = this.ctx;
    if (this.outage) {
      this.outage = false;
      const skipped = this.unsaved.map((u) => u.step).sort((a, b) => a - b);
      onEvent({
        type: 'warning',
        message: `saving works again: step ${done.step} saved to ${this.ctx.writer.location}${skipped.length > 0 ? `; not saved meanwhile: step${skipped.length === 1 ? '' : 's'} ${skipped.join(', ')}` : ''}`,
      });
    }
    onEvent({
      type: 'checkpoint',
      id: `${run}/${path.basename(done.dir)}`,
      step: done.step,
      path: done.dir,
      reason: done.reason,
      blockedMs: done.blockedMs,
      writeMs: done.writeMs,
      bytes: done.bytes,
      overheadShare: this.overheadShare,
    });
  }

  private async afterSave(done: SavedCheckpoint): Promise<void> {
    const { writer, run } = this.ctx;
    await localStore(this.ctx.store)?.catalog.refreshCheckpoint(run, path.basename(done.dir));
    await writer.appendMetrics({
      kind: 'checkpoint',
      step: done.step,
      reason: done.reason,
      blockedMs: done.blockedMs,
      writeMs: done.writeMs,
      bytes: done.bytes,
      weightsHash: done.weightsHash,
      time: new Date().toISOString(),
    });
    void this.requestRetention();
  }

  /**
   * Retention runs one pass at a time, and the saves that land while a pass runs are covered by
   * one more pass after it, not one each: deleting costs a few fsyncs per checkpoint, and a run
   * that saves every step would otherwise pile up checkpoints faster than they go.
   */
  private requestRetention(): Promise<void> {
    if (isPolicyEmpty(this.policy)) return Promise.resolve();
    if (this.retentionPass) {
      this.retentionAgain = true;
      return this.retentionPass;
    }
    this.retentionPass = this.retentionPasses().finally(() => {
      this.retentionPass = null;
    });
    return this.retentionPass;
  }

  private async retentionPasses(): Promise<void> {
    do {
      this.retentionAgain = false;
      try {
        await this.applyRetention();
      } catch (error) {
        // A retention pass that cannot run must not stop training: nothing was deleted.
        this.ctx.onEvent({ type: 'warning', message: `retention was not applied at step ${this.ctx.loop.step}: ${(error as Error).message}` });
      }
    } while (this.retentionAgain);
  }

  private async applyRetention(): Promise<void> {
    const { writer, run, parent, checkpoints } = this.ctx;
    // Like TensorFlow's max_to_keep, but never the best by the metric this session saves on.
    const reasons = new Map<string, string>(parent ? [[parent.id, 'this training continued from it']] : []);
    const store = localStore(this.ctx.store);
    if (store === null) {
      if (isStoredWorkspace(this.ctx.store)) await this.applyStoredRetention(await storedWorkspaceOf(this.ctx.store), reasons);
      return;
    }
    const best = checkpoints.best ? store.catalog.best(checkpoints.best.metric, checkpoints.best.mode, run) : null;
    if (best && checkpoints.best) reasons.set(best.id, `best ${checkpoints.best.metric} of this training`);
    const keep = new Set(reasons.keys());
    // The catalog is kept current by this session (each save refreshes its checkpoint), so the
    // plan needs no rescan of what may be thousands of checkpoints.
    const plan = await store.planRetention(run, { protectedIds: keep, protectedReasons: reasons, refresh: false });
    if (plan.delete.length > 0)
      await store.applyRetention(plan, { lockToken: writer.lockToken, protectedIds: keep, protectedReasons: reasons, refresh: false });
  }

  /** In S3: the run's checkpoints as listed now (this session's saves are committed, so listed), the policy applied as the run's writer. */
  private async applyStoredRetention(workspace: StoredWorkspace, reasons: Map<string, string>): Promise<void> {
    const { run, checkpoints } = this.ctx;
    await workspace.catalog.refresh();
    const best = checkpoints.best ? workspace.catalog.best(checkpoints.best.metric, checkpoints.best.mode, run) : null;
    if (best && checkpoints.best) reasons.set(best.id, `best ${checkpoints.best.metric} of this training`);
    const protections = { protectedIds: new Set(reasons.keys()), protectedReasons: reasons };
    const plan = await workspace.planRetention(run, { ...protections, policy: this.policy, refresh: false });
    if (plan.delete.length > 0) await workspace.applyRetention(plan, { ...protections, asWriter: true, refresh: false });
  }
}
