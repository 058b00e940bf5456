// The catalog's table: every checkpoint and run in memory, with what follows from one entry for
// others (two folders of one step, a run's writer, the runs that continued from a checkpoint).
// Changes are applied one at a time (the catalog's queue); each records what it touched, and
// at its end the protections of the touched entries are settled and one event per entry is
// made, from the entry as it was before the change and as it is after.
import type { CatalogEvent, CheckpointInfo, CheckpointRef, RunInfo } from '../../contract.js';
import type { ScannedCheckpoint, ScannedRun } from './catalog-scan.js';
import { Lineage } from './lineage.js';
import { protectionsOf, sameProtections } from './protection.js';

/** What one change touched: each entry as it was before its first touch. */
export class Change {
  readonly before = new Map<string, ScannedCheckpoint | undefined>();
  /**
   * Runs that held no entry when the change added them, with the entries added: each was absent
   * before, and is touched by being there (not one by one: an open adds 100,000 entries at once).
   * One the change touched again is in `before`; any other is still the entry added.
   */
  readonly addedRuns = new Map<string, readonly ScannedCheckpoint[]>();
}

/** Folders without a manifest are listed, but events speak only of checkpoints that exist. */
function isEventWorthy(checkpoint: ScannedCheckpoint | undefined): checkpoint is ScannedCheckpoint {
  return checkpoint !== undefined && checkpoint.announce;
}

/**
 * Field by field, so that what a change left shared (metrics, lineage, …) costs nothing to
 * compare: a writer coming to a run of 10,000 checkpoints compares them all.
 */
function sameInfo(a: CheckpointInfo, b: CheckpointInfo): boolean {
  for (const key of Object.keys(a) as (keyof CheckpointInfo)[]) {
    const [x, y] = [a[key], b[key]];
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return Object.keys(a).length === Object.keys(b).length;
}

/**
 * A folder first seen without its manifest is being written in place by a program that does not
 * rename (a copy, another writer). Until it is whole, a half-written manifest or a file that is
 * missing or short means "still being written", not "damaged": it stays incomplete (so the
 * watcher keeps looking at it) instead of being announced as a damaged checkpoint.
 */
function stillBeingWritten(scanned: ScannedCheckpoint): ScannedCheckpoint {
  if (scanned.info.status !== 'damaged' || scanned.signature !== null) return scanned;
  return {
    signature: null,
    announce: false,
    info: { ...scanned.info, status: 'incomplete', statusReason: `still being written: ${scanned.info.statusReason}` },
  };
}

/** The entry with `sameStepAs` naming the other folders that hold its step. */
function withSameStep(entry: ScannedCheckpoint, holders: readonly string[]): ScannedCheckpoint {
  if (holders.length === 1 && entry.info.sameStepAs.length === 0) return entry;
  const others = holders.filter((id) => id !== entry.info.id).sort();
  if (others.length === entry.info.sameStepAs.length && others.every((id, i) => id === entry.info.sameStepAs[i])) return entry;
  return { ...entry, info: { ...entry.info, sameStepAs: others } };
}

/**
 * The parent a run's own record names counts as lineage only while the run holds checkpoints or
 * is being written: an empty run (an abandoned start, a run whose checkpoints were all deleted)
 * has no lineage left to cut.
 */
function lineageOfRun(info: RunInfo | undefined): RunInfo['parent'] {
  return info && (info.checkpointCount > 0 || info.writer !== null) ? info.parent : null;
}

function sameWriter(a: RunInfo['writer'] | undefined, b: RunInfo['writer'] | undefined): boolean {
  return (a?.pid ?? null) === (b?.pid ?? null) && (a?.host ?? null) === (b?.host ?? null);
}

const NO_IDS: ReadonlySet<string> = new Set();

/** The folders of one run holding one step: the one id, or the twins' ids. */
type StepHolders = string | readonly string[];

function holderList(holders: StepHolders | undefined): readonly string[] {
  if (holders === undefined) return [];
  return typeof holders === 'string' ? [holders] : holders;
}

export class CatalogEntries {
  readonly checkpoints = new Map<string, ScannedCheckpoint>();
  readonly runs = new Map<string, RunInfo>();
  /**
   * The folders of each run holding each step: kept so a new arrival marks its twins. Almost
   * always one id, held alone; steps as numbers, keyed by run, not as one string key each (an
   * open sets 100,000 of them).
   */
  private readonly bySteps = new Map<string, Map<number, StepHolders>>();
  private readonly lineage = new Lineage();
  /** Parents whose set of children changed during the current change, by their lineage key. */
  private readonly parentsChanged = new Map<string, CheckpointRef>();
  /** Each run's checkpoint ids, so that a change to one run never walks the others' entries. */
  private readonly byRun = new Map<string, Set<string>>();
  /** How many checkpoints carry each metric name: kept per entry, so a change costs what it touched. */
  private readonly metricCounts = new Map<string, number>();

  /** The ids of one run's checkpoints, in no particular order. */
  idsOf(run: string): ReadonlySet<string> {
    return this.byRun.get(run) ?? NO_IDS;
  }

  /** Every metric name some checkpoint carries. */
  metricNames(): string[] {
    return [...this.metricCounts.keys()].sort();
  }

  /** The runs that continued from a checkpoint of `run` at `step`. */
  childrenOf(run: string, step: number): readonly string[] {
    return this.lineage.children(run, step);
  }

  /** Replaces one run's entries with a fresh scan of it (null: the run is gone). */
  applyRun(run: string, scanned: ScannedRun | null, change: Change): void {
    if (scanned && !this.byRun.has(run)) {
      this.addRun(run, scanned, change);
      return;
    }
    const next = new Map((scanned?.checkpoints ?? []).map((c) => [c.info.id, c]));
    for (const id of [...this.idsOf(run)]) {
      const old = this.checkpoints.get(id);
      if (old && !next.has(id)) this.applyOne(id, run, old.info.step, null, change);
    }
    for (const [id, fresh] of next) this.applyOne(id, run, fresh.info.step, fresh, change);
    this.setRun(run, scanned?.info ?? null, change);
  }

  /**
   * applyRun for a run that holds no entry yet (every run of a workspace being opened): each of
   * its checkpoints is set as applyOne would, without looking for an entry it replaces or for
   * twins it gains (its scan marked those of its own run, and there are no others). A checkpoint
   * with a twin, or whose id is somehow taken, goes through applyOne.
   */
  private addRun(run: string, scanned: ScannedRun, change: Change): void {
    const ids = new Set<string>();
    this.byRun.set(run, ids);
    change.addedRuns.set(run, scanned.checkpoints);
    const steps = this.stepsOf(run);
    for (const entry of scanned.checkpoints) {
      const { info } = entry;
      if (info.sameStepAs.length > 0 || this.checkpoints.has(info.id)) {
        this.applyOne(info.id, run, info.step, entry, change);
        continue;
      }
      this.checkpoints.set(info.id, entry);
      ids.add(info.id);
      steps.set(info.step, info.id);
      this.noteParent(info.parent, this.lineage.change(info.parent, run, 1));
      this.countMetrics(info.metrics, 1);
    }
    if (ids.size === 0) this.byRun.delete(run);
    if (steps.size === 0) this.bySteps.delete(run);
    this.setRun(run, scanned.info, change);
  }

  private stepsOf(run: string): Map<number, StepHolders> {
    let steps = this.bySteps.get(run);
    if (!steps) this.bySteps.set(run, (steps = new Map()));
    return steps;
  }

  private holdersOf(run: string, step: number): readonly string[] {
    return holderList(this.bySteps.get(run)?.get(step));
  }

  private setHolders(run: string, step: number, holders: readonly string[]): void {
    if (holders.length > 0) {
      this.stepsOf(run).set(step, holders.length === 1 ? (holders[0] as string) : holders);
      return;
    }
    const steps = this.bySteps.get(run);
    steps?.delete(step);
    if (steps?.size === 0) this.bySteps.delete(run);
  }

  /** Replaces one checkpoint's entry (null: it is gone), keeping its twins' `sameStepAs` current. */
  applyOne(id: string, run: string, step: number, scanned: ScannedCheckpoint | null, change: Change): void {
    const previous = this.checkpoints.get(id);
    let fresh = scanned && previous?.info.status === 'incomplete' && !previous.announce ? stillBeingWritten(scanned) : scanned;
    const before = this.holdersOf(run, step);
    let holders: readonly string[];
    if (fresh) holders = before.includes(id) ? before : [...before, id];
    else holders = before.filter((other) => other !== id);
    if (holders !== before) this.setHolders(run, step, holders);
    if (fresh) fresh = withSameStep(fresh, holders);
    this.setEntry(id, fresh, change);
    // Another folder of the same step gained or lost a twin: it changed too.
    for (const other of holders) {
      if (other === id) continue;
      const entry = this.checkpoints.get(other);
      if (entry) this.setEntry(other, withSameStep(entry, holders), change);
    }
  }

  /** Sets a run's own record; a changed writer or lineage touches the checkpoints it protects. */
  setRun(run: string, info: RunInfo | null, change: Change): void {
    const previous = this.runs.get(run);
    if (info) this.runs.set(run, info);
    else this.runs.delete(run);
    const [was, is] = [lineageOfRun(previous), lineageOfRun(info ?? undefined)];
    this.noteParent(was, this.lineage.change(was, run, -1));
    this.noteParent(is, this.lineage.change(is, run, 1));
    if (!sameWriter(previous?.writer, info?.writer)) for (const id of this.idsOf(run)) this.touch(id, change);
  }

  /** A run's checkpoint count and bytes, after its entries changed one at a time. */
  updateRunTotals(run: string, change: Change): void {
    const info = this.runs.get(run);
    if (!info) return;
    let count = 0;
    let bytes = 0;
    for (const id of this.idsOf(run)) {
      const entry = this.checkpoints.get(id);
      if (!entry) continue;
      count += 1;
      bytes += entry.info.bytes;
    }
    if (count !== info.checkpointCount || bytes !== info.bytes) this.setRun(run, { ...info, checkpointCount: count, bytes }, change);
  }

  /**
   * Ends a change: every checkpoint it touched (or whose protections it may have changed) gets its
   * protections settled, and one event per entry is made, unless nobody listens (`events` false:
   * opening a workspace of 10,000 checkpoints would otherwise build 10,000 events for no one).
   */
  finish(change: Change, events: boolean): CatalogEvent[] {
    for (const parent of this.parentsChanged.values()) for (const id of this.holdersOf(parent.run, parent.step)) this.touch(id, change);
    this.parentsChanged.clear();
    const made: CatalogEvent[] = [];
    for (const [id, old] of change.before) {
      const entry = this.checkpoints.get(id);
      const now = entry ? this.settleProtections(entry) : undefined;
      if (events) this.eventFor(id, old, now, made);
    }
    for (const added of change.addedRuns.values())
      for (const entry of added) {
        if (change.before.has(entry.info.id)) continue;
        const now = this.settleProtections(entry);
        if (events) this.eventFor(entry.info.id, undefined, now, made);
      }
    return made;
  }

  private settleProtections(entry: ScannedCheckpoint): ScannedCheckpoint {
    const { info } = entry;
    const writer = this.runs.get(info.run)?.writer ?? null;
    const children = this.childrenOf(info.run, info.step);
    // The common case, for every checkpoint of a listing: nothing protects it, nothing did.
    if (!info.pinned && writer === null && children.length === 0 && info.protectedBy.length === 0) return entry;
    const protectedBy = protectionsOf({ run: info.run, pinned: info.pinned, writer, children });
    if (sameProtections(protectedBy, info.protectedBy)) return entry;
    const settled = { ...entry, info: { ...info, protectedBy } };
    this.checkpoints.set(info.id, settled);
    return settled;
  }

  private setEntry(id: string, entry: ScannedCheckpoint | null, change: Change): void {
    const previous = this.checkpoints.get(id);
    if (previous === entry) return;
    this.touch(id, change);
    if (previous) {
      this.noteParent(previous.info.parent, this.lineage.change(previous.info.parent, previous.info.run, -1));
      this.countMetrics(previous.info.metrics, -1);
      this.byRun.get(previous.info.run)?.delete(id);
      if (this.byRun.get(previous.info.run)?.size === 0) this.byRun.delete(previous.info.run);
    }
    if (entry) {
      // Protections follow from other entries: kept until finish() settles them again.
      this.checkpoints.set(id, previous ? { ...entry, info: { ...entry.info, protectedBy: previous.info.protectedBy } } : entry);
      this.noteParent(entry.info.parent, this.lineage.change(entry.info.parent, entry.info.run, 1));
      this.countMetrics(entry.info.metrics, 1);
      const ids = this.byRun.get(entry.info.run);
      if (ids) ids.add(id);
      else this.byRun.set(entry.info.run, new Set([id]));
    } else this.checkpoints.delete(id);
  }

  private countMetrics(metrics: CheckpointInfo['metrics'], delta: 1 | -1): void {
    for (const name of Object.keys(metrics)) {
      const count = (this.metricCounts.get(name) ?? 0) + delta;
      if (count > 0) this.metricCounts.set(name, count);
      else this.metricCounts.delete(name);
    }
  }

  private touch(id: string, change: Change): void {
    if (change.before.has(id)) return;
    const entry = this.checkpoints.get(id);
    // An entry of a run this change added was not there before it.
    change.before.set(id, entry && !change.addedRuns.has(entry.info.run) ? entry : undefined);
  }

  /** Notes `parent` when Lineage.change says its set of children changed (it gave its key). */
  private noteParent(parent: CheckpointRef | null, key: string | null): void {
    if (parent && key !== null) this.parentsChanged.set(key, parent);
  }

  private eventFor(id: string, old: ScannedCheckpoint | undefined, fresh: ScannedCheckpoint | undefined, events: CatalogEvent[]): void {
    const was = isEventWorthy(old);
    const is = isEventWorthy(fresh);
    if (!was && is) events.push({ type: 'added', checkpoint: fresh.info });
    else if (was && !is) events.push({ type: 'removed', id, run: old.info.run, step: old.info.step });
    else if (was && is && !sameInfo(old.info, fresh.info)) events.push({ type: 'changed', checkpoint: fresh.info });
  }
}
