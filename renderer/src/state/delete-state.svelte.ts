// Bulk delete and its undo: the plan shown in the confirmation, the call, and the batch the
// trash recorded, so "Undo" restores exactly that batch.
import type { StudioApi, TrashEntry } from '../lib/contract';
import { type DeletePlan, planDelete } from '../lib/delete-plan';
import { errorMessage } from '../lib/errors';
import type { CatalogState } from './catalog-state.svelte';

export interface DoneBatch {
  readonly batch: string;
  readonly count: number;
  readonly bytes: number;
  readonly state: 'deleted' | 'restoring' | 'restored';
}

export class DeleteState {
  plan = $state.raw<DeletePlan | null>(null);
  busy = $state(false);
  error = $state<string | null>(null);
  done = $state.raw<DoneBatch | null>(null);
  undoError = $state<string | null>(null);

  constructor(
    private readonly api: StudioApi,
    private readonly catalog: CatalogState,
  ) {}

  /** Opens the confirmation for these ids; false when nothing is selected. */
  prepare(selected: Iterable<string>): boolean {
    const plan = planDelete(selected, this.catalog.byId, this.catalog.marks);
    if (plan.targets.length === 0 && plan.kept.length === 0) return false;
    this.plan = plan;
    this.error = null;
    return true;
  }

  cancel(): void {
    this.plan = null;
    this.error = null;
  }

  /** Deletes the plan's targets; true when they are in the trash. */
  async confirm(): Promise<boolean> {
    const plan = this.plan;
    if (!plan || plan.targets.length === 0) return false;
    this.busy = true;
    this.error = null;
    try {
      const entries: TrashEntry[] = await this.api.deleteCheckpoints({ targets: plan.targets.map((c) => c.id) });
      const batch = entries[0]?.batch;
      this.done = batch ? { batch, count: entries.length, bytes: entries.reduce((s, e) => s + e.bytes, 0), state: 'deleted' } : null;
      this.undoError = null;
      this.plan = null;
      return true;
    } catch (error) {
      this.error = errorMessage(error);
      return false;
    } finally {
      this.busy = false;
    }
  }

  async undo(): Promise<void> {
    const done = this.done;
    if (!done || done.state !== 'deleted') return;
    this.done = { ...done, state: 'restoring' };
    this.undoError = null;
    try {
      const restored = await this.api.undoDelete({ batch: done.batch });
      this.done = { ...done, count: restored.length, state: 'restored' };
    } catch (error) {
      this.done = done;
      this.undoError = errorMessage(error);
    }
  }

  dismiss(): void {
    this.done = null;
    this.undoError = null;
  }
}
