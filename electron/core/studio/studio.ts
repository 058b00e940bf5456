// The application core: StudioApi over one workspace's store, its watcher and a trainer
// supervisor. The CLI, the Electron app and browser mode are thin adapters over this object;
// whatever a user can do is done here, once.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import {
  type CatalogEvent,
  type CatalogSnapshot,
  type S3Connection,
  type SessionEvent,
  type StudioApi,
  type StudioEventName,
  type StudioListener,
  type StudioMethod,
  type StudioResult,
  type TrainingStatus,
  studioMethods,
  StudioError,
} from '../../contract.js';
import { NotFoundError, RefusedError } from '../base/errors.js';
import { readRunMeta } from '../checkpoint/run-files.js';
import { CheckpointStore } from '../checkpoint/store.js';
import type { CatalogTable } from '../checkpoint/catalog-table.js';
import { type StoredWatch, StoredWorkspace } from '../checkpoint/stored-store.js';
import { isS3Address } from '../storage/open-s3.js';
import type { WorkspaceWatcher } from '../checkpoint/watcher.js';
import { ResumeVerifier } from '../training/process/resume-verifier.js';
import { TrainerSupervisor } from '../training/process/supervisor.js';
import type { ChildLauncher, LaunchSpec } from '../training/process/trainer-launcher.js';
import { errorData, toStudioError } from './errors.js';
import { uploadRun } from '../checkpoint/stored-copy.js';
import { withCheckpointFromBucket, withSourcesFromBuckets } from './bucket-sources.js';
import { StudioEvents } from './events.js';
import { Imports } from './import.js';
import { inspectStored, inspectTarget } from './inspect.js';
import { describeSource } from './describe-source.js';
import { Comparisons } from './compare.js';
import { cancelDistributions, tensorDistributions, tensorNames } from './distributions.js';
import { exportCheckpoint } from '../export/export-checkpoint.js';
import { storedForeignParts } from '../formats/stored-foreign.js';
import { createInPlaceLayouts } from '../layouts/in-place-layouts.js';
import { TargetLocator } from './locate.js';
import { checkpointMarks } from './marks.js';
import { checkFiles } from './check-files.js';
import { LiveRuns } from './live-runs.js';
import { MetricSeriesReader } from './metric-series.js';
import { inPlaceMetricPage, inPlaceRunMeta, readMetricPage } from './metric-history.js';
import { SettingsFile } from './settings-file.js';
import { type PreparedTraining, prepareContinuation, prepareNewRun, prepareVerifyResume } from './training-requests.js';
import { verifyStoredTargets, verifyTargets } from './verify.js';
import { exportStoredInPlace, inspectStoredInPlace, storedRunConfig } from './in-place-s3.js';

export interface StudioOptions {
  /** How the trainer process is started (child_process.fork by default; utilityProcess in Electron). */
  readonly launcher?: ChildLauncher;
  readonly trainerModule?: LaunchSpec;
  /** Keep the catalog current from the file system (the app, browser mode); one-shot commands need not. */
  readonly watch?: boolean;
  /**
   * Shows a folder in the desktop's file manager (Electron's shell, or the platform's opener in
   * browser mode); resolves false where there is none. Without it revealInFolder opens nothing.
   */
  readonly revealFolder?: (folder: string) => Promise<boolean>;
  /** Where the user's settings are kept (see userSettingsFile); without one they last as long as this Studio. */
  readonly settingsFile?: string;
}

/** Each method receives its parameters as the contract's schema parsed them (defaults filled in). */
type Handlers = { [M in StudioMethod]: (params: z.output<(typeof studioMethods)[M]['params']>) => Promise<StudioResult<M>> };

export class Studio {
  private store: CheckpointStore | null = null;
  /** A workspace in S3 (issue 18), instead of `store`; at most one of them is open. */
  private remote: StoredWorkspace | null = null;
  private remoteWatch: StoredWatch | null = null;
  private readOnly = false;
  /** The quiet period the open workspace was opened with, instead of the setting; null: the setting. */
  private quietOverride: number | null = null;
  private watcher: WorkspaceWatcher | null = null;
  private unsubscribeCatalog: (() => void) | null = null;
  /** The open workspace's runs as their logs grow (issue 17, live). */
  private live: LiveRuns | null = null;
  private readonly events = new StudioEvents();
  private readonly series = new MetricSeriesReader();
  private readonly supervisor: TrainerSupervisor;
  private readonly verifier: ResumeVerifier;
  private trainingRun: string | null = null;
  private readonly settings: SettingsFile;
  private readonly imports = new Imports((event, payload) => this.events.emit(event, payload));
  private readonly comparisons = new Comparisons((progress) => this.events.emit('compare:progress', progress));
  /** The StudioApi: every method validates its parameters with the contract, and fails only with StudioErrors. */
  readonly api: StudioApi;

  constructor(private readonly options: StudioOptions = {}) {
    const trainer = { ...(options.launcher ? { launcher: options.launcher } : {}), ...(options.trainerModule ? { module: options.trainerModule } : {}) };
    this.supervisor = new TrainerSupervisor(trainer);
    this.verifier = new ResumeVerifier(trainer);
    this.settings = new SettingsFile(options.settingsFile ?? null, (message) => this.events.emit('warning', { message }));
    this.forwardTraining();
    this.api = this.buildApi();
  }

  /** The open workspace's path; null before openWorkspace. */
  get workspace(): string | null {
    return this.store?.root ?? this.remote?.root ?? null;
  }

  on<E extends StudioEventName>(event: E, listener: StudioListener<E>): () => void {
    return this.events.on(event, listener);
  }

  /** Cancels imports and a replay, stops watching and, if a trainer runs, stops it gracefully (it saves first). */
  async close(): Promise<void> {
    this.imports.cancelAll();
    this.comparisons.cancelAll();
    await this.verifier.close();
    await this.supervisor.stop();
    await this.closeWorkspace();
    await this.series.close();
  }

  private buildApi(): StudioApi {
    const handlers = this.handlers();
    const api = { on: <E extends StudioEventName>(event: E, listener: StudioListener<E>) => this.on(event, listener) } as Record<string, unknown>;
    for (const method of Object.keys(studioMethods) as StudioMethod[]) {
      api[method] = async (params?: unknown) => {
        try {
          const parsed: unknown = studioMethods[method].params.parse(params);
          return await (handlers[method] as (p: unknown) => Promise<unknown>)(parsed);
        } catch (error) {
          throw toStudioError(error);
        }
      };
    }
    return api as StudioApi;
  }

  private requireStore(): CheckpointStore {
    if (this.remote)
      throw new StudioError('refused', `not available yet for a workspace in S3 (${this.remote.root}); copy the checkpoints to a folder with \`export\` first`);
    if (!this.store) throw new StudioError('usage', 'no workspace is open');
    return this.store;
  }

  /** The open workspace's catalog, wherever it lives. */
  private requireCatalog(): { readonly catalog: CatalogTable & { snapshot(): CatalogSnapshot }; readonly root: string } {
    const open = this.remote ?? this.store;
    if (!open) throw new StudioError('usage', 'no workspace is open');
    return open;
  }

  /** The open workspace in S3, when that is what is open and the call may change it. */
  private writableRemote(): StoredWorkspace | null {
    if (this.remote && this.readOnly) throw new StudioError('usage', `the workspace ${this.remote.root} was opened read-only`);
    return this.remote;
  }

  /**
   * The store once every change already asked of its catalog has landed (a trainer's last save,
   * seen a moment ago): `latest` and a continuation then mean what the caller just saw happen.
   */
  private async settledStore(): Promise<CheckpointStore> {
    const store = this.requireStore();
    await store.catalog.settled();
    return store;
  }

  private requireWritable(): CheckpointStore {
    const store = this.requireStore();
    if (this.readOnly) throw new StudioError('usage', `the workspace ${store.root} was opened read-only`);
    return store;
  }

  private async closeWorkspace(): Promise<void> {
    this.unsubscribeCatalog?.();
    this.unsubscribeCatalog = null;
    await this.watcher?.close();
    this.watcher = null;
    this.live?.close();
    this.live = null;
    // The catalog's index records still queued land now, not after the workspace was let go (a
    // closed Studio writes nothing more; a failed write was already said).
    await this.store?.catalog.settled().catch(() => undefined);
    this.store = null;
    await this.remoteWatch?.close();
    this.remoteWatch = null;
    this.remote?.close();
    this.remote = null;
    this.series.reset();
  }

  private snapshot(store: { readonly catalog: { snapshot(): CatalogSnapshot } }): CatalogSnapshot {
    return store.catalog.snapshot();
  }

  private forwardCatalog(store: { readonly catalog: CatalogTable }): void {
    const offCatalog = store.catalog.subscribe((event: CatalogEvent) => {
      if (event.type === 'removed') this.events.emit('catalog:removed', { id: event.id, run: event.run, step: event.step });
      else this.events.emit(event.type === 'added' ? 'catalog:added' : 'catalog:changed', event.checkpoint);
    });
    const offMetrics = store.catalog.onMetrics((run, records) => this.events.emit('metrics:appended', { run, records: [...records] }));
    this.unsubscribeCatalog = () => {
      offCatalog();
      offMetrics();
    };
  }

  private forwardTraining(): void {
    this.supervisor.on('event', (event) => {
      this.events.emit('training:event', event);
      this.followTraining(event);
    });
    this.supervisor.on('state', (state) => {
      this.events.emit('training:state', this.status());
      // The trainer is gone, and with it the lock that protected its run's checkpoints.
      if (state === 'exited' || state === 'crashed') this.followRun((store, run) => store.catalog.refreshRunState(run));
    });
    this.supervisor.on('crashed', (crash) =>
      this.events.emit('training:crashed', { code: crash.code, signal: crash.signal, stderrTail: [...crash.stderrTail] }),
    );
    this.supervisor.on('log', (log) => this.events.emit('training:log', { level: log.level, text: log.text }));
    this.supervisor.on('error', (error) =>
      this.events.emit('training:error', { code: error.code ?? 'internal', message: error.message, fatal: error.fatal ?? false }),
    );
  }

  /**
   * The trainer writes the workspace from another process: what it reports is re-read at once, so
   * the catalog (and its events) follow training even where no watcher runs.
   */
  private followTraining(event: SessionEvent): void {
    // In S3 a save is seen by listing again: at once, rather than at the next poll.
    const remote = this.remote;
    if (remote && (event.type === 'checkpoint' || event.type === 'started' || event.type === 'finished')) {
      remote.catalog.refresh().catch((error: unknown) => this.events.emit('warning', { message: `listing ${remote.root}: ${toStudioError(error).message}` }));
      return;
    }
    if (event.type === 'checkpoint') this.followRun((store, run) => store.catalog.refreshCheckpoint(run, path.basename(event.path)));
    else if (event.type === 'started' || event.type === 'finished') this.followRun((store, run) => store.catalog.refreshRun(run));
  }

  /**
   * Asks the catalog to re-read the training's run. The catalog applies its changes one at a time,
   * in order, with the watcher's and the store's; stop and kill wait for them (catalog.settled),
   * so what they return is current.
   */
  private followRun(refresh: (store: CheckpointStore, run: string) => Promise<void>): void {
    const store = this.store;
    const run = this.trainingRun;
    if (!store || !run) return;
    refresh(store, run).catch((error: unknown) => this.events.emit('warning', { message: `re-reading run ${run}: ${toStudioError(error).message}` }));
  }

  private status(): TrainingStatus {
    const exit = this.supervisor.lastExit;
    return { state: this.supervisor.state, run: this.trainingRun, lastExit: exit ? { code: exit.code, signal: exit.signal } : null };
  }

  private async launch(prepared: PreparedTraining): Promise<StudioResult<'startTraining'>> {
    // Its points come as events: the watcher must not send them again from its log.
    this.live?.trainerWrites(prepared.started.run);
    await this.supervisor.start(prepared.request);
    this.trainingRun = prepared.started.run;
    for (const note of prepared.started.notes) this.events.emit('warning', { message: note });
    this.events.emit('training:state', this.status());
    return prepared.started;
  }

  /** Every method of the StudioApi, by area; the type checks that none is missing. */
  private handlers(): Handlers {
    return {
      ...this.workspaceHandlers(),
      ...this.checkpointHandlers(),
      ...this.deletionHandlers(),
      ...this.trainingHandlers(),
      ...this.exchangeHandlers(),
      ...this.compareHandlers(),
      ...this.distributionHandlers(),
      ...this.seriesHandlers(),
    };
  }

  /** Issue 17 (columns): a run's history by range and resolution. */
  private seriesHandlers(): Pick<Handlers, 'metricSeries'> {
    return {
      metricSeries: async ({ run, ...query }) => {
        if (this.remote) return this.series.ofRecords(run, this.remoteRun(run).catalog.history(run), query);
        const store = this.requireStore();
        if (!store.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${store.root}`);
        if (store.catalog.isInPlace(run)) return this.series.ofRecords(run, store.catalog.inPlaceHistory(run), query);
        return this.series.ofRun(run, store.runDir(run), !this.readOnly, query);
      },
    };
  }

  /** Distributions over time, read from a run's checkpoint files (issue 17). */
  private distributionHandlers(): Pick<Handlers, 'tensorNames' | 'tensorDistributions' | 'cancelDistributions'> {
    return {
      tensorNames: async ({ run }) => tensorNames(this.remote ?? (await this.settledStore()), run),
      tensorDistributions: async ({ run, tensor, bins, distributionsId }) =>
        tensorDistributions(this.remote ?? (await this.settledStore()), { run, tensor, bins, readOnly: this.readOnly, distributionsId }, (progress) =>
          this.events.emit('distributions:progress', progress),
        ),
      cancelDistributions: async ({ distributionsId }) => ({ cancelled: cancelDistributions(this.remote ?? this.store, distributionsId) }),
    };
  }

  /** The workspace and what the app remembers for its user. */
  private workspaceHandlers(): Pick<Handlers, 'openWorkspace' | 'snapshot' | 'listRuns' | 'listCheckpoints' | 'settings' | 'updateSettings'> {
    return {
      openWorkspace: async ({ path, create, readOnly, quietSeconds, s3 }) => {
        if (create && readOnly) throw new StudioError('usage', 'a workspace cannot be created read-only');
        if (isS3Address(path)) return this.openRemote(path, { readOnly, ...(s3 ? { s3 } : {}), ...(quietSeconds !== undefined ? { quietSeconds } : {}) });
        if (s3) throw new StudioError('usage', `S3 settings were given, but ${path} is not an s3:// address`);
        this.quietOverride = quietSeconds ?? null;
        const store = await CheckpointStore.open(path, {
          quietMs: (quietSeconds ?? (await this.settings.read()).quietSeconds) * 1000,
          access: create ? 'create' : readOnly ? 'read' : 'write',
          foreign: storedForeignParts,
          layouts: createInPlaceLayouts(),
        });
        // A one-shot command answers once: it waits for the catalog's checks left for after an open (a manifest edited in place), which the app hears of as events.
        if (!this.options.watch) await store.catalog.settled();
        await this.closeWorkspace();
        this.store = store;
        this.readOnly = Boolean(readOnly);
        this.forwardCatalog(store);
        const live = new LiveRuns(
          (event, payload) => this.events.emit(event, payload),
          (run) => store.runDir(run),
        );
        this.live = live;
        if (this.supervisor.state !== 'idle' && this.trainingRun) live.trainerWrites(this.trainingRun);
        if (this.options.watch) {
          this.watcher = await store.watch({
            onMetrics: live.appended,
            onError: (error) => this.events.emit('warning', { message: `watching ${store.root}: ${toStudioError(error).message}` }),
          });
          // Issue 17 (columns): the app's first chart need not wait for the metric reader to start.
          this.series.warm();
        }
        const snapshot = this.snapshot(store);
        this.events.emit('catalog:reset', snapshot);
        // Remembering it is a convenience: a settings file that cannot be written does not undo the open.
        await this.settings.update({ openedWorkspace: store.root }).catch((error: unknown) => {
          this.events.emit('warning', { message: `remembering ${store.root} among recent workspaces: ${toStudioError(error).message}` });
        });
        return snapshot;
      },
      snapshot: async () => this.snapshot(this.requireCatalog()),
      listRuns: async () => this.requireCatalog().catalog.listRuns(),
      listCheckpoints: async ({ run }) => {
        const store = this.requireCatalog();
        if (run !== undefined && !store.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${store.root}`);
        return store.catalog.list(run);
      },
      settings: async () => this.settings.read(),
      updateSettings: async ({ view, forgetWorkspaces, quietSeconds }) => {
        const settings = await this.settings.update({
          ...(view ? { view } : {}),
          ...(forgetWorkspaces ? { forgetWorkspaces } : {}),
          ...(quietSeconds !== undefined ? { quietSeconds } : {}),
        });
        if (this.store && this.quietOverride === null) this.store.quietMs = settings.quietSeconds * 1000;
        if (this.remote && this.quietOverride === null) this.remote.quietMs = settings.quietSeconds * 1000;
        return settings;
      },
    };
  }

  /** Reading checkpoints: where they are, what they hold, which to call latest or best. */
  private checkpointHandlers(): Pick<
    Handlers,
    'inspect' | 'verify' | 'latest' | 'best' | 'marks' | 'pin' | 'unpin' | 'metricHistory' | 'revealInFolder' | 'runConfig' | 'runProgress' | 'checkFiles'
  > {
    return {
      inspect: async ({ target }) =>
        this.remote
          ? ((await inspectStoredInPlace(this.remote, target)) ?? inspectStored(this.remote, target))
          : inspectTarget(new TargetLocator(this.store), target),
      verify: async ({ targets }) =>
        this.remote ? verifyStoredTargets(this.remote, targets) : verifyTargets(this.store, new TargetLocator(this.store), targets),
      latest: async ({ run }) => (this.remote ?? (await this.settledStore())).resolve('latest', run !== undefined ? { run } : {}),
      best: async ({ metric, mode, run }) =>
        (this.remote ?? (await this.settledStore())).resolve('best', { metric, mode, ...(run !== undefined ? { run } : {}) }),
      marks: async ({ metric, mode }) => checkpointMarks(this.requireCatalog().catalog, metric !== undefined ? { metric, mode } : undefined),
      pin: async ({ ids }) => this.setPinned(ids, true),
      unpin: async ({ ids }) => this.setPinned(ids, false),
      metricHistory: async ({ run, after, limit }) => {
        if (this.remote) return inPlaceMetricPage(this.remoteRun(run).catalog.history(run), run, after, limit);
        const store = this.requireStore();
        if (!store.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${store.root}`);
        if (store.catalog.isInPlace(run)) return inPlaceMetricPage(store.catalog.inPlaceHistory(run), run, after, limit);
        return readMetricPage(store.runDir(run), run, after, limit);
      },
      revealInFolder: async ({ target }) => {
        const store = this.requireStore();
        // Only what the catalog lists: an id, a step selector, or the folder of one of its checkpoints.
        const checkpoint = store.resolve(target);
        const opened = this.options.revealFolder ? await this.options.revealFolder(checkpoint.path) : false;
        return { path: checkpoint.path, opened };
      },
      runConfig: async ({ run }) => {
        if (this.remote) return storedRunConfig(this.remote, run);
        const store = this.requireStore();
        const info = store.catalog.getRun(run);
        if (info && info.layout !== 'studio') return inPlaceRunMeta(info, store.catalog.inPlaceConfig(run));
        const meta = await readRunMeta(store.runDir(run));
        if (!meta) throw new NotFoundError(store.runDir(run), 'no run.json: not a run this program created');
        return meta;
      },
      runProgress: async ({ run }) => {
        // A run in S3 shows its progress by its metrics parts and checkpoints, as the listing finds them.
        if (this.remote) return null;
        const store = this.requireStore();
        const info = store.catalog.getRun(run);
        if (info && info.layout !== 'studio') return null;
        return (this.live as LiveRuns).progress(run);
      },
      checkFiles: async ({ ids }) => checkFiles(this.requireStore(), ids),
    };
  }

  /** Retention, deletion and the trash. */
  private deletionHandlers(): Pick<
    Handlers,
    | 'makeLatest'
    | 'planRetention'
    | 'applyRetention'
    | 'setRetentionPolicy'
    | 'deleteCheckpoints'
    | 'listTrash'
    | 'restoreFromTrash'
    | 'undoDelete'
    | 'purgeTrash'
  > {
    return {
      planRetention: async ({ run, policy }) => {
        const store = this.remote ?? this.requireStore();
        const runs = run !== undefined ? [run] : store.catalog.listRuns().map((r) => r.name);
        const plans = [];
        for (const name of runs) plans.push(await store.planRetention(name, policy ? { policy } : {}));
        return plans;
      },
      applyRetention: async ({ plans }) => {
        const store = this.writableRemote() ?? this.requireWritable();
        const trashed = [];
        for (const plan of plans) if (plan.delete.length > 0) trashed.push(...(await store.applyRetention(plan)));
        return trashed;
      },
      setRetentionPolicy: async ({ run, allRuns, policy }) => {
        const store = this.writableRemote() ?? this.requireWritable();
        if (run === undefined && !allRuns) throw new StudioError('usage', 'name the run the policy is for, or say it is for all runs');
        if (run !== undefined && allRuns) throw new StudioError('usage', 'a policy is for one run or for all runs, not both');
        const runs = run !== undefined ? [run] : store.catalog.listRuns().map((r) => r.name);
        for (const name of runs) {
          if (!store.catalog.getRun(name)) throw new NotFoundError(name, `no such run in ${store.root}`);
          await store.setPolicy(name, policy);
        }
        return runs;
      },
      deleteCheckpoints: async ({ targets }) => (this.writableRemote() ?? this.requireWritable()).delete(targets),
      makeLatest: async ({ target }) => {
        const remote = this.writableRemote();
        if (remote) return remote.makeLatest(target);
        return this.requireWritable().makeLatest(target);
      },
      listTrash: async () => {
        const listing = await (this.remote ?? this.requireStore()).inspectTrash();
        return { entries: [...listing.entries], problems: [...listing.problems], bytes: listing.entries.reduce((s, e) => s + e.bytes, 0) };
      },
      restoreFromTrash: async ({ ids }) => (this.writableRemote() ?? this.requireWritable()).restoreFromTrash(ids),
      undoDelete: async ({ batch }) => (this.writableRemote() ?? this.requireWritable()).undo(batch),
      purgeTrash: async ({ olderThanMs, batches }) => {
        const result = await (this.writableRemote() ?? this.requireWritable()).purgeTrash({
          ...(olderThanMs !== undefined ? { olderThanMs } : {}),
          ...(batches ? { batches } : {}),
        });
        return { purged: result.purged, bytes: result.bytes, problems: [...result.problems] };
      },
    };
  }

  /** The trainer: starting, steering and stopping it, and replaying a checkpoint to prove it resumes exactly. */
  private trainingHandlers(): Pick<
    Handlers,
    'startTraining' | 'continueTraining' | 'pauseTraining' | 'resumeTraining' | 'saveNow' | 'stopTraining' | 'killTraining' | 'trainingStatus' | 'verifyResume'
  > {
    return {
      startTraining: async (params) => this.launch(await prepareNewRun(this.writableRemote() ?? this.requireWritable(), params)),
      continueTraining: async (params) => {
        const remote = this.writableRemote();
        if (remote) await remote.catalog.refresh();
        else await this.settledStore();
        return this.launch(await prepareContinuation(remote ?? this.requireWritable(), params));
      },
      pauseTraining: async () => {
        this.requireTrainer('pause').pause();
        return this.status();
      },
      resumeTraining: async () => {
        this.requireTrainer('resume').resume();
        return this.status();
      },
      saveNow: async () => {
        this.requireTrainer('save').saveNow();
        return this.status();
      },
      stopTraining: async () => {
        await this.supervisor.stop();
        await this.store?.catalog.settled();
        return this.status();
      },
      killTraining: async () => {
        await this.supervisor.kill();
        await this.store?.catalog.settled();
        return this.status();
      },
      trainingStatus: async () => this.status(),
      verifyResume: async (params) => this.verifier.verify(prepareVerifyResume(this.remote ?? this.requireStore(), params)),
    };
  }

  /** Other programs' checkpoints: describing, importing and exporting them. */
  private exchangeHandlers(): Pick<Handlers, 'importFolders' | 'cancelImport' | 'describeSources' | 'exportCheckpoint'> {
    return {
      importFolders: async (params) => {
        const remote = this.writableRemote();
        if (remote) return this.importIntoBucket(remote, params);
        const store = this.requireWritable();
        if (!params.sources.some(isS3Address)) return this.imports.run(store, params);
        return withSourcesFromBuckets(params.sources, params.s3, (sources) => this.imports.run(store, { ...params, sources }));
      },
      exportCheckpoint: async (params) => {
        const remote = this.remote;
        if (!remote) return exportCheckpoint(new TargetLocator(this.store), params);
        const inPlace = await exportStoredInPlace(remote, params);
        if (inPlace) return inPlace;
        const checkpoint = remote.resolve(params.target);
        return withCheckpointFromBucket(remote.storage, checkpoint.id, (folder) => exportCheckpoint(new TargetLocator(null), { ...params, target: folder }));
      },
      cancelImport: async ({ importId }) => ({ cancelled: this.imports.cancel(importId) }),
      describeSources: async ({ sources }) => Promise.all(sources.map((source) => describeSource(source))),
    };
  }

  /** Two checkpoints compared tensor by tensor (issue 17). */
  private compareHandlers(): Pick<Handlers, 'compareCheckpoints' | 'cancelCompare'> {
    return {
      compareCheckpoints: async ({ metric, mode, ...params }) => {
        // latest and best as after a trainer's last save just reported.
        const store = this.store ? await this.settledStore() : null;
        const open = store ?? this.remote;
        const best = (target: string): string =>
          target === 'best' && open ? open.resolve('best', { ...(metric !== undefined ? { metric } : {}), mode }).id : target;
        return this.comparisons.run(new TargetLocator(store), params, best, this.remote);
      },
      cancelCompare: async ({ compareId }) => ({ cancelled: this.comparisons.cancel(compareId) }),
    };
  }

  /** Opens a workspace in S3: listed now, re-listed every 2 s while the app watches it. */
  private async openRemote(address: string, options: { readOnly: boolean; s3?: S3Connection; quietSeconds?: number }): Promise<CatalogSnapshot> {
    // Another program's folder there is changed only once quiet (stored-in-place-delete.ts), as on disk.
    const quietMs = (options.quietSeconds ?? (await this.settings.read()).quietSeconds) * 1000;
    const remote = await StoredWorkspace.open(address, {
      access: options.readOnly ? 'read' : 'write',
      ...(options.s3 ? { connection: options.s3 } : {}),
      layouts: createInPlaceLayouts(),
    });
    remote.quietMs = quietMs;
    await this.closeWorkspace();
    this.remote = remote;
    this.quietOverride = options.quietSeconds ?? null;
    this.readOnly = options.readOnly;
    this.forwardCatalog(remote);
    if (this.options.watch) {
      this.remoteWatch = remote.watch({
        onError: (error) => this.events.emit('warning', { message: `listing ${remote.root}: ${toStudioError(error).message}` }),
      });
      if (!options.readOnly) this.cleanUpAfterDeadWriters(remote);
    }
    const snapshot = this.snapshot(remote);
    this.events.emit('catalog:reset', snapshot);
    await this.settings.update({ openedWorkspace: remote.root }).catch((error: unknown) => {
      this.events.emit('warning', { message: `remembering ${remote.root} among recent workspaces: ${toStudioError(error).message}` });
    });
    return snapshot;
  }

  /**
   * Into a workspace in S3: the sources are imported as into any workspace, in a staging folder of
   * this machine (every format, every check), then each imported run goes up as a save would.
   */
  private async importIntoBucket(remote: StoredWorkspace, params: Parameters<Handlers['importFolders']>[0]): Promise<StudioResult<'importFolders'>> {
    if (params.mode === 'link')
      throw new StudioError('usage', `${remote.root}: a workspace in S3 holds copies; a link reads a folder where it lies, which a bucket cannot`);
    const staging = await mkdtemp(path.join(os.tmpdir(), 'checkpoint-studio-import-'));
    try {
      const local = await CheckpointStore.open(staging, { foreign: storedForeignParts });
      // The bucket's runs as they are now: a name another process took a moment ago is taken.
      await remote.catalog.refresh();
      const destination = { locate: (run: string) => remote.storage.locate(`${run}/`), hasRun: (run: string) => remote.catalog.getRun(run) !== undefined };
      const report = await this.imports.run(local, { ...params, mode: 'copy' }, destination);
      const results: StudioResult<'importFolders'>['results'] = [];
      for (const result of report.results) {
        if (!result.ok) {
          results.push(result);
          continue;
        }
        try {
          const names = result.checkpoints.map((id) => id.slice(result.run.length + 1));
          await uploadRun(remote.storage, local.runDir(result.run), result.run, names);
          results.push({ ...result, notes: [...result.notes, `copied into ${remote.root}`] });
        } catch (error) {
          results.push({ ok: false, source: result.source, format: result.format, error: errorData(error) });
        }
      }
      await remote.catalog.refresh();
      return { ...report, results };
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /** In the background: what writers killed mid-save left in the bucket goes once their lease has run out; the user hears what went. */
  private cleanUpAfterDeadWriters(remote: StoredWorkspace): void {
    remote.cleanup().then(
      (result) => {
        if (result.removed.length > 0)
          this.events.emit('warning', {
            message: `${remote.root}: removed ${result.removed.length} object${result.removed.length === 1 ? '' : 's'} and uploads a writer killed mid-save left (never listed as checkpoints)`,
          });
      },
      (error: unknown) => this.events.emit('warning', { message: `cleaning up after dead writers in ${remote.root}: ${toStudioError(error).message}` }),
    );
  }

  private remoteRun(run: string): StoredWorkspace {
    const remote = this.remote as StoredWorkspace;
    if (!remote.catalog.getRun(run)) throw new NotFoundError(run, `no such run in ${remote.root}`);
    return remote;
  }

  private requireTrainer(what: string): TrainerSupervisor {
    const state = this.supervisor.state;
    if (state !== 'starting' && state !== 'running' && state !== 'paused')
      throw new StudioError('refused', `nothing to ${what}: no training is running (${state})`);
    return this.supervisor;
  }

  private async setPinned(ids: readonly string[], pinned: boolean): Promise<StudioResult<'pin'>> {
    const store = this.writableRemote() ?? this.requireWritable();
    const done = [];
    for (const id of ids) {
      await store.setPinned(id, pinned);
      const checkpoint = store.catalog.get(store.resolve(id).id);
      if (!checkpoint) throw new RefusedError(id, 'disappeared while being pinned');
      done.push(checkpoint);
    }
    return done;
  }
}
