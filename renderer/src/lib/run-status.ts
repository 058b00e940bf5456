// A run's state as the Charts screen's list and the Runs table show it: running (or paused) while
// a trainer writes it, crashed when this Studio's trainer died in it, finished otherwise. A writer
// is known by our lock, or, for a program that takes none (a TensorBoard event file, a script
// appending to metrics.jsonl), by its log growing lately (`writing`, see LiveState.writing).
import type { RunInfo, TrainingStatus } from './contract';

export type RunStatus = 'running' | 'paused' | 'crashed' | 'finished';

export function runStatus(run: string, info: RunInfo | null, training: TrainingStatus, writing = false): RunStatus {
  if (training.run === run) {
    if (training.state === 'paused') return 'paused';
    if (training.state === 'starting' || training.state === 'running' || training.state === 'stopping') return 'running';
    if (training.state === 'crashed') return 'crashed';
  }
  // Another process (the command line, another window) writing it, under our lock or not.
  return info?.writer || writing ? 'running' : 'finished';
}

/** The word a run's state badge shows: another program's run names its kind instead of "finished", a state it does not have. */
export function runStatusText(status: RunStatus, kind: string | null, weightsOnly = false): string {
  if (weightsOnly) return 'weights only';
  return kind !== null && status === 'finished' ? kind : status;
}

/** A line of the Charts screen's list of runs. */
export interface RunRow {
  readonly name: string;
  /** Another program's run: which kind (TensorFlow, TensorBoard…), shown instead of a state it does not have, and its folder's label on hover. */
  readonly kind: string | null;
  readonly detail: string | null;
  readonly color: string;
  readonly status: RunStatus;
  readonly visible: boolean;
  /** The run it continues, shown as a branch. */
  readonly parent: string | null;
  readonly depth: number;
}
