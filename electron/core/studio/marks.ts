// What to mark on each checkpoint: the workspace's latest and best, and each run's own latest and
// best (when there are several runs: a run that is not the winner still has a best of its own, the
// one `best --run <run>` answers). The CLI prints these; the app draws them, and asks again after
// each change it hears of: so the bests are found in one pass, without sorting 100,000 checkpoints
// (the watcher's next event waits behind this call).
import type { CheckpointInfo, MetricMode } from '../../contract.js';
import { type CatalogTable, isUsable } from '../checkpoint/catalog-table.js';

/** Catalog.best's order, as rankByMetric sorts: better value first, then the later step. */
function better(metric: string, mode: MetricMode): (a: CheckpointInfo, b: CheckpointInfo) => boolean {
  return (a, b) => {
    const av = a.metrics[metric] as number;
    const bv = b.metrics[metric] as number;
    const diff = mode === 'min' ? av - bv : bv - av;
    return diff !== 0 ? diff < 0 : a.step > b.step;
  };
}

/** The run order Catalog.list sorts by, which decides between equal bests of two runs. */
const RUN_ORDER = new Intl.Collator();

export function checkpointMarks(catalog: CatalogTable, best?: { metric: string; mode: MetricMode }): Record<string, string[]> {
  const marks: Record<string, string[]> = {};
  const add = (checkpoint: CheckpointInfo | null | undefined, mark: string): void => {
    if (checkpoint) marks[checkpoint.id] = [...(marks[checkpoint.id] ?? []), mark];
  };
  add(catalog.latest(), 'latest');
  const runs = catalog.listRuns();
  if (runs.length > 1) for (const run of runs) add(catalog.latest(run.name), `latest(${run.name})`);
  if (!best) return marks;
  const bests = bestPerRun(catalog, best.metric, best.mode);
  // The workspace's best is the best of the runs' bests, the first run in list order winning a tie (as Catalog.best ranks them all).
  const isBetter = better(best.metric, best.mode);
  let winner: CheckpointInfo | null = null;
  for (const run of [...bests.keys()].sort(RUN_ORDER.compare)) {
    const candidate = bests.get(run) as CheckpointInfo;
    if (winner === null || isBetter(candidate, winner)) winner = candidate;
  }
  add(winner, `best ${best.metric}`);
  if (runs.length > 1) for (const [run, checkpoint] of bests) add(checkpoint, `best(${run}) ${best.metric}`);
  return marks;
}

/**
 * Each run's best, ranked as Catalog.best ranks one run's (so the app and `best --run` agree), in
 * one pass over the catalog: asking per run would read every checkpoint once per run, and sorting
 * each run's to take its first is work thrown away.
 */
function bestPerRun(catalog: CatalogTable, metric: string, mode: MetricMode): Map<string, CheckpointInfo> {
  const isBetter = better(metric, mode);
  const best = new Map<string, CheckpointInfo>();
  for (const checkpoint of catalog.all()) {
    const value = checkpoint.metrics[metric];
    if (!isUsable(checkpoint) || typeof value !== 'number' || !Number.isFinite(value)) continue;
    const current = best.get(checkpoint.run);
    // Strictly better only: of equals, the first met stays, as a stable sort keeps it first.
    if (current === undefined || isBetter(checkpoint, current)) best.set(checkpoint.run, checkpoint);
  }
  return best;
}
