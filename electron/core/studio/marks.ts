// What to mark on each checkpoint: the workspace's latest and best, and each run's own latest and
// best (when there are several runs: a run that is not the winner still has a best of its own, the
// one `best --run <run>` answers). The CLI prints these; the app draws them.
import type { CheckpointInfo, MetricMode } from '../../contract.js';
import { type Catalog, isUsable, rankByMetric } from '../checkpoint/catalog.js';

export function checkpointMarks(catalog: Catalog, best?: { metric: string; mode: MetricMode }): Record<string, string[]> {
  const marks: Record<string, string[]> = {};
  const add = (checkpoint: CheckpointInfo | null | undefined, mark: string): void => {
    if (checkpoint) marks[checkpoint.id] = [...(marks[checkpoint.id] ?? []), mark];
  };
  add(catalog.latest(), 'latest');
  const runs = catalog.listRuns();
  if (runs.length > 1) for (const run of runs) add(catalog.latest(run.name), `latest(${run.name})`);
  if (!best) return marks;
  add(catalog.best(best.metric, best.mode), `best ${best.metric}`);
  if (runs.length > 1) for (const [run, checkpoint] of bestPerRun(catalog, best.metric, best.mode)) add(checkpoint, `best(${run}) ${best.metric}`);
  return marks;
}

/**
 * Each run's best, ranked as Catalog.best ranks one run's (so the app and `best --run` agree), in
 * one pass over the catalog: asking per run would read every checkpoint once per run.
 */
function bestPerRun(catalog: Catalog, metric: string, mode: MetricMode): Map<string, CheckpointInfo> {
  const byRun = new Map<string, CheckpointInfo[]>();
  for (const checkpoint of catalog.all()) {
    if (!isUsable(checkpoint)) continue;
    const list = byRun.get(checkpoint.run);
    if (list) list.push(checkpoint);
    else byRun.set(checkpoint.run, [checkpoint]);
  }
  const best = new Map<string, CheckpointInfo>();
  for (const [run, list] of byRun) {
    const first = rankByMetric(list, metric, mode)[0];
    if (first) best.set(run, first);
  }
  return best;
}
