// A run read in place has no metrics.jsonl: its metric history is what its layout read from the
// folder's logs (TensorBoard, a CSV log, a Trainer's history), given to the app as the same
// records our runs' history holds (`kind`, `step`, a value per metric), so the charts read both
// alike. What a rescan added is told to listeners as records too, so charts follow a log that
// another program is writing.
import type { MetricRecord } from '../../contract.js';
import type { InPlaceSeries } from './in-place.js';

/** Records of the points of `series` from index `from[name]` on, one per kind and step. */
export function seriesRecords(series: readonly InPlaceSeries[], from: ReadonlyMap<string, number> = new Map()): MetricRecord[] {
  const byKey = new Map<string, Record<string, string | number | null>>();
  for (const s of series) {
    const kind = s.name.startsWith('val_') ? 'validation' : 'train';
    for (const point of s.points.slice(from.get(s.name) ?? 0)) {
      const key = `${kind}\u0000${point.step}`;
      let record = byKey.get(key);
      if (!record) {
        record = { kind, step: point.step, ...(s.counts === 'epoch' ? { epoch: point.step } : {}) };
        if (point.time !== null) record['time'] = new Date(point.time).toISOString();
        byKey.set(key, record);
      }
      record[s.name] = point.value;
    }
  }
  return [...byKey.values()].sort((a, b) => (a['step'] as number) - (b['step'] as number));
}

/**
 * What `next` holds beyond `previous`: the points after each series' old length, or, when a
 * series got shorter or its old points changed (a log replaced), all of it again.
 */
export function appendedRecords(previous: readonly InPlaceSeries[], next: readonly InPlaceSeries[]): MetricRecord[] {
  const before = new Map(previous.map((s) => [s.name, s]));
  const from = new Map<string, number>();
  for (const s of next) {
    const old = before.get(s.name);
    const kept = old && old.points.length <= s.points.length && old.points.every((p, i) => p.step === s.points[i]?.step) ? old.points.length : 0;
    from.set(s.name, kept);
  }
  return seriesRecords(next, from);
}
