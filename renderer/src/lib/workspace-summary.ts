// What a workspace holds, in one line for its header: "7 checkpoints in 2 runs" for ours alone;
// for other programs' folders, by kind, "10 TensorFlow checkpoints, 2 TensorBoard runs". The kinds
// and their names are the contract's (RUN_LAYOUT_KINDS); a TensorBoard run holds no checkpoint,
// so those are counted as runs.
import { type CheckpointInfo, RUN_LAYOUT_KINDS, type RunInfo, type RunLayout } from './contract';
import { plural } from './format';
import type { Lane } from './lanes';

export interface WorkspaceSummary {
  readonly text: string;
  /** Some of it is another program's, read and managed where it lies (nothing copied). */
  readonly inPlace: boolean;
}

export function summariseWorkspace(runs: readonly RunInfo[], checkpoints: readonly CheckpointInfo[]): WorkspaceSummary {
  const perRun = new Map<string, number>();
  for (const c of checkpoints) perRun.set(c.run, (perRun.get(c.run) ?? 0) + 1);
  return summarise(runs, perRun);
}

/** The same from the lanes: a pass over the runs, not over every checkpoint (the header follows each change). */
export function summariseLanes(runs: readonly RunInfo[], lanes: readonly Lane[]): WorkspaceSummary {
  return summarise(runs, new Map(lanes.map((lane) => [lane.run, lane.checkpoints.length])));
}

function summarise(runs: readonly RunInfo[], perRun: ReadonlyMap<string, number>): WorkspaceSummary {
  const layoutOf = new Map(runs.map((r) => [r.name, r.layout]));
  const counts = new Map<RunLayout, number>();
  const add = (layout: RunLayout, n = 1): void => void counts.set(layout, (counts.get(layout) ?? 0) + n);
  let total = 0;
  // A checkpoint seen through an event before its run is listed is counted as ours until then.
  for (const [run, n] of perRun) {
    add(layoutOf.get(run) ?? 'studio', n);
    total += n;
  }
  for (const r of runs) if (r.layout === 'tensorboard') add('tensorboard');
  const inPlace = runs.some((r) => r.layout !== 'studio');
  if (!inPlace) return { text: `${plural(total, 'checkpoint')} in ${plural(runs.length, 'run')}`, inPlace };
  const found = (Object.keys(RUN_LAYOUT_KINDS) as RunLayout[]).flatMap((layout) => {
    const count = counts.get(layout) ?? 0;
    const kind = RUN_LAYOUT_KINDS[layout];
    return count > 0 ? [plural(count, kind.one, kind.many)] : [];
  });
  return { text: found.length > 0 ? found.join(', ') : 'nothing found', inPlace };
}
