// The trash view's data and actions: the listing, restoring a batch (whole or not at all) or one
// entry, and purging. An error is kept where it happened (the batch, the entry, the purge).
import type { StudioApi, TrashListing } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { type TrashBatch, groupTrash } from '../lib/trash-batches';

export class TrashState {
  listing = $state.raw<TrashListing | null>(null);
  loading = $state(false);
  loadError = $state<string | null>(null);
  /** Batch or entry id → what went wrong acting on it; `purge` for the purge. */
  errors = $state.raw<ReadonlyMap<string, string>>(new Map());
  busy = $state<string | null>(null);
  notice = $state<string | null>(null);

  readonly batches: TrashBatch[] = $derived(groupTrash(this.listing?.entries ?? []));

  constructor(private readonly api: StudioApi) {}

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.listing = await this.api.listTrash();
      this.loadError = null;
    } catch (error) {
      this.loadError = errorMessage(error);
    } finally {
      this.loading = false;
    }
  }

  restoreBatch(batch: string): Promise<void> {
    return this.act(batch, async () => {
      const restored = await this.api.undoDelete({ batch });
      return `Restored ${restored.length} from the trash.`;
    });
  }

  restoreEntry(id: string): Promise<void> {
    return this.act(id, async () => {
      const restored = await this.api.restoreFromTrash({ ids: [id] });
      return `Restored ${restored.map((e) => e.checkpointId).join(', ')}.`;
    });
  }

  /** Everything, or one deletion batch; errors and progress are keyed 'purge' either way. */
  purge(batch?: string): Promise<void> {
    return this.act('purge', async () => {
      const result = await this.api.purgeTrash(batch !== undefined ? { batches: [batch] } : {});
      const problems = result.problems.map((p) => `${p.name}: ${p.problem}`);
      if (problems.length > 0) throw new Error(`purged ${result.purged.length}, but: ${problems.join('; ')}`);
      return `Purged ${result.purged.length} from the trash.`;
    });
  }

  private async act(key: string, action: () => Promise<string>): Promise<void> {
    if (this.busy !== null) return;
    this.busy = key;
    this.notice = null;
    this.setError(key, null);
    try {
      this.notice = await action();
    } catch (error) {
      this.setError(key, errorMessage(error));
    } finally {
      this.busy = null;
      await this.load();
    }
  }

  private setError(key: string, message: string | null): void {
    const next = new Map(this.errors);
    if (message === null) next.delete(key);
    else next.set(key, message);
    this.errors = next;
  }
}
