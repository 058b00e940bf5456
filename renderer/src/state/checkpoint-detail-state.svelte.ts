// The details panel's data for one checkpoint: its tensors (inspect), a verification, pin and
// unpin, and Make latest for a TensorFlow folder read in place. Each answer is kept only if it is
// still for the checkpoint shown.
import type { CheckpointInfo, StudioApi, TensorRow, VerifyResult } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import type { CatalogState } from './catalog-state.svelte';

export class CheckpointDetailState {
  id = $state<string | null>(null);
  tensors = $state.raw<TensorRow[] | null>(null);
  tensorsError = $state<string | null>(null);
  verify = $state.raw<VerifyResult | null>(null);
  verifying = $state(false);
  pinning = $state(false);
  makingLatest = $state(false);
  /** The last Make latest, while it can be undone: which checkpoint it made latest, and the trash batch that reverts it. */
  madeLatest = $state.raw<{ id: string; batch: string } | null>(null);
  actionError = $state<string | null>(null);

  constructor(
    private readonly api: StudioApi,
    private readonly catalog: CatalogState,
  ) {}

  /** Shows another checkpoint (or none): what was loaded for the previous one is dropped. */
  show(id: string | null): void {
    if (id === this.id) return;
    this.id = id;
    this.tensors = null;
    this.tensorsError = null;
    this.verify = null;
    this.actionError = null;
    if (id !== null) void this.loadTensors(id);
  }

  private async loadTensors(id: string): Promise<void> {
    try {
      const tensors = await this.api.inspect({ target: id });
      if (this.id === id) this.tensors = tensors;
    } catch (error) {
      if (this.id === id) this.tensorsError = errorMessage(error);
    }
  }

  async runVerify(): Promise<void> {
    const id = this.id;
    if (id === null) return;
    this.verifying = true;
    this.actionError = null;
    try {
      const report = await this.api.verify({ targets: [id] });
      if (this.id === id) this.verify = report.results[0] ?? null;
    } catch (error) {
      if (this.id === id) this.actionError = errorMessage(error);
    } finally {
      this.verifying = false;
    }
  }

  async setPinned(checkpoint: CheckpointInfo, pinned: boolean): Promise<void> {
    this.pinning = true;
    this.actionError = null;
    try {
      const changed = pinned ? await this.api.pin({ ids: [checkpoint.id] }) : await this.api.unpin({ ids: [checkpoint.id] });
      this.catalog.upsert(changed);
    } catch (error) {
      this.actionError = errorMessage(error);
    } finally {
      this.pinning = false;
    }
  }

  /**
   * Makes it the one its folder's own state calls latest (TensorFlow's checkpoint file). Nothing
   * else about the checkpoint changes, so the runs and marks are asked for again at once; a
   * refusal (busy, read-only) is shown where the button is.
   */
  /** Puts the folder's checkpoint file back as it was before the last Make latest. */
  async undoMakeLatest(): Promise<void> {
    const made = this.madeLatest;
    if (!made) return;
    this.makingLatest = true;
    this.actionError = null;
    try {
      await this.api.undoDelete({ batch: made.batch });
      this.madeLatest = null;
      await this.catalog.refreshRunsAndMarks();
    } catch (error) {
      this.actionError = errorMessage(error);
    } finally {
      this.makingLatest = false;
    }
  }

  async makeLatest(checkpoint: CheckpointInfo): Promise<void> {
    this.makingLatest = true;
    this.actionError = null;
    try {
      const { undo } = await this.api.makeLatest({ target: checkpoint.id });
      this.madeLatest = undo ? { id: checkpoint.id, batch: undo.batch } : null;
      await this.catalog.refreshRunsAndMarks();
    } catch (error) {
      if (this.id === checkpoint.id) this.actionError = errorMessage(error);
    } finally {
      this.makingLatest = false;
    }
  }
}
