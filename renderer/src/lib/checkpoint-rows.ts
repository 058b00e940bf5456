// The checkpoint list, flattened for a virtual list: a header row per run, then its checkpoints.
// `order` is the checkpoints alone, in display order: what Shift ranges and arrow keys walk.
import type { CheckpointInfo } from './contract';
import { formatBytes, formatMetric } from './format';
import type { Lane } from './lanes';
import { isInPlace } from './run-names';

export type Row =
  | { readonly kind: 'lane'; readonly key: string; readonly lane: Lane }
  | { readonly kind: 'checkpoint'; readonly key: string; readonly checkpoint: CheckpointInfo; readonly position: number };

export interface Rows {
  readonly rows: readonly Row[];
  readonly order: readonly string[];
  /** Row index of each checkpoint id, to scroll the focused one into view. */
  readonly rowOf: ReadonlyMap<string, number>;
}

export function buildRows(lanes: readonly Lane[]): Rows {
  const rows: Row[] = [];
  const order: string[] = [];
  const rowOf = new Map<string, number>();
  for (const lane of lanes) {
    rows.push({ kind: 'lane', key: `lane:${lane.run}`, lane });
    for (const checkpoint of lane.checkpoints) {
      rowOf.set(checkpoint.id, rows.length);
      rows.push({ kind: 'checkpoint', key: checkpoint.id, checkpoint, position: order.length });
      order.push(checkpoint.id);
    }
  }
  return { rows, order, rowOf };
}

/** A label for assistive technology: what a sighted user reads across the row. */
export function checkpointLabel(checkpoint: CheckpointInfo, marks: readonly string[], metrics: readonly string[]): string {
  // Another program's checkpoint is named by its path in the workspace (`model-5000`), its step said apart (or that it has none).
  const parts = isInPlace(checkpoint)
    ? [checkpoint.id, checkpoint.stepKnown ? `step ${checkpoint.step}` : 'no step recorded', checkpoint.source?.label ?? '']
    : [`${checkpoint.run} step ${checkpoint.step}`];
  if (checkpoint.epoch !== null) parts.push(`epoch ${checkpoint.epoch}`);
  parts.push(checkpoint.statusReason ? `${checkpoint.status}: ${checkpoint.statusReason}` : checkpoint.status);
  parts.push(formatBytes(checkpoint.bytes));
  for (const name of metrics) if (name in checkpoint.metrics) parts.push(`${name} ${formatMetric(checkpoint.metrics[name])}`);
  if (marks.length > 0) parts.push(marks.join(', '));
  if (checkpoint.pinned) parts.push('pinned');
  if (checkpoint.sameStepAs.length > 0) parts.push(`same step as ${checkpoint.sameStepAs.join(', ')}`);
  const other = checkpoint.protectedBy.filter((p) => p.kind !== 'pinned');
  if (other.length > 0) parts.push(`protected: ${other.map((p) => p.reason).join(', ')}`);
  return parts.filter((p) => p !== '').join(', ');
}
