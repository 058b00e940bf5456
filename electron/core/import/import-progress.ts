// How far one import is (its phase and bytes), told to whoever listens, and its cancel: one
// object the import's steps share instead of a handful of variables in one long function.
import { type ImportPhase, StudioError } from '../../contract.js';

export type ProgressListener = (progress: { phase: ImportPhase; bytesDone: number; bytesTotal: number }) => void;

/** Thrown when the import was cancelled; nothing of it stays. */
export class ImportCancelledError extends StudioError {
  constructor(source: string) {
    super('refused', `${source}: import cancelled; nothing of it was kept`);
  }
}

export class ImportProgress {
  private phase: ImportPhase = 'reading';
  private bytesDone = 0;
  private bytesTotal = 0;

  constructor(
    private readonly source: string,
    readonly signal: AbortSignal,
    private readonly listener?: ProgressListener,
  ) {}

  /** Throws ImportCancelledError once the import was cancelled: called between steps, never after the placement. */
  checkCancel(): void {
    if (this.signal.aborted) throw new ImportCancelledError(this.source);
  }

  /** Verifying counts its own bytes, from zero. */
  enter(phase: ImportPhase): void {
    this.phase = phase;
    if (phase === 'verifying') this.bytesDone = 0;
    this.report();
  }

  setTotal(bytes: number): void {
    this.bytesTotal = bytes;
    this.report();
  }

  add(bytes: number): void {
    this.bytesDone += bytes;
    this.report();
  }

  private report(): void {
    this.listener?.({ phase: this.phase, bytesDone: this.bytesDone, bytesTotal: this.bytesTotal });
  }
}
