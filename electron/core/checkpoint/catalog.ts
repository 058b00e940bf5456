// The catalog: every run and checkpoint of a workspace, kept in memory, refreshed from disk
// (fully, or one run at a time when the watcher says something moved), and observable.
import path from 'node:path';
import type { CatalogSnapshot, CheckpointInfo, MetricRecord } from '../../contract.js';
import { CatalogTable } from './catalog-table.js';
import { type SkippedFolder, listRunNames, readRunState, runInfo, scanOneCheckpoint } from './catalog-scan.js';
import { NotFoundError, errorMessage } from '../base/errors.js';
import { showName } from './names.js';
import { folderCheckpointId, isValidRunName, parseCheckpointDirName } from './layout.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import type { ForeignPartVerifier } from './foreign-part.js';
import type { InPlaceLayouts, InPlaceSeries, InPlaceVerification } from './in-place.js';
import type { ScannedCheckpoint } from './catalog-scan.js';
import type { Problem } from './problem.js';
import { shown } from '../base/describe-value.js';
import { InPlaceRecords } from './in-place-records.js';
import { type FoundInPlace, discoverInPlace, rescanInPlaceFolder, scannedInPlace } from './in-place-scan.js';
import { appendedRecords, seriesRecords } from './in-place-metrics.js';
import { describeProblem } from './problem.js';
import { inspectSummary, verifyCheckpoint, type VerifyResult } from './reader.js';
import { VerifyCache, type VerifyCacheEntry } from './verify-cache.js';
import { type ReadRunRecord, RecordWriter, type RunRecord, isStillAt, readRunRecords } from './catalog-index.js';
import {
  type BuiltFromRecords,
  type RunListing,
  RecordChecks,
  asRecorded,
  buildFromRecords,
  checkManifests,
  finishRuns,
  listRun,
} from './catalog-index-check.js';

export { type CatalogListener, type MetricsListener, isUsable, rankByMetric } from './catalog-table.js';

export interface CatalogOptions {
  /** Whether to list from, and keep, the persistent index in `.studio/catalog/` (catalog-index.ts); true unless said. */
  readonly index?: boolean;
}

/** Why one of our runs below the workspace's own folders is not listed. */
const NESTED_RUN = "one of this program's runs, in a workspace inside the one opened; open that workspace to see it";

/** The result of a full verification, and what could not be remembered of it. */
export interface VerifyOutcome {
  readonly results: VerifyResult[];
  /** The verify cache is an optimisation: failing to write it is a warning, never a failure. */
  readonly warnings: string[];
}

/**
 * The catalog of one workspace. Every change to it (a watcher's re-read, the store's own
 * operations, a trainer's save, the Studio following a training) goes through one queue and is
 * applied alone, in the order asked: a re-read that saw a checkpoint can never land after the
 * re-read that saw it deleted, and listeners hear each change's events together, in order.
 */
export class Catalog extends CatalogTable {
  private skippedFolders: readonly SkippedFolder[] = [];
  /** The metric series of each run read in place, as its last scan left them. */
  private readonly series = new Map<string, readonly InPlaceSeries[]>();
  /** What each run read in place was configured with, where its folder says (TensorBoard's hparams). */
  private readonly configs = new Map<string, Readonly<Record<string, unknown>> | null>();
  /** Every folder the last full scan walked looking for other programs' runs. */
  private walked: readonly string[] = [];
  /** The subfolders each run read in place owns (Keras' train/, a Trainer's checkpoint-N/), by run. */
  private readonly claimed = new Map<string, readonly string[]>();
  /** Null when the index is not used. */
  private readonly index: RecordWriter | null;
  /** Set once open() hands the catalog out: until then nobody else can see its table. */
  private opened = false;

  private constructor(
    readonly workspace: string,
    private readonly verifyCache: VerifyCache,
    private readonly foreign: ForeignPartVerifier,
    readonly layouts: InPlaceLayouts,
    /** Pins and policies of the runs read in place (other programs' folders). */
    readonly records: InPlaceRecords,
    options: CatalogOptions,
  ) {
    super();
    this.index = options.index === false ? null : new RecordWriter(workspace);
  }

  static async open(workspace: string, foreign: ForeignPartVerifier, layouts: InPlaceLayouts, options: CatalogOptions = {}): Promise<Catalog> {
    const cache = new VerifyCache(workspace);
    await cache.load();
    const catalog = new Catalog(workspace, cache, foreign, layouts, await InPlaceRecords.load(workspace), options);
    await catalog.refresh();
    catalog.opened = true;
    return catalog;
  }

  /** The metric history of a run read in place, as records like those of our runs' metrics.jsonl. */
  inPlaceHistory(run: string): MetricRecord[] {
    return seriesRecords(this.series.get(run) ?? []);
  }

  /**
   * What a watcher must watch for other programs' folders: each folder walked, with the runs read
   * in place whose files it holds (a change there re-reads them); a folder with none of them holds
   * nothing yet, and a change there (a new run's folder) calls for a full scan.
   */
  inPlaceFolders(): Map<string, string[]> {
    const folders = new Map<string, string[]>(this.walked.map((dir) => [dir, []]));
    for (const info of this.entries.runs.values()) {
      if (info.layout === 'studio') continue;
      for (const dir of [info.path, ...(this.claimed.get(info.name) ?? [])]) folders.set(dir, [...(folders.get(dir) ?? []), info.name]);
    }
    return folders;
  }

  /** The configuration a run read in place records (TensorBoard's hparams), or null. */
  inPlaceConfig(run: string): Readonly<Record<string, unknown>> | null {
    return this.configs.get(run) ?? null;
  }

  /** Keeps each run's series; tells listeners what each run gained (a new one, all it holds). */
  private noteSeries(found: readonly FoundInPlace[], gone: readonly string[]): void {
    for (const name of gone) {
      this.series.delete(name);
      this.configs.delete(name);
      this.claimed.delete(name);
    }
    for (const f of found) {
      const previous = this.series.get(f.name);
      this.series.set(f.name, f.run.series);
      this.configs.set(f.name, f.run.config);
      this.claimed.set(
        f.name,
        f.run.claimed.map((sub) => path.join(f.dir, sub)),
      );
      if (this.metricListeners.size === 0) continue;
      // A run new since the last scan (a TensorBoard run appearing, which has no checkpoint to announce it) gained all it holds.
      const records = previous === undefined ? seriesRecords(f.run.series) : appendedRecords(previous, f.run.series);
      if (records.length > 0) for (const listener of this.metricListeners) listener(f.name, records);
    }
  }

  /** Re-reads the whole workspace. */
  refresh(): Promise<void> {
    return this.serialized(() => this.rescanAll());
  }

  /** Re-reads one run: what the watcher calls when something under it changed. */
  refreshRun(run: string): Promise<void> {
    return this.serialized(() => this.rescanRun(run));
  }

  /**
   * Re-reads one checkpoint folder: the watcher's fast path, so a new checkpoint reaches
   * listeners without re-reading the thousands of others in its run.
   */
  refreshCheckpoint(run: string, dirName: string): Promise<void> {
    return this.serialized(() => this.rescanCheckpoint(run, dirName));
  }

  /** Re-reads a run's own files (pins, lock, run.json) and applies them to its entries. */
  refreshRunState(run: string): Promise<void> {
    return this.serialized(() => this.rescanRunState(run));
  }

  private async rescanAll(): Promise<void> {
    // Each record's checkpoints are checked as soon as it is read: a worker stats them while the rest are read.
    const checks = new RecordChecks(this.workspace);
    const records = this.index
      ? readRunRecords(
          this.workspace,
          (record) => checks.add(record),
          (count) => checks.expect(count),
        )
      : new Map<string, ReadRunRecord>();
    let listings: RunListing[];
    let found;
    let built: BuiltFromRecords;
    let asListed: ReadonlySet<string>;
    try {
      // A folder as its record found it still holds what it held then: a run, with no need to read it.
      found = await listRunNames(this.workspace, (name, dir) => {
        const record = records.get(name);
        return record !== undefined && isStillAt(dir, record.dir);
      });
      built = buildFromRecords(found.names, records, this.verifyCache, checks);
      asListed = this.opened ? new Set<string>() : this.addAsRecorded(found.names, records, built);
      listings = await finishRuns(this.workspace, found.names, records, built, this.verifyCache, checks);
      if (this.opened) {
        // An open catalog's table may be newer than the records (a change heard since they were written): listing from a
        // record whose manifest was edited in place would undo that change until the check after, so the check comes first.
        const changed = await checkManifests(this.workspace, found.names, records, built, this.verifyCache, checks, false);
        listings = found.names.map((name, i) => changed.get(name) ?? (listings[i] as RunListing));
      }
    } catch (error) {
      checks.cancel();
      throw error;
    }
    const { names, skipped, looksLikeRuns } = found;
    const scans = listings.map((l) => l.scanned);
    const { found: inPlace, walked, ours } = await discoverInPlace(this.workspace, this.layouts, looksLikeRuns);
    this.walked = walked;
    this.skippedFolders = [...skipped, ...ours.map((name) => ({ name: showName(name), reason: NESTED_RUN }))];
    const present = new Set([...names, ...inPlace.map((f) => f.name)]);
    const gone = [...this.entries.runs.keys()].filter((name) => !present.has(name));
    this.commit((change) => {
      for (const name of gone) this.entries.applyRun(name, null, change);
      names.forEach((name, i) => {
        if (!asListed.has(name) || listings[i]?.asRecorded !== true) this.entries.applyRun(name, scans[i] ?? null, change);
      });
      for (const found of inPlace) this.entries.applyRun(found.name, scannedInPlace(found, this.records, this.verifyCache), change);
    });
    this.noteSeries(inPlace, gone);
    const listed = new Set(names);
    const updates = new Map(names.map((name, i) => [name, listings[i]?.update]));
    for (const name of records.keys()) if (!listed.has(name)) updates.set(name, null);
    this.saveIndex(updates);
    if (!this.opened && records.size > 0) this.checkManifestsAfter(names, records, built, checks);
  }

  /**
   * Queues the rest of the index's check as a change of its own, after the listing is given
   * (catalog-index-check.ts says what it catches, and the trade): each run that held a checkpoint
   * whose manifest was edited in place is put again, its listeners told, and its record rewritten.
   */
  private checkManifestsAfter(names: readonly string[], records: ReadonlyMap<string, ReadRunRecord>, built: BuiltFromRecords, checks: RecordChecks): void {
    void this.serialized(async () => {
      // Whoever waits for the listing takes it before this starts.
      await new Promise((resolve) => setImmediate(resolve));
      let changed;
      try {
        changed = await checkManifests(this.workspace, names, records, built, this.verifyCache, checks, true);
      } catch {
        // A run that cannot be read now stays as listed: the watcher, or the next listing, reads it again.
        return;
      }
      if (changed.size === 0) return;
      this.commit((change) => {
        for (const [name, listing] of changed) this.entries.applyRun(name, listing.scanned, change);
      });
      this.saveIndex(new Map([...changed].map(([name, listing]) => [name, listing.update])));
    });
  }

  /**
   * Puts each run whose record agrees with its folder in the table as its record lists it, before
   * its checkpoints' identities are in: the stat worker takes them meanwhile, instead of waiting
   * for this thread to fill the table after. Only while the catalog is being opened, when nobody
   * can see the table; a run whose checkpoints turn out changed is put again once they are in.
   */
  private addAsRecorded(names: readonly string[], records: ReadonlyMap<string, ReadRunRecord>, built: BuiltFromRecords): Set<string> {
    const added = new Set<string>();
    this.commit((change) => {
      for (const name of names) {
        const record = records.get(name);
        const checkpoints = built.get(name);
        const scanned = record && checkpoints ? asRecorded(this.workspace, name, record, checkpoints) : null;
        if (!scanned) continue;
        this.entries.applyRun(name, scanned, change);
        added.add(name);
      }
    });
    return added;
  }

  /**
   * Queues the index's writes as a change of their own: a listing does not wait for them, and
   * `settled()` does. Each record holds identities taken before its run was read, so one written
   * after a later change to the run is only stale.
   */
  private saveIndex(updates: ReadonlyMap<string, RunRecord | null | undefined>): void {
    const index = this.index;
    const pending = [...updates].filter(([, update]) => update !== undefined);
    if (!index || pending.length === 0) return;
    void this.serialized(() => mapWithConcurrency(pending, 8, ([run, record]) => (record ? index.write(record) : index.remove(run))).then(() => undefined));
  }

  /** Whether `run` is another program's folder read in place (not one of our runs). */
  isInPlace(run: string): boolean {
    const known = this.entries.runs.get(run);
    return known ? known.layout !== 'studio' : run === '.' || run.includes('/');
  }

  /** Re-reads the folder of a run read in place: each run it holds now, and those it no longer holds are gone. */
  private async rescanInPlaceRun(run: string): Promise<void> {
    const known = this.entries.runs.get(run);
    if (!known) return this.rescanAll();
    const relative = path.relative(this.workspace, known.path).split(path.sep).join('/');
    const found = await rescanInPlaceFolder(this.workspace, relative === '' ? '.' : relative, this.layouts);
    const present = new Set(found.map((f) => f.name));
    const gone = [...this.entries.runs]
      .filter(([name, info]) => info.path === known.path && info.layout !== 'studio' && !present.has(name))
      .map(([name]) => name);
    this.commit((change) => {
      for (const name of gone) this.entries.applyRun(name, null, change);
      for (const f of found) this.entries.applyRun(f.name, scannedInPlace(f, this.records, this.verifyCache), change);
    });
    this.noteSeries(found, gone);
  }

  private async rescanRun(run: string): Promise<void> {
    if (this.isInPlace(run)) return this.rescanInPlaceRun(run);
    // A folder whose name cannot be a run's is never scanned; the full listing reports it.
    if (!isValidRunName(run)) return this.rescanAll();
    const { scanned, update } = await listRun(this.workspace, run, this.verifyCache);
    this.commit((change) => this.entries.applyRun(run, scanned, change));
    this.saveIndex(new Map([[run, update]]));
  }

  private async rescanCheckpoint(run: string, dirName: string): Promise<void> {
    const step = parseCheckpointDirName(dirName);
    if (step === null) return;
    if (!isValidRunName(run)) return this.rescanAll();
    if (!this.entries.runs.has(run)) return this.rescanRun(run);
    const id = folderCheckpointId(run, dirName);
    const pinned = this.entries.checkpoints.get(id)?.info.pinned ?? (await readRunState(this.workspace, run)).pinned.has(dirName);
    const fresh = await scanOneCheckpoint(this.workspace, run, dirName, pinned, this.verifyCache);
    this.commit((change) => {
      this.entries.applyOne(id, run, step, fresh, change);
      this.entries.updateRunTotals(run, change);
    });
  }

  private async rescanRunState(run: string): Promise<void> {
    if (this.isInPlace(run)) {
      await this.records.reload();
      return this.rescanInPlaceRun(run);
    }
    if (!isValidRunName(run)) return this.rescanAll();
    const state = await readRunState(this.workspace, run);
    if (!state.exists) return this.rescanRun(run);
    this.commit((change) => {
      for (const id of this.entries.idsOf(run)) {
        const entry = this.entries.checkpoints.get(id);
        if (!entry) continue;
        const pinned = state.pinned.has(path.basename(entry.info.path));
        if (pinned !== entry.info.pinned) this.entries.applyOne(id, run, entry.info.step, { ...entry, info: { ...entry.info, pinned } }, change);
      }
      this.entries.setRun(run, runInfo(this.workspace, run, state, this.list(run)), change);
    });
  }

  /** Folders that look like runs but cannot be listed (their names), with the reason. */
  skipped(): readonly SkippedFolder[] {
    return this.skippedFolders;
  }

  snapshot(): CatalogSnapshot {
    return { workspace: this.workspace, runs: this.listRuns(), checkpoints: this.list(), skipped: [...this.skippedFolders] };
  }

  /**
   * Records checkpoints verified before they were placed (an import verifies its staged copy):
   * each signature was taken before that verification, so a file changed since is not covered.
   * Returns what could not be remembered; callers refresh the run afterwards.
   */
  rememberVerified(entries: readonly { readonly id: string; readonly signature: string }[]): Promise<string[]> {
    return this.serialized(async () => {
      for (const { id, signature } of entries) this.verifyCache.remember(id, signature, true, null);
      try {
        await this.verifyCache.save();
        return [];
      } catch (error) {
        return [`the verification was not remembered: ${this.verifyCache.file()}: ${errorMessage(error)}`];
      }
    });
  }

  /** A checkpoint read in place: read whole by its layout, compared with what was recorded for the same files, and remembered. */
  private async verifyInPlace(entry: ScannedCheckpoint): Promise<VerifyResult> {
    const { info } = entry;
    const source = info.source as NonNullable<CheckpointInfo['source']>;
    if (entry.signature === null)
      return { dir: info.path, ok: false, structure: 'incomplete', problems: [{ file: info.path, problem: info.statusReason ?? 'not whole' }] };
    const checked = await this.layouts.verify({ path: info.path, format: source.format, name: source.name });
    const problems = compareWithRecord(checked, this.verifyCache.lookup(info.id, entry.signature), info.path);
    const ok = problems.length === 0;
    this.verifyCache.remember(info.id, entry.signature, ok, problems.map(describeProblem).join('; ') || null, checked.ownChecksums ? undefined : checked.crcs);
    return { dir: info.path, ok, structure: ok ? 'complete' : 'damaged', problems };
  }

  /** Verifies fully (every byte), records the outcome and refreshes the entry. */
  async verify(ids: readonly string[]): Promise<VerifyOutcome> {
    const warnings: string[] = [];
    const results = await mapWithConcurrency(ids, 2, async (id) => {
      const entry = this.entries.checkpoints.get(id);
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
      if (entry.info.files !== null) return this.verifyInPlace(entry);
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
    const runs = new Set(ids.map((id) => this.entries.checkpoints.get(id)?.info.run).filter((r): r is string => r !== undefined));
    for (const run of runs) await this.refreshRun(run);
    return { results, warnings };
  }
}

/**
 * What a verification of a checkpoint read in place says, given what an earlier one recorded for
 * the same files (same sizes and times): a tensor whose CRC-32C differs changed without its file
 * saying so, which only our record can tell where the format keeps no checksum.
 */
export function compareWithRecord(checked: InPlaceVerification, recorded: VerifyCacheEntry | null, file: string): Problem[] {
  const problems = [...checked.problems];
  if (checked.ownChecksums || !recorded?.crcs || problems.length > 0) return problems;
  for (const [tensor, crc] of Object.entries(checked.crcs)) {
    const before = recorded.crcs[tensor];
    if (before !== undefined && before !== crc)
      problems.push({
        file,
        tensor: shown(tensor),
        problem: `its bytes changed since it was verified on ${recorded.at}, though its file's size and time did not`,
      });
  }
  return problems;
}
