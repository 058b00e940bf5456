// What the Distributions view shows: the chosen run, its tensors, the chosen tensor's figures at
// each checkpoint, and how far their computation is. An answer for a choice the user has since
// changed is dropped, so a slow run never overwrites a newer choice; the computation it was for is
// cancelled in the core (under the id this client gave it), as is one the user cancels.
import type { RunTensor, StudioApi, TensorDistributions } from '../lib/contract';
import { errorMessage } from '../lib/errors';

export class DistributionsState {
  run = $state<string | null>(null);
  tensors = $state.raw<RunTensor[]>([]);
  /** Checkpoints whose tensors could not be listed, as the API names them. */
  tensorProblems = $state.raw<{ id: string; message: string }[]>([]);
  loadingTensors = $state(false);
  tensor = $state<string | null>(null);
  result = $state.raw<TensorDistributions | null>(null);
  /** Checkpoints done of the total while the figures are computed (0 of 0 before the first report); null when nothing is. */
  progress = $state<{ done: number; total: number } | null>(null);
  error = $state<string | null>(null);
  /** The user cancelled the last computation: nothing new is drawn until another is asked for. */
  cancelled = $state(false);
  private asked = 0;
  /** The id of the request under way in the core, if any. */
  private requestId: string | null = null;
  private readonly offProgress: () => void;

  constructor(private readonly api: StudioApi) {
    this.offProgress = api.on('distributions:progress', (p) => {
      if (p.run === this.run && p.tensor === this.tensor && this.progress !== null) this.progress = { done: p.done, total: p.total };
    });
  }

  async chooseRun(run: string | null): Promise<void> {
    if (run === this.run) return;
    this.stop();
    const ask = ++this.asked;
    this.run = run;
    this.tensor = null;
    this.result = null;
    this.progress = null;
    this.error = null;
    this.tensors = [];
    this.tensorProblems = [];
    if (run === null) return;
    this.loadingTensors = true;
    try {
      const answer = await this.api.tensorNames({ run });
      if (ask !== this.asked) return;
      this.tensors = answer.tensors;
      this.tensorProblems = answer.problems;
    } catch (error) {
      if (ask === this.asked) this.error = errorMessage(error);
    } finally {
      if (ask === this.asked) this.loadingTensors = false;
    }
  }

  async chooseTensor(tensor: string): Promise<void> {
    const run = this.run;
    if (run === null) return;
    this.stop();
    const ask = ++this.asked;
    // The same tensor again (new checkpoints): what is drawn stays until the new figures come.
    if (tensor !== this.tensor) this.result = null;
    this.tensor = tensor;
    this.error = null;
    this.cancelled = false;
    this.progress = { done: 0, total: 0 };
    const distributionsId = crypto.randomUUID();
    this.requestId = distributionsId;
    try {
      const answer = await this.api.tensorDistributions({ run, tensor, bins: 30, distributionsId });
      if (ask !== this.asked) return;
      this.result = answer;
    } catch (error) {
      if (ask === this.asked) this.error = errorMessage(error);
    } finally {
      if (ask === this.asked) this.progress = null;
      if (this.requestId === distributionsId) this.requestId = null;
    }
  }

  /** Stops the computation under way: its answer (or failure) is dropped, and the core stops reading. */
  cancel(): void {
    if (this.progress === null) return;
    this.stop();
    this.asked += 1;
    this.progress = null;
    this.cancelled = true;
  }

  private stop(): void {
    const running = this.requestId;
    this.requestId = null;
    // Nothing waits on it any more; if the cancel itself fails (the connection dropped), the core
    // finishes it and its answer is ignored.
    if (running !== null) this.api.cancelDistributions({ distributionsId: running }).catch(() => undefined);
  }

  /** Another workspace: nothing chosen in the old one means anything here. */
  forget(): void {
    this.stop();
    this.asked += 1;
    this.cancelled = false;
    this.run = null;
    this.tensor = null;
    this.tensors = [];
    this.tensorProblems = [];
    this.result = null;
    this.progress = null;
    this.error = null;
    this.loadingTensors = false;
  }

  dispose(): void {
    this.offProgress();
  }
}
