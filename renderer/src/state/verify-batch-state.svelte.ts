// Verifying many checkpoints (a run, a selection of thousands): a few at a time, so progress is
// shown between chunks and Cancel stops before the next chunk is asked for. The chunk already
// sent finishes in the core; nothing is left half-checked.
import type { StudioApi, VerifyResult } from '../lib/contract';
import { errorMessage } from '../lib/errors';

export const VERIFY_CHUNK = 8;

export interface VerifyProgress {
  readonly total: number;
  readonly done: number;
  readonly damaged: readonly VerifyResult[];
  readonly state: 'running' | 'cancelling' | 'cancelled' | 'finished' | 'failed';
  readonly error: string | null;
}

export class VerifyBatchState {
  progress = $state.raw<VerifyProgress | null>(null);
  private cancelled = false;

  constructor(
    private readonly api: StudioApi,
    private readonly chunk = VERIFY_CHUNK,
  ) {}

  get running(): boolean {
    return this.progress?.state === 'running' || this.progress?.state === 'cancelling';
  }

  async run(ids: readonly string[]): Promise<void> {
    if (this.running || ids.length === 0) return;
    this.cancelled = false;
    let progress: VerifyProgress = { total: ids.length, done: 0, damaged: [], state: 'running', error: null };
    this.progress = progress;
    for (let at = 0; at < ids.length; at += this.chunk) {
      if (this.cancelled) {
        this.progress = { ...progress, state: 'cancelled' };
        return;
      }
      try {
        const report = await this.api.verify({ targets: ids.slice(at, at + this.chunk) });
        const bad = report.results.filter((r) => !r.ok);
        progress = { ...progress, done: Math.min(ids.length, at + this.chunk), damaged: bad.length > 0 ? [...progress.damaged, ...bad] : progress.damaged };
        this.progress = this.cancelled ? { ...progress, state: 'cancelling' } : progress;
      } catch (error) {
        this.progress = { ...progress, state: 'failed', error: errorMessage(error) };
        return;
      }
    }
    this.progress = { ...progress, state: this.cancelled && progress.done < progress.total ? 'cancelled' : 'finished' };
  }

  cancel(): void {
    if (!this.running || !this.progress) return;
    this.cancelled = true;
    this.progress = { ...this.progress, state: 'cancelling' };
  }

  dismiss(): void {
    if (!this.running) this.progress = null;
  }
}
