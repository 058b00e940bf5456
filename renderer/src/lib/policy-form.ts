// "Select by policy": the form's text fields as a retention policy the core previews, and the
// preview's "delete" set as what to select. The core decides; this only reads and counts.
import type { MetricMode, RetentionPlan, RetentionPolicy } from './contract';

export interface PolicyFields {
  readonly keepLast: string;
  readonly keepBest: string;
  readonly everySteps: string;
  readonly metric: string | null;
  readonly mode: MetricMode;
}

export type PolicyResult = { readonly ok: true; readonly policy: RetentionPolicy } | { readonly ok: false; readonly error: string };

function whole(text: string, label: string): number | undefined | string {
  if (text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) return `${label} must be a whole number above 0 (not "${text.trim()}").`;
  return value;
}

export function policyFromFields(fields: PolicyFields): PolicyResult {
  const keepLast = whole(fields.keepLast, 'Keep last');
  const keepBest = whole(fields.keepBest, 'Keep best');
  const everySteps = whole(fields.everySteps, 'Keep every N steps');
  for (const v of [keepLast, keepBest, everySteps]) if (typeof v === 'string') return { ok: false, error: v };
  if (keepBest !== undefined && !fields.metric) return { ok: false, error: 'Keep best needs a metric: the checkpoints have none.' };
  if (keepLast === undefined && keepBest === undefined && everySteps === undefined)
    return { ok: false, error: 'Choose at least one rule: keep last, keep best or keep every N steps.' };
  const policy: RetentionPolicy = {
    ...(typeof keepLast === 'number' ? { keepLast } : {}),
    ...(typeof keepBest === 'number' && fields.metric ? { keepBest: { k: keepBest, metric: fields.metric, mode: fields.mode } } : {}),
    ...(typeof everySteps === 'number' ? { keepEverySteps: everySteps } : {}),
  };
  return { ok: true, policy };
}

export interface PlanTotals {
  readonly keep: number;
  readonly remove: number;
  readonly bytesFreed: number;
  readonly deleteIds: readonly string[];
}

export function planTotals(plans: readonly RetentionPlan[]): PlanTotals {
  const deleteIds = plans.flatMap((p) => p.delete.map((d) => d.id));
  return {
    keep: plans.reduce((s, p) => s + p.keep.length, 0),
    remove: deleteIds.length,
    bytesFreed: plans.reduce((s, p) => s + p.bytesFreed, 0),
    deleteIds,
  };
}
