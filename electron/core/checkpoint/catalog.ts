// The catalog: every run and checkpoint of a workspace, kept in memory, refreshed from disk
// (fully, or one run at a time when the watcher says something moved), and observable.
import path from 'node:path';
import type { CatalogEvent, CatalogSnapshot, CheckpointInfo, MetricMode, RunInfo } from '../../contract.js';
import { type ScannedCheckpoint, type SkippedFolder, listRunNames, readRunState, runInfo, scanOneCheckpoint, scanRun } from './catalog-scan.js';
import { NotFoundError, errorMessage } from '../base/errors.js';
import { folderCheckpointId, isValidRunName, parseCheckpointDirName } from './layout.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import type { ForeignPartVerifier } from './foreign-part.js';
import { describeProblem } from './problem.js';
import { inspectSummary, verifyCheckpoint, type VerifyResult } from './reader.js';
import { VerifyCache } from './verify-cache.js';

/** `localeCompare`'s order, with the collator made once (each localeCompare call makes its own). */
const RUN_ORDER = new Intl.Collator();

export type CatalogListener = (event: CatalogEvent) => void;

/** Only these may be resumed from, or be called latest or best. */
export function isUsable(checkpoint: CheckpointInfo): boolean {
  return checkpoint.status === 'verified' || checkpoint.status === 'unverified';
}

/** Folders without a manifest are listed, but events speak only of checkpoints that exist. */
function isEventWorthy(checkpoint: ScannedCheckpoint | undefined): boolean {
  return checkpoint !== undefined && checkpoint.announce;
}

function sameInfo(a: CheckpointInfo, b: CheckpointInfo): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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

function newerFirst(a: CheckpointInfo, b: CheckpointInfo): number {
  const time = (b.createdAt ?? '').localeCompare(a.createdAt ?? '');
  return time !== 0 ? time : b.step - a.step;
}

/** The result of a full verification, and what could not be remembered of it. */
export interface VerifyOutcome {
  readonly results: VerifyResult[];
  /** The verify cache is an optimisation: failing to write it is a warning, never a failure. */
  readonly warnings: string[];
}

export class Catalog {
  private checkpoints = new Map<string, ScannedCheckpoint>();
  private runs = new Map<string, RunInfo>();
  /**
   * Folders of one run that hold the same step, by `run\0step`: kept so a new arrival marks both.
   * Almost always one id, so arrays (cheaper than sets when there are 10,000 of them).
   */
  private readonly bySteps = new Map<string, string[]>();
  private skippedFolders: readonly SkippedFolder[] = [];
  private readonly listeners = new Set<CatalogListener>();

  private constructor(
    readonly workspace: string,
    private readonly verifyCache: VerifyCache,
    private readonly foreign: ForeignPartVerifier,
  ) {}

  static async open(workspace: string, foreign: ForeignPartVerifier): Promise<Catalog> {
    const cache = new VerifyCache(workspace);
    await cache.load();
    const catalog = new Catalog(workspace, cache, foreign);
    await catalog.refresh();
    return catalog;
  }

  subscribe(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Where changes are collected for the listeners: nowhere when nobody listens (opening a
   * workspace of 10,000 checkpoints would otherwise build 10,000 events for no one).
   */
  private collector(): CatalogEvent[] | null {
    return this.listeners.size > 0 ? [] : null;
  }

  /** Re-reads the whole workspace. */
  async refresh(): Promise<void> {
    const { names, skipped } = await listRunNames(this.workspace);
    this.skippedFolders = skipped;
    const present = new Set(names);
    const events = this.collector();
    for (const name of [...this.runs.keys()]) if (!present.has(name)) this.applyRun(name, null, events);
    // Runs are scanned a few at a time; each scan is itself parallel over its checkpoints.
    const scans = await mapWithConcurrency(names, 4, (name) => scanRun(this.workspace, name, this.verifyCache));
    names.forEach((name, i) => this.applyRun(name, scans[i] ?? null, events));
    this.emit(events);
  }

  /** Re-reads one run: what the watcher calls when something under it changed. */
  async refreshRun(run: string): Promise<void> {
    // A folder whose name cannot be a run's is never scanned; the full listing reports it.
    if (!isValidRunName(run)) return this.refresh();
    const scanned = await scanRun(this.workspace, run, this.verifyCache);
    const events = this.collector();
    this.applyRun(run, scanned, events);
    this.emit(events);
  }

  /**
   * Re-reads one checkpoint folder: the watcher's fast path, so a new checkpoint reaches
   * listeners without re-reading the thousands of others in its run.
   */
  async refreshCheckpoint(run: string, dirName: string): Promise<void> {
    const step = parseCheckpointDirName(dirName);
    if (step === null) return;
    if (!isValidRunName(run)) return this.refresh();
    if (!this.runs.has(run)) return this.refreshRun(run);
    const id = folderCheckpointId(run, dirName);
    const pinned = this.checkpoints.get(id)?.info.pinned ?? (await readRunState(this.workspace, run)).pinned.has(dirName);
    const fresh = await scanOneCheckpoint(this.workspace, run, dirName, pinned, this.verifyCache);
    const events = this.collector();
    this.applyOne(id, run, step, fresh, events);
    this.updateRunTotals(run);
    this.emit(events);
  }

  /** Re-reads a run's own files (pins, lock, run.json) and applies them to its entries. */
  async refreshRunState(run: string): Promise<void> {
    if (!isValidRunName(run)) return this.refresh();
    const state = await readRunState(this.workspace, run);
    if (!state.exists) return this.refreshRun(run);
    const events = this.collector();
    for (const [id, entry] of this.checkpoints) {
      if (entry.info.run !== run) continue;
      const pinned = state.pinned.has(path.basename(entry.info.path));
      if (pinned !== entry.info.pinned) this.applyOne(id, run, entry.info.step, { ...entry, info: { ...entry.info, pinned } }, events);
    }
    this.runs.set(run, runInfo(this.workspace, run, state, this.list(run)));
    this.emit(events);
  }

  private updateRunTotals(run: string): void {
    const info = this.runs.get(run);
    if (!info) return;
    const checkpoints = this.list(run);
    this.runs.set(run, { ...info, checkpointCount: checkpoints.length, bytes: checkpoints.reduce((s, c) => s + c.bytes, 0) });
  }

  private applyOne(id: string, run: string, step: number, scanned: ScannedCheckpoint | null, events: CatalogEvent[] | null): void {
    const previous = this.checkpoints.get(id);
    const old = previous?.info;
    let fresh = scanned && old?.status === 'incomplete' && !previous?.announce ? stillBeingWritten(scanned) : scanned;
    const key = `${run}\0${step}`;
    const before = this.bySteps.get(key);
    let holders: string[];
    if (fresh) holders = before ? (before.includes(id) ? before : [...before, id]) : [id];
    else holders = before ? before.filter((other) => other !== id) : [];
    if (holders.length === 0) this.bySteps.delete(key);
    else if (holders !== before) this.bySteps.set(key, holders);
    if (fresh) fresh = withSameStep(fresh, holders);
    if (fresh) this.checkpoints.set(id, fresh);
    else this.checkpoints.delete(id);
    if (events) this.eventFor(id, run, step, previous, fresh ?? undefined, events);
    // Another folder of the same step gained or lost a twin: it changed too.
    for (const other of holders) {
      if (other === id) continue;
      const entry = this.checkpoints.get(other);
      if (!entry) continue;
      const updated = withSameStep(entry, holders);
      if (updated === entry) continue;
      this.checkpoints.set(other, updated);
      if (events) this.eventFor(other, run, step, entry, updated, events);
    }
  }

  private eventFor(
    id: string,
    run: string,
    step: number,
    old: ScannedCheckpoint | undefined,
    fresh: ScannedCheckpoint | undefined,
    events: CatalogEvent[],
  ): void {
    const was = isEventWorthy(old);
    const is = isEventWorthy(fresh);
    if (!was && is && fresh) events.push({ type: 'added', checkpoint: fresh.info });
    else if (was && !is) events.push({ type: 'removed', id, run, step });
    else if (was && is && old && fresh && !sameInfo(old.info, fresh.info)) events.push({ type: 'changed', checkpoint: fresh.info });
  }

  private applyRun(run: string, scanned: Awaited<ReturnType<typeof scanRun>>, events: CatalogEvent[] | null): void {
    const next = new Map((scanned?.checkpoints ?? []).map((c) => [c.info.id, c]));
    for (const [id, old] of this.checkpoints) {
      if (old.info.run !== run || next.has(id)) continue;
      this.applyOne(id, run, old.info.step, null, events);
    }
    for (const [id, fresh] of next) this.applyOne(id, run, fresh.info.step, fresh, events);
    if (scanned) this.runs.set(run, scanned.info);
    else this.runs.delete(run);
  }

  private emit(events: readonly CatalogEvent[] | null): void {
    if (!events) return;
    for (const event of events) {
      for (const listener of this.listeners) listener(event);
    }
  }

  /** Folders that look like runs but cannot be listed (their names), with the reason. */
  skipped(): readonly SkippedFolder[] {
    return this.skippedFolders;
  }

  snapshot(): CatalogSnapshot {
    return { workspace: this.workspace, runs: this.listRuns(), checkpoints: this.list(), skipped: [...this.skippedFolders] };
  }

  listRuns(): RunInfo[] {
    return [...this.runs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  getRun(name: string): RunInfo | undefined {
    return this.runs.get(name);
  }

  /**
   * By run, then step. One run's are picked before sorting: `latest` and `best` ask per run, and
   * the app's marks ask for every run after each change (sorting all 10,000 fifty times took
   * seconds, in the process whose watcher was meanwhile waiting to report a new checkpoint).
   */
  list(run?: string): CheckpointInfo[] {
    const picked: CheckpointInfo[] = [];
    for (const entry of this.checkpoints.values()) if (run === undefined || entry.info.run === run) picked.push(entry.info);
    return picked.sort((a, b) => (a.run === b.run ? a.step - b.step : RUN_ORDER.compare(a.run, b.run)));
  }

  /** Every checkpoint, in no particular order: for whoever only looks at each once. */
  *all(): IterableIterator<CheckpointInfo> {
    for (const entry of this.checkpoints.values()) yield entry.info;
  }

  get(id: string): CheckpointInfo | undefined {
    return this.checkpoints.get(id)?.info;
  }

  findByPath(dir: string): CheckpointInfo | undefined {
    for (const info of this.all()) if (info.path === dir) return info;
    return undefined;
  }

  /** Per run: the highest step; across the workspace: the most recently written. */
  latest(run?: string): CheckpointInfo | null {
    const usable = this.list(run).filter(isUsable);
    if (usable.length === 0) return null;
    if (run !== undefined) return usable.reduce((a, b) => (b.step > a.step ? b : a));
    return [...usable].sort(newerFirst)[0] ?? null;
  }

  /** The best usable checkpoint by a metric; ties go to the later step. */
  best(metric: string, mode: MetricMode, run?: string): CheckpointInfo | null {
    return rankByMetric(this.list(run).filter(isUsable), metric, mode)[0] ?? null;
  }

  metricNames(): string[] {
    const names = new Set<string>();
    for (const c of this.checkpoints.values()) for (const name of Object.keys(c.info.metrics)) names.add(name);
    return [...names].sort();
  }

  /**
   * Records checkpoints verified before they were placed (an import verifies its staged copy):
   * each signature was taken before that verification, so a file changed since is not covered.
   * Returns what could not be remembered; callers refresh the run afterwards.
   */
  async rememberVerified(entries: readonly { readonly id: string; readonly signature: string }[]): Promise<string[]> {
    for (const { id, signature } of entries) this.verifyCache.remember(id, signature, true, null);
    try {
      await this.verifyCache.save();
      return [];
    } catch (error) {
      return [`the verification was not remembered: ${this.verifyCache.file()}: ${errorMessage(error)}`];
    }
  }

  /** Verifies fully (every byte), records the outcome and refreshes the entry. */
  async verify(ids: readonly string[]): Promise<VerifyOutcome> {
    const warnings: string[] = [];
    const results = await mapWithConcurrency(ids, 2, async (id) => {
      const entry = this.checkpoints.get(id);
      if (!entry) throw new NotFoundError(id, `no such checkpoint in ${this.workspace}`);
      // The outcome is recorded against the files as they are now, not as the last scan saw
      // them (they may have changed since), and only if they did not change while being read.
      const signature = (): string | null => {
        try {
          const structure = inspectSummary(entry.info.path);
          return structure.kind === 'complete' ? structure.signature : null;
        } catch {
          return null;
        }
      };
      const before = signature();
      const result = await verifyCheckpoint(entry.info.path, this.foreign);
      if (before !== null && before === signature()) {
        const reason = result.problems.map(describeProblem).join('; ') || null;
        this.verifyCache.remember(id, before, result.ok, reason);
      }
      return result;
    });
    try {
      await this.verifyCache.save();
    } catch (error) {
      warnings.push(`the results were not remembered for next time: ${this.verifyCache.file()}: ${errorMessage(error)}`);
    }
    const runs = new Set(ids.map((id) => this.checkpoints.get(id)?.info.run).filter((r): r is string => r !== undefined));
    for (const run of runs) await this.refreshRun(run);
    return { results, warnings };
  }
}

/** Usable checkpoints carrying a numeric value of `metric`, best first. */
export function rankByMetric(checkpoints: readonly CheckpointInfo[], metric: string, mode: MetricMode): CheckpointInfo[] {
  const withValue = checkpoints.filter((c) => typeof c.metrics[metric] === 'number' && Number.isFinite(c.metrics[metric]));
  return withValue.sort((a, b) => {
    const av = a.metrics[metric] as number;
    const bv = b.metrics[metric] as number;
    const diff = mode === 'min' ? av - bv : bv - av;
    return diff !== 0 ? diff : b.step - a.step;
  });
}
