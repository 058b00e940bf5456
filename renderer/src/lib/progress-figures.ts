// The progress strip's figures, from whichever source tells them: the app's trainer's session
// events, or a run's log (RunProgress: a run written by the command line or another program, or
// one the app trained before this page opened). The strip reads the same either way.
import type { RunProgress, SessionEvent } from './contract';

type Started = Extract<SessionEvent, { type: 'started' }>;
type Progress = Extract<SessionEvent, { type: 'progress' }>;

export interface ProgressFigures {
  readonly step: number;
  /** The step training ends at; null when nothing says. */
  readonly total: number | null;
  /** Counted from 1, as people count epochs. */
  readonly epoch: number | null;
  readonly epochs: number | null;
  readonly samplesPerSecond: number | null;
  /** Null when unknown, and while stalled: a speed that no longer holds makes no estimate. */
  readonly etaMs: number | null;
  readonly elapsedMs: number | null;
  readonly loss: number | null;
  readonly lastCheckpoint: { readonly step: number; readonly ageMs: number | null } | null;
  readonly backend: string | null;
  readonly backendReason: string | null;
}

export interface TrainerView {
  readonly started: Started | null;
  readonly progress: Progress | null;
  readonly lastCheckpoint: { readonly step: number; readonly at: number } | null;
}

/** The app's trainer's session; null before it reported anything (a page opened after it ran: read its log instead). */
export function trainerFigures(t: TrainerView, now: number, stalled: boolean): ProgressFigures | null {
  const { started: s, progress: p } = t;
  if (!s && !p) return null;
  const total = p?.totalSteps ?? s?.totalSteps ?? null;
  return {
    step: p?.step ?? s?.step ?? 0,
    total,
    epoch: p ? p.epoch + 1 : null,
    epochs: s && s.batchesPerEpoch > 0 ? Math.ceil(s.totalSteps / s.batchesPerEpoch) : null,
    samplesPerSecond: p?.samplesPerSecond ?? null,
    etaMs: stalled ? null : (p?.etaMs ?? null),
    elapsedMs: p?.elapsedMs ?? null,
    loss: p?.loss ?? null,
    lastCheckpoint: t.lastCheckpoint ? { step: t.lastCheckpoint.step, ageMs: Math.max(0, now - t.lastCheckpoint.at) } : null,
    backend: s?.backend ?? null,
    backendReason: s?.backendReason ?? null,
  };
}

/** A run's figures from its log and run.json's plan. */
export function logFigures(p: RunProgress, now: number, stalled: boolean): ProgressFigures {
  const checkpointAt = p.lastCheckpoint?.time ? Date.parse(p.lastCheckpoint.time) : NaN;
  return {
    step: p.step,
    total: p.plannedSteps,
    epoch: p.epoch !== null ? p.epoch + 1 : null,
    epochs: p.plannedEpochs,
    samplesPerSecond: p.samplesPerSecond,
    etaMs: stalled ? null : p.etaMs,
    elapsedMs: null,
    loss: p.loss,
    lastCheckpoint: p.lastCheckpoint ? { step: p.lastCheckpoint.step, ageMs: Number.isFinite(checkpointAt) ? Math.max(0, now - checkpointAt) : null } : null,
    backend: null,
    backendReason: null,
  };
}
