// One comparison of two checkpoints at a time, as the Compare view shows it: progress from the
// core's compare:progress events (under an id this client chose, so it can follow and cancel the
// comparison before the call returns), then the result or the error. Closing the view, swapping
// the sides or comparing another pair cancels the one running; what a cancelled comparison answers
// afterwards is ignored.
import type { CompareResult, StudioApi } from '../lib/contract';
import { errorMessage } from '../lib/errors';

export interface ComparePair {
  readonly a: string;
  readonly b: string;
}

export interface CompareProgressView {
  readonly done: number;
  readonly total: number;
  readonly tensor: string | null;
}

export class CompareState {
  pair = $state.raw<ComparePair | null>(null);
  progress = $state.raw<CompareProgressView | null>(null);
  result = $state.raw<CompareResult | null>(null);
  error = $state<string | null>(null);
  private compareId = $state<string | null>(null);
  private offProgress: (() => void) | null = null;

  constructor(private readonly api: StudioApi) {}

  get running(): boolean {
    return this.compareId !== null;
  }

  async open(pair: ComparePair): Promise<void> {
    this.stop();
    this.pair = pair;
    this.result = null;
    this.error = null;
    this.progress = null;
    const compareId = crypto.randomUUID();
    this.compareId = compareId;
    this.offProgress = this.api.on('compare:progress', (progress) => {
      if (progress.compareId === compareId) this.progress = { done: progress.done, total: progress.total, tensor: progress.tensor };
    });
    try {
      const result = await this.api.compareCheckpoints({ a: pair.a, b: pair.b, compareId });
      if (this.compareId === compareId) this.result = result;
    } catch (error) {
      if (this.compareId === compareId) this.error = errorMessage(error);
    } finally {
      if (this.compareId === compareId) this.settle();
    }
  }

  swap(): Promise<void> {
    return this.pair ? this.open({ a: this.pair.b, b: this.pair.a }) : Promise.resolve();
  }

  close(): void {
    this.stop();
    this.pair = null;
    this.result = null;
    this.error = null;
    this.progress = null;
  }

  /** Cancels the running comparison, if any, in the core too. */
  private stop(): void {
    const running = this.compareId;
    this.settle();
    // Nothing is waiting on the cancelled comparison; if the cancel itself fails (the connection
    // dropped), the core finishes it and its answer is ignored.
    if (running !== null) this.api.cancelCompare({ compareId: running }).catch(() => undefined);
  }

  private settle(): void {
    this.offProgress?.();
    this.offProgress = null;
    this.compareId = null;
  }
}
