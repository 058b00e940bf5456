// "Restore and continue", said before it starts: what the parent run recorded (run.json's
// config), what the form changes, and the overrides the core receives. The core decides what a
// continuation may change (epochs, learning rate, how it saves); this only reads and composes.
import { type CheckpointPolicy, CheckpointPolicySchema, type ContinueOverrides, type RetentionPolicy, RetentionPolicySchema, type RunMeta } from './contract';

export interface ParentSettings {
  readonly epochs: number | null;
  readonly learningRate: number | null;
  readonly optimizer: string | null;
  readonly batchSize: number | null;
  readonly checkpoints: CheckpointPolicy | null;
  readonly retention: RetentionPolicy | null;
}

const record = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const numberOr = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** What run.json says the parent trained with; a field it does not hold (an imported run) is null. */
export function parentSettings(meta: RunMeta | null): ParentSettings {
  const config = record(meta?.config);
  const training = record(config['training']);
  const optimizer = record(training['optimizer']);
  const checkpoints = CheckpointPolicySchema.safeParse(config['checkpoints']);
  const retention = RetentionPolicySchema.safeParse(config['retention']);
  return {
    epochs: numberOr(training['epochs']),
    learningRate: numberOr(optimizer['learningRate']),
    optimizer: typeof optimizer['name'] === 'string' ? optimizer['name'] : null,
    batchSize: numberOr(training['batchSize']),
    checkpoints: checkpoints.success ? checkpoints.data : null,
    retention: retention.success ? retention.data : null,
  };
}

export interface ContinueFields {
  readonly epochs: string;
  readonly learningRate: string;
  readonly everySteps: string;
  readonly keepLast: string;
}

export type ContinuePlan =
  { readonly ok: true; readonly overrides: ContinueOverrides; readonly lines: readonly string[] } | { readonly ok: false; readonly error: string };

function positive(text: string, integer: boolean, label: string): number | undefined | string {
  if (text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    return `${label} must be ${integer ? 'a whole number' : 'a number'} above 0 (not "${text.trim()}").`;
  return value;
}

const describe = (p: CheckpointPolicy | null): string => {
  if (!p) return 'as the parent saved';
  const parts = [
    p.everySteps ? `every ${p.everySteps} steps` : '',
    p.everyEpochs ? `every ${p.everyEpochs} epochs` : '',
    p.everySeconds ? `every ${p.everySeconds} s` : '',
    p.best ? `on a new best ${p.best.metric}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'on stop only';
};

/** The overrides to send and one line per setting, marking which the form changed. */
export function continuePlan(parent: ParentSettings, fields: ContinueFields): ContinuePlan {
  const epochs = positive(fields.epochs, true, 'Epochs');
  const learningRate = positive(fields.learningRate, false, 'The learning rate');
  const everySteps = positive(fields.everySteps, true, 'Save every N steps');
  const keepLast = positive(fields.keepLast, true, 'Keep last N');
  for (const v of [epochs, learningRate, everySteps, keepLast]) if (typeof v === 'string') return { ok: false, error: v };
  const overrides: ContinueOverrides = {};
  const lines: string[] = [];
  const show = (v: number | null): string => (v === null ? 'unknown' : String(v));
  if (typeof epochs === 'number') {
    overrides.epochs = epochs;
    lines.push(`epochs ${epochs} (changed; the parent had ${show(parent.epochs)})`);
  } else lines.push(`epochs ${show(parent.epochs)} (the parent's)`);
  if (typeof learningRate === 'number') {
    overrides.learningRate = learningRate;
    lines.push(`learning rate ${learningRate} (changed; the parent had ${show(parent.learningRate)})`);
  } else lines.push(`learning rate ${show(parent.learningRate)} (the parent's)`);
  if (typeof everySteps === 'number') {
    const policy: CheckpointPolicy = { ...(parent.checkpoints ?? { onStop: true }), everySteps };
    overrides.checkpoints = policy;
    lines.push(`checkpoints ${describe(policy)} (changed)`);
  } else lines.push(`checkpoints ${describe(parent.checkpoints)} (the parent's)`);
  if (typeof keepLast === 'number') {
    overrides.retention = { ...(parent.retention ?? {}), keepLast };
    lines.push(`keeps the last ${keepLast} (changed)`);
  } else if (parent.retention?.keepLast) lines.push(`keeps the last ${parent.retention.keepLast} (the parent's)`);
  if (parent.optimizer !== null || parent.batchSize !== null)
    lines.push(`optimizer ${parent.optimizer ?? 'unknown'}, batch size ${show(parent.batchSize)}, model and data: the parent's, so the resume is exact`);
  return { ok: true, overrides, lines };
}
