// The catalog as lanes, kept current change by change: a change rebuilds only its own run's lane
// (its ~100 checkpoints sorted again), and every other lane stays the same object, so what is
// derived per lane (its layout, its rows, its metric names) is reused. At 100,000 checkpoints
// rebuilding every lane for each checkpoint a training saves took seconds in the page.
import type { CheckpointInfo, RunInfo } from './contract.js';
import { CheckpointCompactor } from './compact-checkpoint.js';
import { type Lane, buildLanes, compareLanes, laneSince, sortLaneCheckpoints } from './lanes.js';

export type LaneChange = { readonly kind: 'upsert'; readonly checkpoint: CheckpointInfo } | { readonly kind: 'remove'; readonly id: string };

export class LaneIndex {
  private readonly checkpoints = new Map<string, CheckpointInfo>();
  private laneOf = new Map<string, Lane>();
  private runInfo = new Map<string, RunInfo>();
  private ordered: readonly Lane[] = [];
  /** What is kept of each checkpoint is its compact copy (compact-checkpoint.ts). */
  private compactor = new CheckpointCompactor();

  /** In the order runs were made (lanes.ts); a new array whenever one lane changed. */
  get lanes(): readonly Lane[] {
    return this.ordered;
  }

  /** Every checkpoint by id (the same map, kept current: read it, never keep it as a snapshot). */
  get byId(): ReadonlyMap<string, CheckpointInfo> {
    return this.checkpoints;
  }

  reset(runs: readonly RunInfo[], checkpoints: readonly CheckpointInfo[]): void {
    this.checkpoints.clear();
    this.compactor = new CheckpointCompactor();
    const kept = checkpoints.map((c) => this.compactor.compact(c));
    for (const checkpoint of kept) this.checkpoints.set(checkpoint.id, checkpoint);
    this.runInfo = new Map(runs.map((r) => [r.name, r]));
    this.laneOf = new Map();
    for (const lane of buildLanes(runs, kept)) this.laneOf.set(lane.run, lane);
    this.order();
  }

  /** Applies changes in order; only the runs they touch get new lanes. False when nothing changed. */
  apply(changes: readonly LaneChange[]): boolean {
    const compacted = changes.map((change): LaneChange =>
      change.kind === 'upsert' ? { kind: 'upsert', checkpoint: this.compactor.compact(change.checkpoint) } : change,
    );
    const touched = new Set<string>();
    for (const change of compacted) {
      const id = change.kind === 'remove' ? change.id : change.checkpoint.id;
      const before = this.checkpoints.get(id);
      if (before) touched.add(before.run);
      if (change.kind === 'remove') this.checkpoints.delete(id);
      else {
        this.checkpoints.set(id, change.checkpoint);
        touched.add(change.checkpoint.run);
      }
    }
    if (touched.size === 0) return false;
    const members = new Map<string, CheckpointInfo[]>([...touched].map((run) => [run, []]));
    const placed = new Set<string>();
    // A lane's own checkpoints, from its old lane and the changed ones: not a pass over every checkpoint.
    for (const run of touched) {
      const list = members.get(run) as CheckpointInfo[];
      for (const old of this.laneOf.get(run)?.checkpoints ?? []) {
        const now = this.checkpoints.get(old.id);
        if (now && now.run === run) {
          list.push(now);
          placed.add(now.id);
        }
      }
    }
    for (const change of compacted) {
      if (change.kind !== 'upsert' || placed.has(change.checkpoint.id)) continue;
      const now = this.checkpoints.get(change.checkpoint.id);
      if (now !== change.checkpoint) continue;
      members.get(now.run)?.push(now);
      placed.add(now.id);
    }
    for (const [run, list] of members) {
      sortLaneCheckpoints(list);
      this.setLane(run, list);
    }
    this.order();
    return true;
  }

  /** The runs as listRuns reads them: a lane whose run reads the same is kept as it was. */
  setRuns(runs: readonly RunInfo[]): boolean {
    const next = new Map(runs.map((r) => [r.name, r]));
    let changed = false;
    for (const [name, info] of next) {
      const old = this.runInfo.get(name);
      if (old !== undefined && (old === info || sameRun(old, info))) {
        next.set(name, old);
        continue;
      }
      changed = true;
    }
    for (const name of this.runInfo.keys()) if (!next.has(name)) changed = true;
    if (!changed) return false;
    const previous = this.runInfo;
    this.runInfo = next;
    const names = new Set([...previous.keys(), ...next.keys()]);
    for (const name of names) {
      if (previous.get(name) === next.get(name)) continue;
      this.setLane(name, this.laneOf.get(name)?.checkpoints ?? []);
    }
    this.order();
    return true;
  }

  /** The run's lane from its checkpoints, sorted by step; a run with none and no listing has none. */
  private setLane(run: string, checkpoints: readonly CheckpointInfo[]): void {
    const info = this.runInfo.get(run) ?? null;
    if (checkpoints.length === 0 && info === null) {
      this.laneOf.delete(run);
      return;
    }
    this.laneOf.set(run, { run, info, checkpoints, bytes: checkpoints.reduce((sum, c) => sum + c.bytes, 0) });
  }

  /** Lanes that keep their runs and starts keep their places; otherwise every lane (a thousand, not every checkpoint) is sorted again. */
  private order(): void {
    if (this.ordered.length === this.laneOf.size) {
      let kept = true;
      const next = this.ordered.map((old) => {
        const lane = this.laneOf.get(old.run);
        if (lane === undefined || (lane !== old && laneSince(lane) !== laneSince(old))) kept = false;
        return lane ?? old;
      });
      if (kept) {
        this.ordered = next;
        return;
      }
    }
    this.ordered = [...this.laneOf.values()].sort(compareLanes);
  }
}

/** listRuns answers with new objects each time: the same run, read the same, keeps its lane. */
function sameRun(a: RunInfo, b: RunInfo): boolean {
  for (const key of Object.keys(b) as (keyof RunInfo)[]) {
    const x = a[key];
    const y = b[key];
    if (x === y) continue;
    // Only the few nested fields (parent, writer, notes) are compared as text.
    if (typeof x !== 'object' || typeof y !== 'object' || JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}
