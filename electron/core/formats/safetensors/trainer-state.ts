// trainer_state.json, which transformers' Trainer writes into every checkpoint-N folder
// (trainer.py `_save_checkpoint`; the fields are trainer_callback.py `TrainerState`, saved by
// `save_to_json` as json.dumps of the dataclass). We read the step, the log entries at that step
// (loss, learning_rate, grad_norm, eval_* …) and the best metric; everything else is left alone.
import { z } from 'zod';
import { shown } from '../../base/describe-value.js';
import type { MetricSeries } from '../metric-series.js';
import { readJson } from './json-file.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';

const LogEntrySchema = z.looseObject({ step: z.int().nonnegative().optional() });

const TrainerStateSchema = z.looseObject({
  global_step: z.int().nonnegative().optional(),
  epoch: z.number().nullable().optional(),
  best_metric: z.number().nullable().optional(),
  best_global_step: z.int().nonnegative().nullable().optional(),
  best_model_checkpoint: z.string().nullable().optional(),
  log_history: z.array(LogEntrySchema).optional(),
});

export type TrainerState = z.infer<typeof TrainerStateSchema>;

export function readTrainerState(file: string): Promise<TrainerState> {
  return readJson(file, TrainerStateSchema);
}

/**
 * What the log history records at `step`, numbers only, a later entry winning (Trainer logs the
 * training loss and the evaluation at the same step as two entries). NaN and Infinity arrive as
 * null (see python-json.ts) and stay null.
 */
export function metricsAtStep(state: TrainerState, step: number): Record<string, number | null> {
  const metrics: Record<string, number | null> = {};
  for (const entry of state.log_history ?? []) {
    if (entry.step !== step) continue;
    for (const [key, value] of entryMetrics(entry)) metrics[key] = value;
  }
  if (!('epoch' in metrics) && typeof state.epoch === 'number') metrics['epoch'] = state.epoch;
  if (typeof state.best_metric === 'number') metrics['best_metric'] = state.best_metric;
  return metrics;
}

/** An entry's numbers (and nulls, which stand for NaN and Infinity), without its step. */
function entryMetrics(entry: z.infer<typeof LogEntrySchema>): [string, number | null][] {
  const out: [string, number | null][] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (key === 'step') continue;
    if (typeof value === 'number') out.push([key, Number.isFinite(value) ? value : null]);
    else if (value === null) out.push([key, null]);
  }
  return out;
}

/**
 * The whole log history as series by step, one per key (loss, learning_rate, grad_norm, eval_*,
 * epoch…), points in step order; at a step logged twice for the same key the later entry wins,
 * as in metricsAtStep. Entries without a step are left out.
 */
export function logHistorySeries(state: TrainerState): MetricSeries[] {
  const byKey = new Map<string, Map<number, number | null>>();
  for (const entry of state.log_history ?? []) {
    if (entry.step === undefined) continue;
    for (const [key, value] of entryMetrics(entry)) {
      const points = byKey.get(key) ?? new Map<number, number | null>();
      byKey.set(key, points);
      points.set(entry.step, value);
    }
  }
  return [...byKey].map(([name, points]) => ({ name, by: 'step', points: [...points].sort(([a], [b]) => a - b).map(([step, value]) => ({ step, value })) }));
}

/** The best model as Trainer tracked it, for a note; null when it tracked none. */
export function bestNote(state: TrainerState): string | null {
  if (state.best_metric === undefined || state.best_metric === null) return null;
  const where = [
    state.best_global_step != null ? `at step ${state.best_global_step}` : null,
    state.best_model_checkpoint != null ? `best_model_checkpoint ${shown(state.best_model_checkpoint)}` : null,
  ].filter((part) => part !== null);
  return `${TRAINER_STATE_FILE}: best_metric ${state.best_metric}${where.length > 0 ? ` (${where.join(', ')})` : ''}`;
}
