// What to mark on each checkpoint: the workspace's latest, each run's latest (when there are
// several runs), and the best by a metric. The CLI prints these; the app draws them.
import type { CheckpointInfo, MetricMode } from '../../contract.js';
import type { Catalog } from '../checkpoint/catalog.js';

export function checkpointMarks(catalog: Catalog, best?: { metric: string; mode: MetricMode }): Record<string, string[]> {
  const marks: Record<string, string[]> = {};
  const add = (checkpoint: CheckpointInfo | null, mark: string): void => {
    if (checkpoint) marks[checkpoint.id] = [...(marks[checkpoint.id] ?? []), mark];
  };
  add(catalog.latest(), 'latest');
  const runs = catalog.listRuns();
  if (runs.length > 1) for (const run of runs) add(catalog.latest(run.name), `latest(${run.name})`);
  if (best) add(catalog.best(best.metric, best.mode), `best ${best.metric}`);
  return marks;
}
