// One entry per run, for the runs list and the Runs table: its place in the lineage, state, size,
// how long it trained, and the chosen metric's final and best values. Everything comes from the
// catalog (the checkpoints' own metrics) and the core's marks, so a row costs no metric history:
// `best` is the checkpoint the core marks `best(<run>) <metric>` (or `best <metric>` when the
// workspace has one run), the very one `checkpoint-studio best --run <run>` answers.
import { RUN_LAYOUT_KINDS, type CheckpointInfo, type TrainingStatus } from './contract';
import type { Lane } from './lanes';
import { isRunBest, isWorkspaceBest } from './mark-labels';
import { type RunStatus, runStatus } from './run-status';
import { lineageOrder } from './run-tree';

export interface MetricValue {
  readonly value: number;
  readonly step: number;
  readonly id: string;
}

export interface RunEntry {
  readonly name: string;
  readonly parent: string | null;
  readonly parentStep: number | null;
  /** Under a listed ancestor: 0 for a root. */
  readonly depth: number;
  readonly status: RunStatus;
  /** Another program's run: its kind (TensorFlow, TensorBoard…); null for ours. */
  readonly kind: string | null;
  readonly detail: string | null;
  readonly createdAt: string | null;
  readonly checkpoints: number;
  readonly bytes: number;
  /** Training time its last checkpoint recorded, else the time from its start to its last checkpoint. */
  readonly durationMs: number | null;
  /** The chosen metric at the run's last checkpoint carrying it. */
  readonly final: MetricValue | null;
  readonly best: MetricValue | null;
  /** The run holds the workspace's best. */
  readonly workspaceBest: boolean;
  /**
   * Weights imported from another program's files, with no metric anywhere: nothing to chart. The
   * charts list them apart instead of as "finished" runs with nothing drawn.
   */
  readonly weightsOnly: boolean;
}

export interface EntryInputs {
  readonly lanes: readonly Lane[];
  readonly marks: Readonly<Record<string, readonly string[]>>;
  readonly metric: string | null;
  readonly training: TrainingStatus;
  /** Runs whose log grew lately, whoever writes them (LiveState.writing). */
  readonly writing?: ReadonlySet<string>;
  /** Every checkpoint by id, when the caller keeps one: else it is made from the lanes (a map of every checkpoint, per call). */
  readonly byId?: ReadonlyMap<string, CheckpointInfo>;
}

export function runEntries({ lanes, marks, metric, training, writing, byId }: EntryInputs): RunEntry[] {
  const byRun = new Map(lanes.map((l) => [l.run, l]));
  const { bests, workspaceBest } = bestsOf(lanes, marks, metric, byId);
  return lineageOrder(lanes.map((l) => ({ name: l.run, parent: l.info?.parent?.run ?? null }))).map(({ name, parent, depth }) => {
    const lane = byRun.get(name) as Lane;
    const info = lane.info;
    const inPlace = info !== null && info.layout !== 'studio';
    return {
      name,
      parent,
      parentStep: info?.parent?.step ?? null,
      depth,
      status: runStatus(name, info, training, writing?.has(name) ?? false),
      kind: inPlace ? RUN_LAYOUT_KINDS[info.layout].tag : null,
      detail: info?.label ?? null,
      createdAt: info?.createdAt ?? lane.checkpoints[0]?.createdAt ?? null,
      checkpoints: lane.checkpoints.length,
      bytes: lane.bytes,
      durationMs: durationOf(lane),
      final: metric === null ? null : finalOf(lane.checkpoints, metric),
      best: bests.get(name) ?? null,
      workspaceBest: workspaceBest === name,
      weightsOnly: !inPlace && isWeightsOnly(lane),
    };
  });
}

function bestsOf(
  lanes: readonly Lane[],
  marks: EntryInputs['marks'],
  metric: string | null,
  kept: ReadonlyMap<string, CheckpointInfo> | undefined,
): { bests: Map<string, MetricValue>; workspaceBest: string | null } {
  const bests = new Map<string, MetricValue>();
  let workspaceBest: string | null = null;
  if (metric === null) return { bests, workspaceBest };
  const byId = kept ?? new Map(lanes.flatMap((lane) => lane.checkpoints.map((c) => [c.id, c] as const)));
  for (const [id, on] of Object.entries(marks)) {
    const checkpoint = byId.get(id);
    const value = checkpoint?.metrics[metric];
    if (!checkpoint || typeof value !== 'number') continue;
    const workspace = on.some(isWorkspaceBest);
    if (workspace) workspaceBest = checkpoint.run;
    // One run alone gets no `best(<run>)`: the workspace's best is its own.
    if (on.some(isRunBest) || (workspace && lanes.length === 1)) bests.set(checkpoint.run, { value, step: checkpoint.step, id });
  }
  return { bests, workspaceBest };
}

function finalOf(checkpoints: readonly CheckpointInfo[], metric: string): MetricValue | null {
  for (let i = checkpoints.length - 1; i >= 0; i -= 1) {
    const c = checkpoints[i] as CheckpointInfo;
    const value = c.metrics[metric];
    if (typeof value === 'number') return { value, step: c.step, id: c.id };
  }
  return null;
}

function durationOf(lane: Lane): number | null {
  const last = lane.checkpoints.at(-1);
  if (!last) return null;
  const trained = lane.checkpoints.reduce((most, c) => Math.max(most, c.trainingTimeMs ?? -1), -1);
  if (trained >= 0) return trained;
  const start = Date.parse(lane.info?.createdAt ?? lane.checkpoints[0]?.createdAt ?? '');
  const end = Date.parse(last.createdAt ?? '');
  return Number.isFinite(start) && Number.isFinite(end) && end >= start ? end - start : null;
}

function isWeightsOnly(lane: Lane): boolean {
  if (lane.info?.writer || lane.checkpoints.length === 0) return false;
  return lane.checkpoints.every((c) => c.origin === 'imported' && Object.keys(c.metrics).length === 0);
}
