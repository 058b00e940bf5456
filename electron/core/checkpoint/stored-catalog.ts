// The catalog of a workspace that lives in an S3 prefix: the same table, events, latest and best
// as a folder's (catalog-table.ts), filled from the prefix's listing (stored-listing.ts) instead of
// a folder scan. A re-list costs its LIST pages; what a run's own objects hold (run.json, pins and
// policy, the lock's holder, metrics parts) is read again only when the listing shows them changed.
// A checkpoint exists once its manifest is listed: folders a save is still writing are not shown.
import type { CatalogSnapshot, CheckpointInfo, MetricRecord, RunInfo, RunMeta } from '../../contract.js';
import { mapWithConcurrency } from '../base/concurrency.js';
import { NotFoundError, errorMessage } from '../base/errors.js';
import { type LeaseHolder, isLeaseLive, readLeaseHolder } from '../storage/lease-lock.js';
import type { Storage, StoredObject } from '../storage/storage.js';
import { NO_MANIFEST_FIELDS, type ScannedCheckpoint, type ScannedRun, assembleRun, manifestFields } from './catalog-scan.js';
import { CatalogTable } from './catalog-table.js';
import { describeProblem } from './problem.js';
import type { VerifyResult } from './reader.js';
import { RunMetaSchema, type RunRetention, RunRetentionSchema, parseMetricLines } from './run-files.js';
import { type StoredCheckpointEntry, type StoredRun, listStoredWorkspace } from './stored-listing.js';
import { verifyStoredCheckpoint } from './stored-checkpoint.js';
import type { InPlaceLayouts, InPlaceSeries } from './in-place.js';
import { appendedRecords, seriesRecords } from './in-place-metrics.js';
import { StoredInPlace } from './stored-in-place.js';
import type { FoundInPlace } from './in-place-scan.js';
import { STORED_RECORDS_KEY, StoredInPlaceRecords } from './stored-in-place-records.js';
import { compareWithRecord } from './catalog.js';
import { mountStorage } from '../storage/file-access.js';

/** Runs whose own objects are read at once when many changed (a first listing). */
const READS_IN_FLIGHT = 16;

/** A value read from an object, kept while the listing shows the object unchanged. */
class ByObject<T> {
  private readonly kept = new Map<string, { readonly version: string; readonly value: T }>();

  async get(run: string, object: StoredObject | null, read: (object: StoredObject) => Promise<T>, absent: T): Promise<T> {
    if (object === null) {
      this.kept.delete(run);
      return absent;
    }
    const version = `${object.tag ?? ''}|${object.size}|${object.modifiedMs}`;
    const kept = this.kept.get(run);
    if (kept?.version === version) return kept.value;
    const value = await read(object);
    this.kept.set(run, { version, value });
    return value;
  }

  peek(run: string): T | undefined {
    return this.kept.get(run)?.value;
  }

  forget(run: string): void {
    this.kept.delete(run);
  }
}

async function readJson(storage: Storage, key: string): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await storage.read(key)));
}

export interface StoredVerifyOutcome {
  readonly results: VerifyResult[];
  readonly warnings: string[];
}

export class StoredCatalog extends CatalogTable {
  private previous = new Map<string, StoredRun>();
  private readonly metas = new ByObject<RunMeta | null>();
  private readonly retentions = new ByObject<RunRetention>();
  private readonly holders = new ByObject<LeaseHolder | null>();
  /** Verifications by checkpoint id, for the manifest they read (its tag): a new commit at the same place is not covered. */
  private readonly verified = new Map<string, { readonly tag: string; readonly ok: boolean; readonly reason: string | null }>();
  /** Each run's metrics parts already read, and their records. */
  private readonly metrics = new Map<string, { readonly keys: Set<string>; records: MetricRecord[] }>();
  /** Keys under the workspace that are not ours: listed for the user, never touched. */
  private foreignKeys: readonly string[] = [];

  /** Other programs' folders in the prefix, read in place (issue 18), when the catalog was opened with their layouts. */
  private readonly inPlace: StoredInPlace | null;
  /** Their pins and policies, kept in `.studio/` of the prefix. */
  readonly inPlaceRecords: StoredInPlaceRecords;
  /** Each such run's metrics as last read. */
  private readonly inPlaceSeries = new Map<string, readonly InPlaceSeries[]>();
  /** Each such run's configuration, where its folder says (TensorBoard's hparams). */
  private readonly inPlaceConfigs = new Map<string, Readonly<Record<string, unknown>> | null>();
  private unmount: (() => void) | null = null;

  private constructor(
    readonly storage: Storage,
    /** Whether a listing may rewrite a run's index when it missed manifests (not when opened read-only). */
    private readonly writable: boolean,
    layouts: InPlaceLayouts | null,
  ) {
    super();
    this.inPlaceRecords = new StoredInPlaceRecords(storage);
    this.inPlace = layouts ? new StoredInPlace(storage, layouts, this.inPlaceRecords) : null;
    // The layouts' readers reach the objects by their s3:// addresses while the catalog is open.
    if (layouts) this.unmount = mountStorage(storage);
  }

  static async open(storage: Storage, options: { writable: boolean; layouts?: InPlaceLayouts }): Promise<StoredCatalog> {
    const catalog = new StoredCatalog(storage, options.writable, options.layouts ?? null);
    try {
      await catalog.refresh();
    } catch (error) {
      catalog.close();
      throw error;
    }
    return catalog;
  }

  /** The readers no longer reach the prefix's objects. */
  close(): void {
    this.unmount?.();
    this.unmount = null;
  }

  /** A run of another program's, read in place from the prefix. */
  isInPlace(run: string): boolean {
    return this.inPlaceSeries.has(run);
  }

  /** Where a run read in place lies and what its layout read there at the last listing (issue 18: what a deletion is computed from). */
  inPlaceRun(run: string): { readonly found: FoundInPlace; readonly layouts: InPlaceLayouts } | undefined {
    const found = this.inPlace?.run(run);
    return found && this.inPlace ? { found, layouts: this.inPlace.layouts } : undefined;
  }

  inPlaceConfig(run: string): Readonly<Record<string, unknown>> | null {
    return this.inPlaceConfigs.get(run) ?? null;
  }

  get workspace(): string {
    return this.storage.address;
  }

  /** Re-lists the whole prefix; a run whose keys and tags are unchanged costs nothing more. */
  refresh(): Promise<void> {
    return this.serialized(() => this.relist());
  }

  foreign(): readonly string[] {
    return this.foreignKeys;
  }

  snapshot(): CatalogSnapshot {
    return { workspace: this.workspace, runs: this.listRuns(), checkpoints: this.list(), skipped: [] };
  }

  /** A run's pins and policy as last listed. */
  retention(run: string): RunRetention {
    if (this.isInPlace(run)) return this.inPlaceRecords.retention(run);
    return this.retentions.peek(run) ?? RunRetentionSchema.parse({});
  }

  meta(run: string): RunMeta | null {
    return this.metas.peek(run) ?? null;
  }

  /** The run's metric history as its parts hold it (read when listed). */
  history(run: string): MetricRecord[] {
    const series = this.inPlaceSeries.get(run);
    if (series) return seriesRecords(series);
    return this.metrics.get(run)?.records ?? [];
  }

  /** The listing's entry of a checkpoint: where its objects are. */
  folderOf(id: string): string {
    const info = this.get(id);
    if (!info) throw new NotFoundError(id, `no such checkpoint in ${this.workspace}`);
    return `${info.id}/`;
  }

  private async relist(): Promise<void> {
    const listing = await listStoredWorkspace(this.storage, { writeIndex: this.writable, previous: this.previous });
    this.previous = new Map(listing.runs.map((run) => [run.name, run]));
    this.foreignKeys = listing.foreign;
    const scanned = await mapWithConcurrency(listing.runs, READS_IN_FLIGHT, (run) => this.scanRun(run));
    if (this.inPlace) await this.inPlaceRecords.reload(listing.stateObjects.find((o) => o.key === STORED_RECORDS_KEY) ?? null);
    const found = this.inPlace ? await this.inPlace.scan(listing.foreignObjects) : [];
    const present = new Set([...listing.runs.map((run) => run.name), ...found.map((f) => f.name)]);
    const gone = [...this.entries.runs.keys()].filter((name) => !present.has(name));
    for (const name of gone) this.forgetRun(name);
    this.commit((change) => {
      for (const name of gone) this.entries.applyRun(name, null, change);
      listing.runs.forEach((run, i) => this.entries.applyRun(run.name, scanned[i] ?? null, change));
      for (const f of found) this.entries.applyRun(f.name, this.inPlace?.scanned(f) ?? null, change);
    });
    await this.followMetrics(listing.runs);
    this.inPlaceConfigs.clear();
    for (const f of found) this.inPlaceConfigs.set(f.name, f.run.config);
    this.followInPlaceMetrics(found.map((f) => ({ name: f.name, series: f.run.series })));
  }

  /** What each run read in place gained in its logs since the last listing, told to the metrics listeners. */
  private followInPlaceMetrics(runs: readonly { readonly name: string; readonly series: readonly InPlaceSeries[] }[]): void {
    const present = new Set(runs.map((r) => r.name));
    for (const name of [...this.inPlaceSeries.keys()]) if (!present.has(name)) this.inPlaceSeries.delete(name);
    for (const { name, series } of runs) {
      const added = appendedRecords(this.inPlaceSeries.get(name) ?? [], series);
      this.inPlaceSeries.set(name, series);
      if (added.length > 0) for (const listener of this.metricListeners) listener(name, added);
    }
  }

  private forgetRun(run: string): void {
    this.metas.forget(run);
    this.retentions.forget(run);
    this.holders.forget(run);
    this.metrics.delete(run);
  }

  private async scanRun(run: StoredRun): Promise<ScannedRun> {
    const { storage } = this;
    const meta = await this.metas.get(
      run.name,
      run.own.runFile,
      async (o) => RunMetaSchema.safeParse(await readJson(storage, o.key).catch(() => null)).data ?? null,
      null,
    );
    const retention = await this.retentions.get(
      run.name,
      run.own.retention,
      async (o) => RunRetentionSchema.safeParse(await readJson(storage, o.key).catch(() => null)).data ?? RunRetentionSchema.parse({}),
      RunRetentionSchema.parse({}),
    );
    const lock = run.own.lock;
    const holder = await this.holders.get(run.name, lock, (o) => readLeaseHolder(storage, o), null);
    const live = holder !== null && lock !== null && isLeaseLive(storage, holder, lock);
    const pinned = new Set(retention.pinned);
    const checkpoints = run.checkpoints.map((entry) => this.scanCheckpoint(entry, pinned));
    const own = {
      createdAt: meta?.createdAt ?? null,
      parent: meta?.parent ?? null,
      writer: live && holder ? { pid: holder.pid, host: holder.host, since: holder.since } : null,
    };
    const assembled = assembleRun(storage.address, run.name, own, checkpoints);
    const notes =
      run.uncommitted.length === 0
        ? []
        : [
            `${run.uncommitted.length} checkpoint folder${run.uncommitted.length === 1 ? '' : 's'} without a manifest (a save in progress, or one a crash left): not listed`,
          ];
    const info: RunInfo = { ...assembled.info, path: storage.locate(run.name), notes };
    return { ...assembled, info };
  }

  private scanCheckpoint(entry: StoredCheckpointEntry, pinned: ReadonlySet<string>): ScannedCheckpoint {
    const dirName = entry.folder.slice(entry.run.length + 1, -1);
    const id = `${entry.run}/${dirName}`;
    const tag = entry.manifestTag;
    const remembered = tag === null ? undefined : this.verified.get(id);
    const checked = remembered && remembered.tag === tag ? remembered : null;
    const base = {
      id,
      run: entry.run,
      step: entry.step,
      stepKnown: true,
      path: this.storage.locate(entry.folder.slice(0, -1)),
      linked: false,
      pinned: pinned.has(dirName),
      sameStepAs: [],
      protectedBy: [],
      files: null,
      notes: [],
    };
    const damaged = entry.status === 'damaged' || entry.manifest === null;
    const info: CheckpointInfo = {
      ...base,
      ...(entry.manifest ? manifestFields(entry.manifest) : NO_MANIFEST_FIELDS),
      status: damaged ? 'damaged' : checked ? (checked.ok ? 'verified' : 'damaged') : 'unverified',
      statusReason: damaged ? (entry.problem ?? 'its manifest cannot be read') : (checked?.reason ?? null),
      bytes: entry.bytes,
    };
    return { info, signature: tag, announce: true };
  }

  /** New metrics parts of each run are read (in key order) and told to the metrics listeners. */
  private async followMetrics(runs: readonly StoredRun[]): Promise<void> {
    for (const run of runs) {
      const known = this.metrics.get(run.name) ?? { keys: new Set<string>(), records: [] };
      this.metrics.set(run.name, known);
      const fresh = run.own.metricParts.filter((part) => !known.keys.has(part.key));
      if (fresh.length === 0) continue;
      const texts = await mapWithConcurrency(fresh, READS_IN_FLIGHT, async (part) => {
        try {
          return new TextDecoder().decode(await this.storage.read(part.key));
        } catch {
          // Gone between the listing and the read (deleted with its run): the next listing says.
          return null;
        }
      });
      const added: MetricRecord[] = [];
      fresh.forEach((part, i) => {
        const text = texts[i];
        if (text === null || text === undefined) return;
        known.keys.add(part.key);
        added.push(...(parseMetricLines(text) as MetricRecord[]));
      });
      known.records = known.records.concat(added);
      if (added.length > 0) for (const listener of this.metricListeners) listener(run.name, added);
    }
  }

  /** Another program's checkpoint, read whole by its layout (ranged GETs; TensorFlow's own checksums checked), remembered in memory. */
  private async verifyInPlace(inPlace: StoredInPlace, info: CheckpointInfo): Promise<VerifyResult> {
    const source = info.source as NonNullable<CheckpointInfo['source']>;
    const signature = this.entries.checkpoints.get(info.id)?.signature ?? null;
    if (signature === null)
      return { dir: info.path, ok: false, structure: 'incomplete', problems: [{ file: info.path, problem: info.statusReason ?? 'not whole' }] };
    const checked = await inPlace.layouts.verify({ path: info.path, format: source.format, name: source.name });
    const problems = compareWithRecord(checked, inPlace.verifications.lookup(info.id, signature), info.path);
    const ok = problems.length === 0;
    inPlace.verifications.remember(info.id, signature, ok, problems.map(describeProblem).join('; ') || null, checked.ownChecksums ? undefined : checked.crcs);
    return { dir: info.path, ok, structure: ok ? 'complete' : 'damaged', problems };
  }

  /**
   * Reads every tensor of each checkpoint (ranged GETs, CRC-32C), remembers the outcome, and
   * re-lists. `alsoCheck` adds what the layer above checks (an imported checkpoint's own files,
   * read by the formats this layer does not know) before the outcome is remembered, so the
   * status shown agrees with the report.
   */
  async verify(ids: readonly string[], alsoCheck?: (id: string, result: VerifyResult) => Promise<VerifyResult>): Promise<StoredVerifyOutcome> {
    const results = await mapWithConcurrency(ids, 2, async (id) => {
      const info = this.get(id);
      if (!info) throw new NotFoundError(id, `no such checkpoint in ${this.workspace}`);
      if (info.origin === 'foreign' && this.inPlace) return this.verifyInPlace(this.inPlace, info);
      const tag = this.previous.get(info.run)?.checkpoints.find((c) => c.folder === `${id}/`)?.manifestTag ?? null;
      const own = await verifyStoredCheckpoint(this.storage, `${id}/`);
      const result = alsoCheck ? await alsoCheck(id, own) : own;
      if (tag !== null) this.verified.set(id, { tag, ok: result.ok, reason: result.problems.map(describeProblem).join('; ') || null });
      return result;
    });
    await this.refresh().catch((error: unknown) => {
      throw new Error(`re-listing ${this.workspace} after verifying: ${errorMessage(error)}`);
    });
    return { results, warnings: [] };
  }
}
